// `sigprop repro 000|001|002|003|004|all|PLAN.toml`: runs a paper's reproduction plan
// (configs/repro/NNN.toml) step by step into one folder, then writes its report.html. Finished
// steps are kept on a rerun, so an interrupted reproduction continues where it stopped.

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/child_process.h"
#include "cli/commands.h"
#include "core/interrupt.h"
#include "core/error.h"
#include "sweep/repro.h"

namespace fs = std::filesystem;

namespace sigprop::cli {
namespace {

const std::vector<std::string> kPapers = {"000", "001", "002", "003", "004"};

struct ReproArgs {
  std::string which, out, configs;
};

fs::path configs_dir(const std::string& given) {
  if (given.empty()) return find_in_source_tree("configs/repro", "pass --configs DIR");
  if (!fs::is_directory(given)) throw ConfigError("--configs " + given + " is not a folder");
  return given;
}

fs::path plan_path(const ReproArgs& a, const std::string& which) {
  if (fs::path(which).extension() == ".toml") return which;
  if (std::find(kPapers.begin(), kPapers.end(), which) == kPapers.end())
    throw ConfigError("repro " + which + " is not allowed: one of 000, 001, 002, 003, 004, all, or a .toml plan");
  return configs_dir(a.configs) / (which + ".toml");
}

void run(const ReproArgs& a) {
  std::vector<std::string> which = a.which == "all" ? kPapers : std::vector<std::string>{a.which};
  // Resolve every plan first: a bad name or plan fails before any step runs.
  std::vector<std::pair<fs::path, std::string>> plans;
  for (const auto& w : which) {
    const fs::path path = plan_path(a, w);
    load_repro_plan(path.string());
    const std::string name = path.stem().string();
    const std::string out = a.out.empty() ? "runs/repro-" + name
                            : which.size() == 1 ? a.out : (fs::path(a.out) / name).string();
    plans.emplace_back(path, out);
  }
  for (const auto& [path, out] : plans)
    if (!run_repro_plan(path.string(), out, [](const std::string& line) { fmt::print("{}\n", line); std::fflush(stdout); },
                        install_interrupt_flag())) {
      fmt::print(stderr, "[repro] interrupted; rerun the same command to continue\n");
      std::exit(kExitInterrupted);
    }
}

}  // namespace

void add_repro_command(CLI::App& app) {
  static ReproArgs args;
  auto* cmd = app.add_subcommand("repro", "Reproduce a paper's headline claim (configs/repro/NNN.toml)");
  cmd->add_option("paper", args.which, "000 | 001 | 002 | 003 | 004 | all | PLAN.toml")->required();
  cmd->add_option("--out", args.out, "folder (default runs/repro-NNN; with all, one subfolder per paper)");
  cmd->add_option("--configs", args.configs, "folder of the plans (default configs/repro)");
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
