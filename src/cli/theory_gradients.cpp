// `sigprop theory gradients`: |grad W_Q| and |grad W_V| per block against the uniform-attention
// formulas, with and without 1/sqrt(L) branch scaling (paper 002).
#include "cli/progress.h"
#include "core/error.h"
#include "cli/theory.h"
#include "studies/gradients/gradients_report.h"
#include "studies/gradients/gradient_study.h"

namespace sigprop::cli {
namespace {

struct GradientArgs {
  GradientStudyOptions o;
  std::string norm = "post";
  bool no_mlp = false;
  TheoryCommon common;
};

void run(GradientArgs& a) {
  if (a.norm != "post" && a.norm != "pre")
    throw ConfigError("--norm " + a.norm + " is not allowed: expected post | pre");
  a.o.pre_ln = a.norm == "pre";
  a.o.mlp = !a.no_mlp;
  a.o.seed = a.common.seed;
  validate(a.o);
  run_theory("theory gradients", a.common, a.o, run_gradient_study, gradients_output);
}

}  // namespace

void add_theory_gradients(CLI::App* theory) {
  static GradientArgs a;
  auto* cmd = theory->add_subcommand(
      "gradients",
      "Query/key vs value gradients (paper 002): measured vs uniform-attention formulas");
  auto& o = a.o;
  cmd->add_option("--depth", o.depths, "depths L, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--width", o.width, "width d (= d_k = d_v, one head)")->capture_default_str();
  cmd->add_option("--seq", o.seq, "tokens T")->capture_default_str();
  cmd->add_option("--batch", o.batch, "sequences per network")->capture_default_str();
  cmd->add_option("--networks", o.networks, "initialisations per (depth, scaling)")
      ->capture_default_str();
  cmd->add_option("--norm", a.norm, "post | pre")->capture_default_str();
  cmd->add_flag("--no-mlp", a.no_mlp, "attention-only blocks");
  add_common_options(cmd, a.common, "runs/theory-gradients");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
