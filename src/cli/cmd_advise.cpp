// `sigprop advise`: diagnoses one model at initialisation, ranks the fixes for it, and optionally
// confirms the best ones with a short race (studies/advise/advise.h).
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "cli/progress.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/run_folder.h"
#include "core/runtime.h"
#include "studies/advise/advise.h"

namespace sigprop::cli {
namespace {

struct AdviseArgs {
  ModelOptions model;
  AdviseOptions advise;
  int depth = 0;
  std::string input = "kjv", device = "cpu", out = "runs/advise", tie_break = "balance";
  std::vector<double> weights;
  bool force = false, no_plot = false, diagnose_only = false;
};

void run(AdviseArgs& a) {
  auto specs = resolve_specs(a.model, {"post-ln"});
  if (specs.size() != 1)
    throw ConfigError(fmt::format("advise judges one model; got {} (give one --preset or --config)", specs.size()));
  AdviseOptions& o = a.advise;
  o.spec = specs.front();
  if (a.depth > 0) refuse_set_depth(a.model), o.spec.depth = a.depth;
  o.input = parse_probe_input(a.input);
  o.rank_fixes = !a.diagnose_only;
  o.tie_break = parse_tie_break(a.tie_break);
  o.device = parse_device(a.device);
  o.race.device = o.device;
  if (!a.weights.empty()) {
    if (a.weights.size() != 5)
      throw ConfigError(fmt::format("--weights takes 5 numbers (collapse,qk,gap,spread,loss); got {}",
                                    a.weights.size()));
    o.weights = {a.weights[0], a.weights[1], a.weights[2], a.weights[3], a.weights[4]};
  }
  const Advice advice = advise(o, Progress("advise"), [](const std::string& line) {
    fmt::print(stderr, "[advise] {}\n", line);
  }, install_interrupt_flag());
  if (advice.interrupted) {
    fmt::print(stderr, "[advise] interrupted; rerun the same command to continue the race\n");
    std::exit(kExitInterrupted);
  }
  StudySave where;
  where.out = a.out, where.force = a.force, where.plot = !a.no_plot, where.seconds = advice.seconds;
  const StudyOutput output = advice_output(advice, o);
  const auto written = save_study(output, where);
  fmt::print("{}", output.summary);
  fmt::print("wrote {}/{} in {:.1f}s\n", a.out, fmt::join(written, ", "), advice.seconds);
}

}  // namespace

void add_advise_command(CLI::App& app) {
  static AdviseArgs args;
  auto* cmd = app.add_subcommand(
      "advise", "Will this model train, and which fix? Diagnose at init, rank the fixes, optionally race them");
  add_model_options(cmd, args.model);
  AdviseOptions& o = args.advise;
  cmd->add_option("--depth", args.depth, "depth L (default: the preset's)")->check(at_least(1));
  cmd->add_option("--seeds", o.seeds, "probe seeds (0..S-1), each a fresh init and batch")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--seq", o.seq, "tokens per probe sequence T")->check(at_least(2))->capture_default_str();
  cmd->add_option("--batch", o.batch, "sequences per probe batch")->check(at_least(1))->capture_default_str();
  cmd->add_option("--input", args.input, "probe input: kjv | gaussian | isometric")->capture_default_str();
  cmd->add_option("--fixes", o.fixes, "fixes to try, comma-separated (default: every one)")->delimiter(',');
  cmd->add_flag("--diagnose-only", args.diagnose_only, "diagnose the model alone; rank no fix");
  cmd->add_flag("--predict-first", o.predict_first,
                "predict each fix first (sigprop predict) and leave out, unprobed, those predicted to collapse");
  cmd->add_option("--predict-margin", o.predict_margin,
                  "--predict-first rules out a fix predicted above --collapse-cosine plus this")
      ->capture_default_str();
  auto& t = o.thresholds;
  cmd->add_option("--collapse-cosine", t.collapse_cosine, "rank collapse: final-layer cosine above this")
      ->capture_default_str();
  cmd->add_option("--qk-ratio", t.qk_ratio, "starvation: |grad W_Q|/|grad W_V| at the last block below this")
      ->capture_default_str();
  cmd->add_option("--spectral-gap", t.spectral_gap, "spectral gap: sigma1/sigma2 of attention above this")
      ->capture_default_str();
  cmd->add_option("--gradient-spread", t.gradient_spread,
                  "gradient spread: |grad W_V| block 1 / last block beyond this factor either way")
      ->capture_default_str();
  cmd->add_option("--loss-excess", t.loss_excess, "initial loss above ln(classes) by more than this (nats)")
      ->capture_default_str();
  cmd->add_option("--weights", args.weights,
                  "score weights collapse,qk,gap,spread,loss (default 1,1,1,1,0; docs/advise.md)")
      ->delimiter(',');
  cmd->add_option("--tie-break", args.tie_break,
                  "equal scores: balance (gradients even over depth and Q/K against V) | cosine (lower first)")
      ->capture_default_str();
  cmd->add_option("--train-steps", o.train_steps,
                  "confirm with a race of this many steps: the model as it is and the top fixes (0 = no race)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--confirm-top", o.confirm_top, "fixes the race confirms")->check(at_least(1))->capture_default_str();
  cmd->add_option("--data", o.race.config.data, "race data: kjv | fashion-mnist | synthetic")->capture_default_str();
  o.race.lr_grid = {3e-4, 1e-3, 3e-3};
  cmd->add_option("--lr-grid", o.race.lr_grid, "race learning rates (best validation loss wins)")
      ->delimiter(',')
      ->capture_default_str();
  o.race.out = "runs/advise-race";
  cmd->add_option("--race-out", o.race.out, "race folder (kept: a rerun reuses its runs)")->capture_default_str();
  cmd->add_option("--out", args.out, "output folder (replaced whole, if sigprop made it)")->capture_default_str();
  cmd->add_flag("--force", args.force, "replace --out even if it is a non-empty folder of yours");
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_flag("--no-plot", args.no_plot, "skip the gnuplot figure");
  cmd->parse_complete_callback([] { check_output_folder(args.out, args.force); });
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
