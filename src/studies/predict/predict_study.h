// What `sigprop predict` runs: the kernel recursion (studies/predict/predict.h) for each spec,
// optionally beside the probe at several widths (--compare-probe), and trainability maps over the
// residual branch scale α and the logit scale, with a sparse check of the map by probing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "probe/probe_input.h"
#include "studies/predict/predict.h"

namespace sigprop {

struct PredictStudyOptions {
  std::vector<ModelSpec> specs;  // depth and width as given
  ProbeInput input = ProbeInput::KJV;
  int seq = 64, batch = 8;
  PredictOptions predict;
  // --compare-probe: the probe at each width, `seeds` initialisations (each its own batch, which
  // the prediction is also given); empty: prediction only.
  std::vector<int> compare_widths;
  int seeds = 3;
  // --map: a map_size × map_size grid, log-spaced, of the branch scale α (X + α f(X)) and a
  // multiplier of the logit scale (W_Q's scale), at each spec's depth, on map_seq tokens of the
  // first sequence along map_paths paths; map_check × map_check of its cells probed at
  // map_check_width (0: none).
  bool map = false;
  int map_size = 50, map_seq = 16, map_paths = 2;
  double alpha_min = 0.01, alpha_max = 10, logit_min = 0.1, logit_max = 10;
  int map_check = 0, map_check_width = 256;
};
void validate(const PredictStudyOptions& o);  // throws ConfigError naming the option

// The probe's per-layer mean and standard deviation over seeds of what the prediction gives.
struct MeasuredLayer {
  double cosine = 0, cosine_sd = 0, t_sim = 0, entropy = 0, lambda2 = 0;
  double log10_ratio = NAN, log10_ratio_sd = NAN;  // log10(|∇W_Q|/|∇W_V|), NaN for layer 0
};

struct PredictCurve {
  std::string spec;  // the spec's label
  int depth = 0, width = 0;
  bool skips = true;  // the blocks keep a residual skip (the report's notes read it)
  std::vector<PredictedLayer> predicted;  // L+1 rows
  std::vector<MeasuredLayer> measured;    // L+1 rows, or empty without --compare-probe
  double predict_seconds = 0, probe_seconds = 0;
};

struct MapCheck {
  double alpha = 0, logit = 0, predicted_cosine = 0, measured_cosine = 0;
  double predicted_log10_ratio = NAN, measured_log10_ratio = NAN;
};

struct PredictMap {
  std::string spec;
  int depth = 0;
  std::vector<double> alphas, logits;
  // [i][j] for alphas[i], logits[j]: the final layer's cosine, the mean attention entropy of the
  // last block over uniform attention's (1 = uniform, 0 = one-hot), and log10 |∇W_Q|/|∇W_V|
  // averaged over blocks.
  std::vector<std::vector<double>> cosine, entropy, log10_ratio;
  // [l][i] at logit multiplier 1: the cosine of layer l for alphas[i] (depth × α, from the same
  // recursion).
  std::vector<std::vector<double>> depth_cosine;
  double seconds = 0;
  std::vector<MapCheck> checks;
  double check_seconds = 0;  // probing the checked cells
};

struct PredictStudy {
  std::vector<PredictCurve> curves;
  std::vector<PredictMap> maps;
};

PredictStudy run_predict_study(const PredictStudyOptions& o,
                               const std::function<void(int, int, const std::string&)>& progress = nullptr);

}  // namespace sigprop
