// `sigprop theory escalation`: token similarity escalation in post-LN stacks (Yu & Zhang 2023,
// paper 000). A row-stochastic A has A1 = 1: span(1) is invariant and the rest of the token
// space is contracted by about |λ₂(A)| per application, so t_div = 1 − t_sim = |PX|²_F/|X|²_F
// shrinks geometrically with depth ("linear rate"); removing the mean token, Y ← (I − τΠ)Y,
// stops it. Measured per layer through the probe (probe/probe.h): the t_div ratio of each block
// beside the |λ₂| of its attention, and a fitted geometric rate, with and without the fix.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "probe/probe_input.h"
#include "math/stats.h"

namespace sigprop {

struct EscalationOptions {
  std::vector<ModelSpec> specs;  // default (CLI): post-ln and post-ln-simremove
  int depth = 32;
  int64_t seq = 64, batch = 8;
  int seeds = 2;             // initialisations, with seeds first_seed .. first_seed + seeds − 1
  uint64_t first_seed = 0;
  ProbeInput input = ProbeInput::Gaussian;
  double floor = 1e-9;  // t_div below this is float32 noise: fits stop there
};
void validate(const EscalationOptions& o);  // throws ConfigError naming the option

struct EscalationLayer {
  std::string preset;
  int layer = 0;
  double t_div = 0;    // mean over seeds
  double ratio = 0;    // t_div_l / t_div_{l−1}, geometric mean over seeds (NaN at layer 0)
  double lambda2 = 0;  // |λ₂| of this block's attention, mean over seeds, batch and heads
};

struct EscalationFit {
  std::string preset;
  int layers_fitted = 0;       // layers 0..k with t_div above the floor
  LineFit log_fit;             // log t_div = a + b·layer
  double rate = 0;             // e^b: the fitted geometric contraction of t_div per block
  double lambda2_mean = 0;     // over the fitted blocks
  double lambda2_sq_mean = 0;  // |λ₂|², the contraction of a squared norm by A alone
};

struct EscalationStudy {
  EscalationOptions options;
  std::vector<EscalationLayer> layers;
  std::vector<EscalationFit> fits;
};

EscalationStudy run_escalation_study(
    const EscalationOptions& o,
    const std::function<void(int, int, const std::string&)>& progress = nullptr);

}  // namespace sigprop
