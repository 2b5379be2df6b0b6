#include "sweep/scheduler.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "core/exit_codes.h"
#include "core/folder_lock.h"
#include "core/runtime.h"
#include "sweep/sweep.h"

namespace fs = std::filesystem;

namespace sigprop {
namespace {

struct Running {
  SweepCell cell;
  std::chrono::steady_clock::time_point start;
};

pid_t launch(const std::string& sigprop, const SweepCell& cell, const std::string& cell_path, int threads) {
  std::vector<std::string> args = {sigprop};
  args.insert(args.end(), cell.args.begin(), cell.args.end());
  args.insert(args.end(), {"--out", cell_path + "/out"});
  return spawn_process(args, cell_path + "/log.txt", threads);
}

std::string tail_of(const std::string& path, size_t bytes = 600) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const DataError&) {
  }
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// "key=value key=value" of a cell's grid values.
std::string values_text(const SweepCell& cell) {
  std::string text;
  for (const auto& [k, v] : cell.values) text += (text.empty() ? "" : " ") + k + "=" + v;
  return text;
}

// The last non-empty line of a log: where sigprop prints its error.
std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of(" \n\r\t");
  if (end == std::string::npos) return "";
  const size_t newline = text.rfind('\n', end);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, end + 1 - begin);
}

void write_results(const std::string& out, const SweepGrid& grid) {
  write_file_atomic(out + "/results.csv", sweep_results_csv(out, grid));
}

// Runs `todo` as child processes, `a.jobs` at once, until all are done, one fails (the others
// finish; none starts), or `stopped()`. Counts into `result`.
void run_cells(const SweepRunOptions& a, const std::string& out, const std::vector<SweepCell>& todo,
               SweepRunResult& result, const LogFn& say, const std::function<bool()>& stopped) {
  const size_t skipped = result.skipped;
  const int threads = std::max(1, available_cores() / a.jobs);
  std::map<pid_t, Running> running;
  size_t next = 0;
  size_t& finished = result.finished;
  int& failure = result.failure;
  std::string& failure_text = result.failure_text;
  const auto sweep_start = std::chrono::steady_clock::now();
  while (next < todo.size() || !running.empty()) {
    while (!failure && !stopped() && next < todo.size() && int(running.size()) < a.jobs) {
      const SweepCell& cell = todo[next++];
      const std::string path = cell_dir(out, cell);
      fs::remove_all(path);  // a cell killed midway starts over
      fs::create_directories(path);
      running[launch(a.sigprop, cell, path, threads)] = {cell, std::chrono::steady_clock::now()};
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
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start).count();
      say(fmt::format("{}/{} {} {}({:.1f}s; {})", finished + skipped, todo.size() + skipped,
                      values_text(r.cell),
                      code == kExitDiverged ? "diverged " : "", seconds,
                      elapsed_and_eta(elapsed, finished, int(todo.size()) - finished)));
    } else if (!stopped()) {
      // Recorded in the cell, so a merged table shows why (a rerun tries the cell again).
      const std::string log_tail = tail_of(path + "/log.txt");
      mark_cell_failed(out, r.cell, code, last_line(log_tail));
      if (!failure) {
        failure = code;
        failure_text = fmt::format("cell {} ({}) failed with exit code {}:\n{}", r.cell.hash,
                                   path + "/log.txt", code, log_tail);
      }
    }
  }
}

}  // namespace

SweepRunResult run_sweep(const SweepRunOptions& a, const LogFn& log, const std::atomic<bool>* stop) {
  const LogFn say = or_silent(log);
  const std::function<bool()> stopped = [&] { return stop && stop->load(); };
  SweepRunResult result;
  const SweepGrid grid = load_sweep_grid(a.grid);
  const auto [shard, shards] = parse_shard(a.shard);
  if (a.jobs < 1) throw ConfigError("--jobs must be >= 1");
  const std::string out = sweep_folder(a.grid, a.out);
  result.out = out;
  fs::create_directories(out + "/cells");
  // One process per shard: shards of one sweep run side by side, two copies of a shard do not.
  std::unique_ptr<FolderLock> lock;
  if (!a.merge) lock = std::make_unique<FolderLock>(out, fmt::format("shard-{}-of-{}", shard, shards));
  write_file_atomic(out + "/grid.toml", read_file(a.grid));
  const auto cells = grid.cells();
  result.cells = cells.size();
  if (a.merge) {
    write_results(out, grid);
    for (const auto& c : cells) {
      result.finished += cell_done(out, c);
      const auto failed = cell_failure(out, c);
      if (failed.empty()) continue;
      result.failed.push_back(fmt::format("{} ({}): {}", c.hash, values_text(c),
                                          failed.value("message", std::string())));
    }
    return result;
  }

  std::vector<SweepCell> todo;
  size_t skipped = 0;
  for (const auto& c : cells) {
    if (c.index % shards != shard) continue;
    if (cell_done(out, c)) ++skipped;
    else todo.push_back(c);
  }
  result.skipped = skipped;
  say(fmt::format("{} cells in the grid, {} in shard {}/{}: {} done before, {} to run, {} at once",
                  cells.size(), todo.size() + skipped, shard, shards, skipped, todo.size(), a.jobs));
  run_cells(a, out, todo, result, say, stopped);
  write_results(out, grid);
  result.interrupted = stopped();
  return result;
}

}  // namespace sigprop
