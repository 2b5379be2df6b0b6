// `sigprop sweep GRID.toml`: runs every cell of a grid as a child `sigprop` process, several at
// once, each in its own folder; finished cells are skipped on a rerun (kill -9 included).
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/interrupt.h"
#include "sweep/scheduler.h"

namespace sigprop::cli {
namespace {

struct SweepArgs {
  std::string grid, out, shard = "0/1";
  int jobs = 1;
  bool merge = false;
};

void run(const SweepArgs& a) {
  SweepRunOptions o;
  o.grid = a.grid, o.out = a.out, o.shard = a.shard, o.jobs = a.jobs, o.merge = a.merge;
  const auto r = run_sweep(o, [](const std::string& line) { fmt::print(stderr, "[sweep] {}\n", line); },
                           install_interrupt_flag());
  if (a.merge) {
    fmt::print("merged {} of {} cells into {}/results.csv\n", r.finished, r.cells, r.out);
  } else if (r.interrupted) {
    fmt::print(stderr, "[sweep] interrupted; rerun the same command to finish the remaining cells\n");
    std::exit(kExitInterrupted);
  } else if (r.failure) {
    fmt::print(stderr, "[sweep] {}\n", r.failure_text);
    std::exit(r.failure == kExitConfig ? kExitConfig : kExitFailure);
  } else {
    fmt::print("sweep done: {} cells run, {} reused; results in {}/results.csv\n", r.finished,
               r.skipped, r.out);
  }
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  static SweepArgs args;
  auto* cmd = app.add_subcommand("sweep", "Run a grid of probe/train/race/theory cells, resumably");
  cmd->add_option("grid", args.grid, "grid file (TOML: command, [fixed], [grid])")->required();
  cmd->add_option("--out", args.out, "sweep folder (default runs/sweep-<grid name>)");
  cmd->add_option("--jobs", args.jobs, "cells run at once (threads are split among them)")
      ->capture_default_str();
  cmd->add_option("--shard", args.shard, "run every N-th cell starting at i (i/N), e.g. a Slurm array task")
      ->capture_default_str();
  cmd->add_flag("--merge", args.merge, "only collect finished cells (all shards) into results.csv");
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
