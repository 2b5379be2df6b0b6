// `sigprop theory tat`: TAT leaky ReLU C-maps, solved slopes, and deep vanilla networks at
// initialisation against C^{∘N} (paper 001).
#include "cli/progress.h"
#include "cli/theory.h"
#include "studies/tat/tat_report.h"
#include "studies/tat/tat_study.h"

namespace sigprop::cli {
namespace {

struct TatArgs {
  TatStudyOptions o;
  TheoryCommon common;
};

void run(TatArgs& a) {
  a.o.seed = a.common.seed;
  validate(a.o);
  run_theory("theory tat", a.common, a.o, run_tat_study, tat_output);
}

}  // namespace

void add_theory_tat(CLI::App* theory) {
  static TatArgs a;
  auto* cmd = theory->add_subcommand(
      "tat", "TAT leaky ReLU (paper 001): C-maps, solved slopes, deep vanilla nets vs C^N(c0)");
  auto& o = a.o;
  cmd->add_option("--slopes", o.slopes, "leaky-ReLU slopes of the C-map curves")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--n", o.nonlinearities, "N of the slope table")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--etas", o.etas, "eta of the slope table")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--eta", o.eta, "target C^N(0) of the curves and the measured networks")
      ->capture_default_str();
  cmd->add_option("--curve-n", o.curve_ns, "N of the C^N curves")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--depth", o.depth, "nonlinearities N of the measured MLP and transformer")
      ->capture_default_str();
  cmd->add_option("--width", o.width, "width of the deep vanilla MLP")->capture_default_str();
  cmd->add_option("--networks", o.networks, "MLP networks (independent weights)")
      ->capture_default_str();
  cmd->add_option("--c0", o.c0s, "input correlations of the MLP")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--transformer-width", o.transformer_width, "width of the vanilla transformer")
      ->capture_default_str();
  cmd->add_option("--seq", o.seq, "tokens T of the transformer's isometric input")
      ->capture_default_str();
  cmd->add_option("--batch", o.batch, "sequences through each transformer")->capture_default_str();
  cmd->add_option("--transformers", o.transformers, "independent transformer initialisations")
      ->capture_default_str();
  add_common_options(cmd, a.common, "runs/theory-tat");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
