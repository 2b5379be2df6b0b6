// The `sigprop theory` subcommands: each computes a paper's prediction and the measurement in
// one run and writes both, with an agreement figure, to one folder (CSV + run.json + plots).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "studies/study_output.h"

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

// Saves a finished study (studies/study_output.h), then prints its summary and what was written.
void publish(const StudyOutput& output, const TheoryCommon& common, double seconds);

// Runs a study with a progress line, times it, and publishes what it describes:
//   run_theory("theory sde", common, options, run_sde_study, sde_output);
template <class Options, class RunStudy, class Describe>
void run_theory(const std::string& command, const TheoryCommon& common, const Options& options,
                RunStudy run_study, Describe describe) {
  const auto start = std::chrono::steady_clock::now();
  const auto study = run_study(options, Progress(command));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  publish(describe(study, options), common, seconds);
}

}  // namespace sigprop::cli
