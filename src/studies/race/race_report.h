// Views of a race: the loss-against-step figure and the results table.
#pragma once

#include <string>
#include <vector>

#include "train/loss_curve.h"

namespace sigprop {

struct RaceRow {
  std::string preset;
  double lr = 0;
  std::string status;        // completed | diverged | interrupted (of the worst seed)
  int64_t step = 0;          // steps completed (min over seeds)
  int seeds = 0;             // runs averaged into the row
  double train_loss = NAN;   // seed means
  double val_loss = NAN;
  int64_t reach_step = -1;   // first step at the reference loss; -1 = never
  double reach_ratio = NAN;  // reach_step / reference step
  LossCurve curve;           // seed-mean training loss as logged (or smoothed, RaceMeasure)
};

// The one curve a race is judged on: the logged window-mean training loss, or its trailing
// moving average over `smooth` logged points when smooth > 1. It feeds the table's train column,
// the figure and the steps-to-reach measure alike, and their labels name it.
struct RaceMeasure {
  int smooth = 1;
  LossCurve apply(const LossCurve& logged) const;
  std::string label() const;  // "training loss" or "training loss, 5-point moving average"
};

// Sets every row's reach_step and reach_ratio: the first step at which its curve is at or below
// the reference preset's curve at `reference_step` (the row named `reference`, else the first
// labelled "reference[...]"). Returns that target loss (NaN when the
// reference is not among the rows; then nothing is reached).
double measure_reach(std::vector<RaceRow>& rows, const std::string& reference,
                     int64_t reference_step);

std::string race_table(const std::vector<RaceRow>& rows, const RaceMeasure& measure,
                       const std::string& reference, int64_t reference_step, double target);
// Not reached: reach_step and reach_ratio both empty.
std::string race_csv(const std::vector<RaceRow>& rows);
// Training loss against step (log x, drawn to the last step), one curve per row, the reference
// loss as a line.
std::string race_plot_script(const std::vector<RaceRow>& rows, const RaceMeasure& measure,
                             double target, const std::string& title);

}  // namespace sigprop
