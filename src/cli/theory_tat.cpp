// `sigprop theory tat`: TAT leaky ReLU C-maps, solved slopes, and deep vanilla networks at
// initialisation against C^{∘N} (paper 001).
#include "cli/progress.h"
#include "cli/theory.h"
#include "report/theory_plots.h"
#include "report/theory_tables.h"
#include "theory/tat_study.h"

namespace sigprop::cli {
namespace {

struct TatArgs {
  TatStudyOptions o;
  TheoryCommon common;
};

void run(TatArgs& a) {
  a.o.seed = a.common.seed;
  validate(a.o);
  run_and_publish(
      "theory tat", a.common,
      [&](const Progress& progress) { return run_tat_study(a.o, progress); },
      [&](const TatStudy& study) {
        const auto& o = a.o;
        TheoryRun r;
        r.params = {{"slopes", o.slopes},
                    {"n", o.nonlinearities},
                    {"etas", o.etas},
                    {"eta", o.eta},
                    {"curve_n", o.curve_ns},
                    {"depth", o.depth},
                    {"width", o.width},
                    {"networks", o.networks},
                    {"c0", o.c0s},
                    {"transformer_width", o.transformer_width},
                    {"seq", o.seq},
                    {"batch", o.batch},
                    {"transformers", o.transformers}};
        r.files = {{"tat_curves.csv", tat_curves_csv(study)},
                   {"tat_slopes.csv", tat_slopes_csv(study)},
                   {"tat_mlp.csv", tat_mlp_csv(study)},
                   {"tat_transformer.csv", tat_transformer_csv(study)}};
        r.plot_name = "tat";
        r.plot_script = tat_plot_script(study);
        r.plot_width = 1500, r.plot_height = 1100;
        r.summary = tat_summary_text(study);
        return r;
      });
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
