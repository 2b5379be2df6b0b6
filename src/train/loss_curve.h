// Comparing training runs: loss curves from train.jsonl, and "steps to reach a reference loss",
// the measure paper 001 (He et al. 2023) uses to compare vanilla and standard transformers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sigprop {

struct LossCurve {
  std::vector<int64_t> step;
  std::vector<double> loss;  // window-mean training loss at each logged step
};

// Reads the training-loss points of a run's train.jsonl (throws DataError naming the file).
LossCurve read_loss_curve(const std::string& train_jsonl);

// Trailing moving average over `window` logged points.
LossCurve smooth(const LossCurve& curve, int window = 5);

// Pointwise mean of curves logged at the same steps (several seeds), up to the shortest.
LossCurve mean_curve(const std::vector<LossCurve>& curves);

// The curve's value at the last logged step <= `step` (NaN if none).
double loss_at(const LossCurve& curve, int64_t step);

// First logged step whose loss is <= `target`; -1 if the curve never gets there.
int64_t steps_to_reach(const LossCurve& curve, double target);

}  // namespace sigprop
