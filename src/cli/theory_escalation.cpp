// `sigprop theory escalation`: t_div contraction per block beside |λ₂| of the attention, with and
// without similarity removal (paper 000).
#include "cli/model_options.h"
#include "cli/progress.h"
#include "cli/theory.h"
#include "config/spec_io.h"
#include "studies/escalation/escalation_report.h"
#include "studies/escalation/escalation_study.h"

namespace sigprop::cli {
namespace {

struct EscalationArgs {
  EscalationOptions o;
  ModelOptions model;
  std::string input = "gaussian";
  TheoryCommon common;
};

void run(EscalationArgs& a) {
  a.o.specs = resolve_specs(a.model, {"post-ln", "post-ln-simremove"});
  a.o.input = parse_probe_input(a.input);
  a.o.first_seed = a.common.seed;
  validate(a.o);
  run_theory("theory escalation", a.common, a.o, run_escalation_study, escalation_output);
}

}  // namespace

void add_theory_escalation(CLI::App* theory) {
  static EscalationArgs a;
  auto* cmd = theory->add_subcommand(
      "escalation",
      "Token similarity escalation (paper 000): t_div rate vs |lambda2|, with the fix");
  add_model_options(cmd, a.model);
  cmd->add_option("--depth", a.o.depth, "blocks L")->capture_default_str();
  cmd->add_option("--seq", a.o.seq, "tokens T")->capture_default_str();
  cmd->add_option("--batch", a.o.batch, "sequences per seed")->capture_default_str();
  cmd->add_option("--inits", a.o.seeds, "initialisations, with seeds --seed .. --seed + N - 1")
      ->capture_default_str();
  cmd->add_option("--input", a.input, "gaussian | isometric | kjv")->capture_default_str();
  cmd->add_option("--floor", a.o.floor, "t_div below this is float32 noise; the fit stops there")
      ->capture_default_str();
  add_common_options(cmd, a.common, "runs/theory-escalation");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
