// `sigprop repro 000|001|002|003|004|all|PLAN.toml`: runs a paper's reproduction plan
// (configs/repro/NNN.toml) step by step into one folder, then writes its report.html. Finished
// steps are kept on a rerun, so an interrupted reproduction continues where it stopped.

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/interrupt.h"
#include "sweep/repro.h"

namespace sigprop::cli {
namespace {

struct ReproArgs {
  std::string which, out, configs;
};

void run(const ReproArgs& a) {
  // Every plan is resolved and read first: a bad name or plan fails before any step runs.
  for (const auto& [plan, out] : resolve_repro_plans(a.which, a.out, a.configs))
    if (!run_repro_plan(plan, out, [](const std::string& line) { fmt::print("{}\n", line); std::fflush(stdout); },
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
