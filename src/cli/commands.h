// The subcommands. Each `add_*` registers its options on the app and a callback that runs it;
// the callbacks call library functions and do the printing and file writing.
#pragma once

#include <CLI/CLI.hpp>

#include "core/exit_codes.h"

namespace sigprop::cli {

void add_env_command(CLI::App& app);
void add_probe_command(CLI::App& app);
void add_presets_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_race_command(CLI::App& app);
void add_advise_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_theory_command(CLI::App& app);
void add_repro_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_predict_command(CLI::App& app);

}  // namespace sigprop::cli
