// `sigprop advise`: will this model train, and which fix? (docs/advise.md)
//
// 1. Diagnose: probe the model at initialisation over a few seeds and judge each symptom the
//    papers name against a threshold: rank collapse (000, 002), query/key gradient starvation
//    (002), the attention's spectral gap (003), a spread of gradient norms over depth, and an
//    initial loss far above chance. Each finding keeps its measured number and its threshold.
// 2. Rank fixes: apply each registered fix to the model's own config (the keys that change are
//    its `--set` lines), probe it the same way, and order the candidates by the score below.
// 3. Optionally confirm: a short race of the model as it is and the best-ranked fixes.
//
// Score = −Σ_f w_f · p_f, where p_f is how far finding f is past its threshold on a log10 scale
// (0 when absent, capped at kMaxPenalty). 0 means nothing was found; lower predicts a model that
// trains worse. Candidates with equal scores (several fixes with nothing found are common) are
// ordered by their gradient balance, |log10 spread| + |log10 gq/gv|: how far the gradients at init
// are from even over depth and between queries and values. Thresholds, weights and the tie-break
// are [guess]es, options; docs/advise.md has the calibration that chose the defaults.
#pragma once

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "config/model_spec.h"
#include "core/progress.h"
#include "probe/probe.h"
#include "probe/probe_input.h"
#include "studies/race/race.h"
#include "studies/study_output.h"

