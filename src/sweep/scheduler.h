// Running a sweep: every cell of a grid (sweep/sweep.h) as a child `sigprop` process, several at
// once, each in its own folder; finished cells are skipped on a rerun (kill -9 included), and one
// process per shard holds the sweep folder (core/folder_lock.h).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/progress.h"

namespace sigprop {

struct SweepRunOptions {
  std::string grid;         // GRID.toml
  std::string out;          // sweep folder; "" = runs/sweep-<grid name>
  std::string shard = "0/1";
  int jobs = 1;             // cells at once; the cores are split among them
  bool merge = false;       // only gather finished cells (of every shard) into results.csv
  std::string sigprop = "/proc/self/exe";  // the executable that runs a cell
};

struct SweepRunResult {
  std::string out;             // the sweep folder
  size_t cells = 0;            // in the grid
  size_t finished = 0;         // run now (merge: finished in all)
  size_t skipped = 0;          // finished before
  bool interrupted = false;    // `stop` was raised; rerun to finish
  int failure = 0;             // exit code of the first failed cell, 0 for none
  std::string failure_text;    // which cell, its log, the log's tail
  std::vector<std::string> failed;  // merge: "HASH (values): message" of every failed cell
};

// Runs (or merges) the sweep; results.csv is rewritten at the end either way. `log` receives
// one line per finished cell.
SweepRunResult run_sweep(const SweepRunOptions& options, const LogFn& log = nullptr,
                         const std::atomic<bool>* stop = nullptr);

}  // namespace sigprop
