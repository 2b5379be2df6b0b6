// `sigprop sweep GRID.toml`: runs every cell of a grid as a child `sigprop` process, several at
// once, each in its own folder; finished cells are skipped on a rerun (kill -9 included). With
// --slurm the cells become the tasks of a Slurm job array instead.
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/interrupt.h"
#include "sweep/scheduler.h"
#include "sweep/slurm.h"

namespace sigprop::cli {
namespace {

struct SweepArgs {
  std::string grid, out, shard = "0/1";
  int jobs = 1;
  bool merge = false, slurm = false;
  SlurmOptions slurm_options;
};

SweepRunOptions run_options(const SweepArgs& a) {
  SweepRunOptions o;
  o.grid = a.grid, o.out = a.out, o.shard = a.shard, o.jobs = a.jobs, o.merge = a.merge;
  return o;
}

// Merges, prints the count, and exits non-zero naming every cell that failed or never ran.
void merge_and_report(const SweepArgs& a) {
  SweepRunOptions o = run_options(a);
  o.merge = true;
  const auto r = run_sweep(o);
  fmt::print("merged {} of {} cells into {}/results.csv\n", r.finished, r.cells, r.out);
  for (const auto& f : r.failed) fmt::print(stderr, "[sweep] failed: {}\n", f);
  if (r.finished < r.cells) {
    fmt::print(stderr, "[sweep] {} of {} cells did not finish ({} failed; outcome and error columns of results.csv)\n",
               r.cells - r.finished, r.cells, r.failed.size());
    std::exit(kExitFailure);
  }
}

void submit(const SweepArgs& a) {
  const auto sub = submit_sweep_to_slurm(run_options(a), a.slurm_options);
  fmt::print(stderr, "[sweep] submitted Slurm job {}: {} array tasks, one per cell ({})\n", sub.job_id,
             sub.tasks, sub.script);
  if (!a.slurm_options.wait) {
    fmt::print("submitted job {}; once it has ended: sigprop sweep {} --out {} --merge\n", sub.job_id,
               a.grid, a.out.empty() ? "runs/sweep-<grid name>" : a.out);
    return;
  }
  merge_and_report(a);
}

void run(const SweepArgs& a) {
  if (a.slurm) return submit(a);
  if (a.merge) return merge_and_report(a);
  const auto r = run_sweep(run_options(a),
                           [](const std::string& line) { fmt::print(stderr, "[sweep] {}\n", line); },
                           install_interrupt_flag());
  if (r.interrupted) {
    fmt::print(stderr, "[sweep] interrupted; rerun the same command to finish the remaining cells\n");
    std::exit(kExitInterrupted);
  } else if (r.failure) {
    fmt::print(stderr, "[sweep] {}\n", r.failure_text);
    std::exit(r.failure == kExitConfig ? kExitConfig : kExitFailure);
  }
  fmt::print("sweep done: {} cells run, {} reused; results in {}/results.csv\n", r.finished,
             r.skipped, r.out);
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
  cmd->add_flag("--merge", args.merge,
                "only collect finished cells (all shards) into results.csv; exit 1 if any failed or is missing");
  auto* slurm = cmd->add_flag("--slurm", args.slurm,
                              "submit the cells as a Slurm job array (sbatch), one task per cell; "
                              "the sweep folder must be on a file system the nodes share");
  auto& so = args.slurm_options;
  cmd->add_option("--partition", so.partition, "Slurm partition (--slurm)")->needs(slurm);
  cmd->add_option("--time", so.time, "Slurm time limit per task, e.g. 01:00:00 (--slurm)")->needs(slurm);
  cmd->add_option("--cpus-per-task", so.cpus_per_task, "cores per task; its cell runs that many threads (--slurm)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->needs(slurm);
  cmd->add_flag("--wait", so.wait, "wait for the job array to end, then merge (--slurm)")->needs(slurm);
  slurm->excludes(cmd->get_option("--merge"))->excludes(cmd->get_option("--shard"));
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
