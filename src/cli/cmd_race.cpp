// `sigprop race`: trains several presets on the same data, seeds and budget, each at its best
// learning rate from a grid, and compares their loss curves. Resumable: finished runs are reused,
// interrupted ones continue from their checkpoints.

#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/interrupt.h"
#include "cli/model_options.h"
#include "cli/train_options.h"
#include "core/runtime.h"
#include "studies/race/race.h"

namespace sigprop::cli {
namespace {

struct RaceArgs {
  ModelOptions model;
  RaceOptions race;
  int depth = 32;
  std::string device = "cpu";
  int nproc = 1;
  std::string backend = "auto";
};

const std::vector<std::string> kDefaultRace = {"post-ln", "pre-ln", "post-ln-simremove",
                                               "post-ln-scaled", "shaped", "vanilla-espa-tat",
                                               "vanilla-vskipinit-tat"};

void run(RaceArgs& a) {
  refuse_set_depth(a.model);  // --depth (default 32) sets every model's depth
  a.race.specs = resolve_specs(a.model, kDefaultRace);
  for (auto& s : a.race.specs) s.depth = a.depth;
  a.race.device = parse_device(a.device);
  validate(a.race);  // before any rank starts
  parse_backend(a.backend, "--backend");  // refused before any rank starts
  if (launch_local_ranks(a.nproc, a.race.config.batch)) return;
  a.race.comm = rank_communicator(a.race.device, a.backend);
  const auto result = run_race(a.race, [](const std::string& line) { fmt::print(stderr, "[race] {}\n", line); },
                               install_interrupt_flag());
  const bool lead = !a.race.comm || a.race.comm->rank() == 0;
  if (result.interrupted) {
    if (lead) fmt::print(stderr, "[race] interrupted; rerun the same command to continue\n");
    std::exit(kExitInterrupted);
  }
  if (!lead) return;
  const auto& o = a.race;
  fmt::print("{}", race_table(result.best, o.measure, o.reference, result.reach_step, result.target));
  fmt::print("wrote {}/race.csv, run.json, race.png, race.svg; runs in {}/runs\n", o.out, o.out);
}

}  // namespace

void add_race_command(CLI::App& app) {
  static RaceArgs args;
  auto* cmd = app.add_subcommand("race", "Train several presets on the same budget and compare");
  add_model_options(cmd, args.model);
  cmd->add_option("--depth", args.depth, "depth L of every model")
      ->check(at_least(1))
      ->capture_default_str();
  add_train_options(cmd, args.race.config);
  cmd->add_option("--lr-grid", args.race.lr_grid, "learning rates to try per preset (best val loss wins)")
      ->delimiter(',');
  cmd->add_option("--seeds", args.race.seeds, "seeds per (preset, lr); curves are averaged")
      ->capture_default_str();
  cmd->add_option("--confirm-seeds", args.race.confirm_seeds,
                  "further seeds at each preset's chosen lr alone, averaged into its row")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--reference", args.race.reference, "preset whose loss the others must reach")
      ->capture_default_str();
  cmd->add_option("--reach-step", args.race.reach_step, "step of the reference loss (default: last)");
  cmd->add_option("--smooth", args.race.measure.smooth,
                  "judge on a moving average over this many logged points (table, figure and "
                  "steps to reach alike); 1 = the logged loss")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--out", args.race.out, "race folder")->capture_default_str();
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N");
  add_nproc_option(cmd, args.nproc, args.backend);
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