namespace sigprop {

inline constexpr double kMaxPenalty = 4.0;  // a finding counts at most four decades past its threshold

struct AdviseThresholds {
  double collapse_cosine = 0.9;   // final-layer token cosine above this: rank collapse (fitted)
  double qk_ratio = 1e-2;         // |∇W_Q| / |∇W_V| at the last block below this: starvation
  double spectral_gap = 10;       // σ₁/σ₂ of the last block's attention above this
  double gradient_spread = 10;    // |∇W_V| of block 1 over the last block's, beyond ×this either way
  double loss_excess = 0.5;       // initial loss above ln(classes) by more than this (nats)
};

// The weight of each finding's penalty in the score. The initial loss is reported, not scored, by
// default: it did not predict the trained loss (docs/advise.md, Spearman 0.08 [-0.28, 0.44]), and
// the stack that won most races starts 4-5 nats above chance.
struct AdviseWeights {
  double collapse = 1, qk = 1, gap = 1, spread = 1, loss = 0;
};

// How candidates with equal scores are ordered: by gradient balance (lower first), or by
// final-layer cosine (lower first, the rule before the calibration).
enum class TieBreak { Balance, Cosine };
TieBreak parse_tie_break(const std::string& s);  // "balance" | "cosine"; ConfigError otherwise
std::string to_string(TieBreak t);

struct Finding {
  std::string name;  // rank_collapse | qk_starvation | spectral_gap | gradient_spread |
                     // initial_loss | non_finite
  bool present = false;
  double value = NAN;      // the measured number (mean over seeds); NaN: not measurable here
  double threshold = NAN;  // what it was judged by
  int block = -1;          // rank collapse: the first block past the threshold; else -1
  double penalty = 0;      // log10 distance past the threshold (loss: nats), capped; 0 if absent
  std::string text;        // one sentence saying what was found
};

struct Diagnosis {
  std::vector<Finding> findings;  // every finding, present or not, in a fixed order
  double score = 0;               // −Σ w·penalty
  // |log10(|∇W_V| block 1 / last)| + |log10(|∇W_Q| / |∇W_V| at the last block)|: 0 when gradients
  // are even; +inf when either ratio is 0; NaN when not measured (ranks last among equal scores).
  double balance = NAN;
  int depth = 0;
  bool finite = true;
  const Finding& finding(const std::string& name) const;  // throws std::out_of_range
};

// The penalty of finding `name` (rank_collapse, qk_starvation, spectral_gap, gradient_spread,
// initial_loss) measured at `value` against `threshold`, as the table of docs/advise.md says;
// 0 within the threshold or when not measured (NaN). Throws ConfigError for another name.
double finding_penalty(const std::string& name, double value, double threshold);

// `seeds` holds, per seed, the L+1 rows of probe_model (layer 0 = the embedding);
// `chance_loss` is ln(number of classes), NaN where the loss is not a classification's.
Diagnosis diagnose(const std::vector<std::vector<LayerMetrics>>& seeds, double chance_loss,
                   const AdviseThresholds& thresholds, const AdviseWeights& weights);

// Whether a candidate diagnosed `a` ranks before one diagnosed `b`: the higher score, then by
// the tie-break. The one ordering of the CLI, of advice.json's recommendation and of the Python
// front's foreign-model ranking.
bool ranks_before(const Diagnosis& a, const Diagnosis& b, TieBreak tie_break);

// A fix is a preset's recipe: the keys on which it differs from the post-ln preset, applied to
// any model's config. The registry (advise.cpp) names which presets are fixes and what each targets.
struct FixDoc {
  std::string name;     // the preset that carries the fix
  std::string targets;  // the findings it addresses, in words
};
const std::vector<FixDoc>& fix_docs();
std::vector<std::string> fix_names();

// (key, value) pairs of the fix `name`, in `key=value` text form. Throws ConfigError listing the
// fixes when `name` is not one.
std::vector<std::pair<std::string, std::string>> fix_recipe(const std::string& name);

// `spec` with the fix applied (depth and width kept), and the `key=value` lines that changed;
// empty lines: the model has the fix already.
ModelSpec apply_fix(const ModelSpec& spec, const std::string& name, std::vector<std::string>* changed);

struct AdviseCandidate {
  std::string name;               // "as-is" or the fix's name
  std::vector<std::string> sets;  // its --set lines against the model as it is
  ModelSpec spec;
  Diagnosis diagnosis;
  // After a confirming race: the race's best validation loss and its lr (NaN when not raced).
  double val_loss = NAN, lr = NAN;
  std::string race_status;
};

struct AdviseOptions {
  ModelSpec spec;  // the model as it is, at its depth
  ProbeInput input = ProbeInput::KJV;
  int64_t seq = 64, batch = 8;
  int seeds = 3;
  AdviseThresholds thresholds;
  AdviseWeights weights;
  TieBreak tie_break = TieBreak::Balance;
  std::vector<std::string> fixes;  // empty: every registered fix
  bool rank_fixes = true;          // false: diagnose the model alone
  // Before probing, predict each fix (studies/predict) and leave out, unprobed, those whose
  // predicted final-layer cosine exceeds thresholds.collapse_cosine + predict_margin: the theory
  // already rules them out. predict_margin covers the prediction's measured error (docs/theory.md).
  bool predict_first = false;
  double predict_margin = 0.05;
  torch::Device device = torch::kCPU;
  // Confirmation: with train_steps > 0, a race (studies/race) of the model as it is and the
  // `confirm_top` best-ranked fixes on race.config's data, in race.out (kept between runs, so a
  // rerun reuses what was trained).
  int64_t train_steps = 0;
  int confirm_top = 3;
  RaceOptions race;
};
// Throws ConfigError naming the option, or the model that cannot be built.
void validate(const AdviseOptions& options);

struct Advice {
  AdviseCandidate as_is;
  std::vector<AdviseCandidate> ranked;  // the fixes, best first (ranks_before)
  std::vector<std::string> skipped;     // "<fix>: <why>" (already applied, cannot be built)
  std::string race_out;                 // where the confirming race is, "" without one
  double target_loss = NAN;             // the model as it is: its race loss (NaN without one)
  bool interrupted = false;             // the confirming race was stopped; rerun to continue
  double seconds = 0;
  // predict_first: fixes ruled out by the prediction, its time, and the probing time it saved
  // (the ruled-out count times the measured probe time per model).
  int ruled_out = 0;
  double predict_seconds = 0, probe_seconds_saved = 0;
};

Advice advise(const AdviseOptions& options, const ProgressFn& progress = nullptr,
              const LogFn& log = nullptr, const std::atomic<bool>* stop = nullptr);

nlohmann::json diagnosis_to_json(const Diagnosis& d);
// The inverse, for diagnoses that crossed a front (the Python front ranks foreign models with it).
Diagnosis diagnosis_from_json(const nlohmann::json& j);
nlohmann::json advice_to_json(const Advice& advice, const AdviseOptions& options);
// The terminal summary: the verdict, the findings with their numbers and thresholds, the ranking
// with before/after numbers and each fix's --set lines. It renders advice.json's layout, so the
// Python front's advice on a foreign model (built in that layout) prints the same way.
std::string advice_text(const nlohmann::json& advice);
std::string advice_text(const Advice& advice, const AdviseOptions& options);
// advice.json, advice.csv (one row per candidate), summary.txt, run.json and a figure of the
// candidates' scores beside their final-layer cosine.
StudyOutput advice_output(const Advice& advice, const AdviseOptions& options);

}  // namespace sigprop
