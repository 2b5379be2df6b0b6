// `sigprop export RUN --format safetensors [--out DIR]`: a trained run's weights in a format
// other tools read (train/run_files.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "train/run_files.h"

namespace sigprop::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "Write a trained run's last checkpoint as model.safetensors + config.json");
  static std::string run, format = "safetensors", out;
  cmd->add_option("run", run, "run folder (written by `sigprop train --out`)")->required();
  cmd->add_option("--format", format, "output format: safetensors")->capture_default_str();
  cmd->add_option("--out", out, "folder to write into (default: the run folder)");
  cmd->callback([] {
    for (const auto& path : export_run(run, format, out)) fmt::print("wrote {}\n", path);
  });
}

}  // namespace sigprop::cli
