// Views of a race: the loss-against-step figure and the results table.
#pragma once

#include <string>
#include <vector>

#include "train/race.h"

namespace sigprop {

struct RaceRow {
  std::string preset;
  double lr = 0;
  std::string status;        // completed | diverged | interrupted (of the worst seed)
  int64_t step = 0;          // steps completed (min over seeds)
  double train_loss = NAN;   // seed means
  double val_loss = NAN;
  int64_t reach_step = -1;   // first step at the reference loss; -1 = never
  double reach_ratio = NAN;  // reach_step / reference step
  LossCurve curve;           // seed-mean training loss
};

std::string race_table(const std::vector<RaceRow>& rows, const std::string& reference,
                       int64_t reference_step, double target);
std::string race_csv(const std::vector<RaceRow>& rows);
// Training loss against step (log x), one curve per row, the reference loss as a line.
std::string race_plot_script(const std::vector<RaceRow>& rows, double target,
                             const std::string& title);

}  // namespace sigprop
