// Sweeps: the cartesian product of a grid of options over one sigprop command, each cell run in
// its own folder, resumable, and shardable across machines.
//
// GRID.toml:
//   command = "probe"            # probe | train | race | advise | theory <name>
//   [fixed]                      # options given to every cell
//   seeds = 2
//   [grid]                       # lists; every combination is a cell
//   preset = ["post-ln", "pre-ln"]
//   depth = [8, 16, 32]
//   [[exclude]]                  # optional: cells to leave out (every key must match)
//   depth = 8
//   preset = ["post-ln"]
// depth, width, heads and input are passed as `--key value`, other model keys (see `sigprop presets
// --show`) as `--set key=value`, anything else as the command's own `--key value` (true: a bare
// flag; false: omitted). A cell is named by the hash of its command line, so editing the grid
// re-runs exactly the cells that changed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sigprop {

struct SweepCell {
  size_t index = 0;                                          // position in the grid order
  std::vector<std::pair<std::string, std::string>> values;   // grid key -> value text
  std::vector<std::string> args;                             // command line after `sigprop`
  std::string hash;                                          // 16 hex digits of the args
};

// One [[exclude]] table: grid key -> the values it drops; a cell matching every key is left out.
using SweepExclusion = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct SweepGrid {
  std::vector<std::string> command;  // e.g. {"theory", "sde"}
  std::vector<std::pair<std::string, std::string>> fixed;
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  std::vector<SweepExclusion> exclude;
  // The cartesian product, last key fastest, less the excluded cells; `index` counts the rest.
  std::vector<SweepCell> cells() const;
};

// The sigprop commands a sweep cell or a reproduction step may run: probe, train, race, advise, theory.
bool is_runnable_command(const std::string& name);

// Parses GRID.toml; throws ConfigError naming the file and key.
SweepGrid parse_sweep_grid(const std::string& text, const std::string& source);
SweepGrid load_sweep_grid(const std::string& path);

// "i/N" -> (i, N) with 0 <= i < N; throws ConfigError.
std::pair<size_t, size_t> parse_shard(const std::string& text);

// The sweep folder: `out`, or runs/sweep-<the grid file's stem> when it is empty.
std::string sweep_folder(const std::string& grid_path, const std::string& out);

// The cell's folder under a sweep folder, and its completion marker (written atomically).
std::string cell_dir(const std::string& sweep_dir, const SweepCell& cell);
bool cell_done(const std::string& sweep_dir, const SweepCell& cell);
void mark_cell_done(const std::string& sweep_dir, const SweepCell& cell, int exit_code,
                    double seconds);

// A cell whose command failed (not a divergence): its exit code and message, kept in failed.json
// until the cell runs again; empty when it has not failed.
void mark_cell_failed(const std::string& sweep_dir, const SweepCell& cell, int exit_code,
                      const std::string& message);
nlohmann::json cell_failure(const std::string& sweep_dir, const SweepCell& cell);

// Headline numbers a finished cell's outputs hold: run.json "headline" (probe, theory), or
// summary.json (train), or the rows of race.csv; empty when the cell is not finished.
nlohmann::json cell_headline(const std::string& sweep_dir, const SweepCell& cell);

// results.csv: one row per cell: its grid values, done, exit_code, outcome (done | diverged |
// failed | pending), error (a failed cell's message, commas as ';'), and headline numbers.
std::string sweep_results_csv(const std::string& sweep_dir, const SweepGrid& grid);

}  // namespace sigprop
