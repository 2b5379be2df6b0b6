// The `sigprop theory` subcommands: each computes a paper's prediction and the measurement in
// one run and writes both, with an agreement figure, to one folder (CSV + run.json + plots).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/progress.h"

namespace sigprop::cli {

void add_theory_sde(CLI::App* theory);
void add_theory_markov(CLI::App* theory);
void add_theory_tat(CLI::App* theory);
void add_theory_escalation(CLI::App* theory);
void add_theory_gradients(CLI::App* theory);

// Options every theory subcommand has.
struct TheoryCommon {
  std::string out;
  uint64_t seed = 0;
  bool no_plot = false, force = false;
};
void add_common_options(CLI::App* cmd, TheoryCommon& c, const std::string& default_out);

// What a finished study publishes.
struct TheoryRun {
  std::string command;                                     // "theory sde"
  nlohmann::json params;                                   // the options, for run.json
  std::vector<std::pair<std::string, std::string>> files;  // CSV name -> content
  std::string plot_name, plot_script;                      // <plot_name>.png/.svg
  int plot_width = 1500, plot_height = 550;
  std::string summary;  // printed, also in summary.txt
};

// Writes files, run.json (run_metadata + params + seconds) and the plot into a staged folder,
// publishes it whole, then prints the summary and what was written.
void publish(const TheoryRun& run, const TheoryCommon& common, double seconds);

// Runs a study with a progress line, times it, describes it as a TheoryRun and publishes it:
//   run_and_publish("theory sde", common, [&](const Progress& p) { return run_sde_study(o, p); },
//                   [&](const SdeStudy& s) { TheoryRun r; ...; return r; });
template <class RunStudy, class Describe>
void run_and_publish(const std::string& command, const TheoryCommon& common, RunStudy run_study,
                     Describe describe) {
  const auto start = std::chrono::steady_clock::now();
  const auto study = run_study(Progress(command));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  TheoryRun run = describe(study);
  run.command = command;
  publish(run, common, seconds);
}

}  // namespace sigprop::cli
