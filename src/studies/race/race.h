// A race: several models trained on the same data, seeds and budget, each at its best learning
// rate from a grid, compared by their loss curves and by "steps to reach the reference's loss"
// (paper 001's measure). Resumable: finished runs are reused, interrupted ones continue from
// their checkpoints. The tables and figure are in race_report.h.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/model_spec.h"
#include "core/progress.h"
#include "studies/race/race_report.h"
#include "train/distributed.h"
#include "train/train_config.h"

namespace sigprop {

struct RaceOptions {
  std::vector<ModelSpec> specs;  // at their race depth
  TrainConfig config;            // lr and seed are set per run
  std::vector<double> lr_grid;   // empty: config.lr alone
  int seeds = 1;                 // seeds 0..seeds-1 per (spec, lr); curves are averaged
  // Further seeds (seeds..seeds+confirm_seeds-1) at each spec's chosen lr alone, averaged into
  // its row: the lr is chosen on the first seeds and the result confirmed on fresh ones.
  int confirm_seeds = 0;
  std::string reference = "pre-ln";
  int64_t reach_step = 0;        // step of the reference loss; 0 = the last
  RaceMeasure measure;
  std::string out = "runs/race";
  torch::Device device = torch::kCPU;
  // Data parallel: every run of the race trained by all ranks of this group; rank 0 alone writes
  // the race's files (the others return an empty result). Null: one process.
  std::shared_ptr<Communicator> comm;
};
// Throws ConfigError naming the option (and the spec, with its depth, when one cannot be built).
void validate(const RaceOptions& options);

struct RaceResult {
  std::vector<RaceRow> best;  // per spec, its best lr (by validation loss)
  double target = NAN;        // the reference's loss at reach_step (NaN without the reference)
  int64_t reach_step = 0;
  bool interrupted = false;   // `stop` was raised: rerun to continue; nothing was written
};

// Trains every (spec, lr, seed) in <out>/runs/<name>/lr<lr>/seed<seed>, then writes race.csv,
// run.json and race.png/svg into `out`. `log` receives one line per run; `stop` (Ctrl-C) ends
// the race after the current run's checkpoint.
RaceResult run_race(const RaceOptions& options, const LogFn& log = nullptr,
                    const std::atomic<bool>* stop = nullptr);

}  // namespace sigprop
