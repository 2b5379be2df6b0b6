// `sigprop predict`: signal propagation from the configuration alone (studies/predict), beside
// the probe (--compare-probe) and as trainability maps (--map).
#include "cli/commands.h"
#include "cli/model_options.h"
#include "cli/theory.h"
#include "core/error.h"
#include "studies/predict/predict_report.h"
#include "studies/predict/predict_study.h"

namespace sigprop::cli {
namespace {

struct PredictArgs {
  ModelOptions model;
  std::vector<int> depths;
  std::string input = "kjv";
  std::vector<double> alpha_range{0.01, 10}, logit_range{0.1, 10};
  bool compare = false;
  PredictStudyOptions o;
  TheoryCommon common;
};

void run(PredictArgs& a) {
  auto specs = resolve_specs(a.model, {"pre-ln"});
  if (!a.depths.empty()) refuse_set_depth(a.model);
  for (const auto& s : specs) {
    if (a.depths.empty()) a.o.specs.push_back(s);
    for (int depth : a.depths) {
      auto d = s;
      d.depth = depth;
      a.o.specs.push_back(d);
    }
  }
  a.o.input = parse_probe_input(a.input);
  if (a.compare && a.o.compare_widths.empty()) a.o.compare_widths = {64, 256, 1024};
  if (!a.compare && !a.o.compare_widths.empty())
    throw ConfigError("--widths is the widths of --compare-probe: add --compare-probe, or use --width");
  a.o.alpha_min = a.alpha_range.at(0), a.o.alpha_max = a.alpha_range.at(1);
  a.o.logit_min = a.logit_range.at(0), a.o.logit_max = a.logit_range.at(1);
  a.o.predict.seed = a.common.seed;
  validate(a.o);
  run_theory("predict", a.common, a.o, run_predict_study, predict_output);
}

}  // namespace

void add_predict_command(CLI::App& app) {
  static PredictArgs a;
  auto* cmd = app.add_subcommand(
      "predict", "Signal propagation predicted from the configuration alone (kernel recursion)");
  add_model_options(cmd, a.model);
  auto& o = a.o;
  cmd->add_option("--depth", a.depths, "depth(s) L, comma-separated (default: the preset's)")->delimiter(',');
  cmd->add_option("--input", a.input, "kjv | gaussian | isometric: the probe's batch")->capture_default_str();
  cmd->add_option("--seq", o.seq, "tokens per sequence T")->check(at_least(2))->capture_default_str();
  cmd->add_option("--batch", o.batch, "sequences per seed")->check(at_least(1))->capture_default_str();
  cmd->add_option("--paths", o.predict.paths, "independent realisations of every block's heads per sequence")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_flag("--compare-probe", a.compare, "probe beside the prediction, at each of --widths");
  cmd->add_option("--widths", o.compare_widths, "widths of --compare-probe (default 64,256,1024)")
      ->delimiter(',');
  cmd->add_option("--seeds", o.seeds, "probe initialisations (each with its own batch)")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_flag("--map", o.map, "trainability map over residual scale alpha x logit scale");
  cmd->add_option("--map-size", o.map_size, "cells per axis of --map")->capture_default_str();
  cmd->add_option("--alpha-range", a.alpha_range, "lo,hi of alpha (log-spaced)")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  cmd->add_option("--logit-range", a.logit_range, "lo,hi of the logit-scale multiplier (log-spaced)")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  cmd->add_option("--map-seq", o.map_seq, "tokens of the map's sequence")->capture_default_str();
  cmd->add_option("--map-paths", o.map_paths, "realisations of the heads per map cell")->capture_default_str();
  cmd->add_option("--map-check", o.map_check, "probe a k x k subset of the map's cells")->capture_default_str();
  cmd->add_option("--map-check-width", o.map_check_width, "width of the probed cells")->capture_default_str();
  add_common_options(cmd, a.common, "runs/predict");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
