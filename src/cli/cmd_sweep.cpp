// `sigprop sweep GRID.toml`: runs every cell of a grid as a child `sigprop` process, several at
// once, each in its own folder; finished cells are skipped on a rerun (kill -9 included).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/child_process.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/folder_lock.h"
#include "core/run_folder.h"
#include "sweep/sweep.h"

namespace fs = std::filesystem;

namespace sigprop::cli {
namespace {

struct SweepArgs {
  std::string grid, out, shard = "0/1";
  int jobs = 1;
  bool merge = false;
};

struct Running {
  SweepCell cell;
  std::chrono::steady_clock::time_point start;
};

pid_t launch(const SweepCell& cell, const std::string& cell_path, int threads) {
  std::vector<std::string> args = cell.args;
  args.insert(args.end(), {"--out", cell_path + "/out"});
  return spawn_sigprop(args, cell_path + "/log.txt", threads);
}

std::string tail_of(const std::string& path, size_t bytes = 600) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const DataError&) {
  }
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

void write_results(const std::string& out, const SweepGrid& grid) {
  write_file_atomic(out + "/results.csv", sweep_results_csv(out, grid));
}

void run(const SweepArgs& a) {
  const SweepGrid grid = load_sweep_grid(a.grid);
  const auto [shard, shards] = parse_shard(a.shard);
  if (a.jobs < 1) throw ConfigError("--jobs must be >= 1");
  const std::string out = a.out.empty() ? "runs/sweep-" + fs::path(a.grid).stem().string() : a.out;
  fs::create_directories(out + "/cells");
  // One process per shard: shards of one sweep run side by side, two copies of a shard do not.
  std::unique_ptr<FolderLock> lock;
  if (!a.merge) lock = std::make_unique<FolderLock>(out, fmt::format("shard-{}-of-{}", shard, shards));
  write_file_atomic(out + "/grid.toml", read_file(a.grid));
  const auto cells = grid.cells();
  if (a.merge) {
    write_results(out, grid);
    size_t done = 0;
    for (const auto& c : cells) done += cell_done(out, c);
    fmt::print("merged {} of {} cells into {}/results.csv\n", done, cells.size(), out);
    return;
  }

  std::vector<SweepCell> todo;
  size_t skipped = 0;
  for (const auto& c : cells) {
    if (c.index % shards != shard) continue;
    if (cell_done(out, c)) ++skipped;
    else todo.push_back(c);
  }
  fmt::print(stderr, "[sweep] {} cells in the grid, {} in shard {}/{}: {} done before, {} to run, {} at once\n",
             cells.size(), todo.size() + skipped, shard, shards, skipped, todo.size(), a.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, cores / a.jobs);
  const auto* stop = install_interrupt_flag();
  std::map<pid_t, Running> running;
  size_t next = 0, finished = 0;
  int failure = 0;
  std::string failure_text;
  const auto sweep_start = std::chrono::steady_clock::now();
  while (next < todo.size() || !running.empty()) {
    while (!failure && !stop->load() && next < todo.size() && int(running.size()) < a.jobs) {
      const SweepCell& cell = todo[next++];
      const std::string path = cell_dir(out, cell);
      fs::remove_all(path);  // a cell killed midway starts over
      fs::create_directories(path);
      running[launch(cell, path, threads)] = {cell, std::chrono::steady_clock::now()};
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Running r = it->second;
    running.erase(it);
    const int code = child_exit_code(status);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
    const std::string path = cell_dir(out, r.cell);
    if (code == kExitOk || code == kExitDiverged) {  // divergence is a result
      mark_cell_done(out, r.cell, code, seconds);
      ++finished;
      std::string what;
      for (const auto& [k, v] : r.cell.values) what += k + "=" + v + " ";
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start).count();
      fmt::print(stderr, "[sweep] {}/{} {}{}({:.1f}s; {})\n", finished + skipped,
                 todo.size() + skipped, what, code == kExitDiverged ? "diverged " : "", seconds,
                 elapsed_and_eta(elapsed, finished, int(todo.size()) - finished));
    } else if (!failure && !stop->load()) {
      failure = code;
      failure_text = fmt::format("cell {} ({}) failed with exit code {}:\n{}", r.cell.hash,
                                 path + "/log.txt", code, tail_of(path + "/log.txt"));
    }
  }
  write_results(out, grid);
  if (stop->load()) {
    fmt::print(stderr, "[sweep] interrupted; rerun the same command to finish the remaining cells\n");
    std::exit(kExitInterrupted);
  }
  if (failure) {
    fmt::print(stderr, "[sweep] {}\n", failure_text);
    std::exit(failure == kExitConfig ? kExitConfig : kExitFailure);
  }
  fmt::print("sweep done: {} cells run, {} reused; results in {}/results.csv\n", finished, skipped, out);
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
