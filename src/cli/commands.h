// The subcommands. Each `add_*` registers its options on the app and a callback that runs it;
// the callbacks call library functions and do the printing and file writing.
#pragma once

#include <CLI/CLI.hpp>

namespace sigprop::cli {

// Exit codes, documented in the README.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // an unexpected error
constexpr int kExitConfig = 2;   // bad config, preset, key or command-line value
constexpr int kExitData = 3;     // missing or corrupt data file
constexpr int kExitDiverged = 4;     // training stopped on a non-finite loss or gradient
constexpr int kExitInterrupted = 130;  // Ctrl-C: checkpoint saved, resumable

void add_env_command(CLI::App& app);
void add_probe_command(CLI::App& app);
void add_presets_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_race_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_theory_command(CLI::App& app);
void add_repro_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace sigprop::cli
