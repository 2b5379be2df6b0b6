// `sigprop repro 000|001|002|003|004|all|PLAN.toml`: runs a paper's reproduction plan
// (configs/repro/NNN.toml) step by step into one folder, then writes its report.html. Finished
// steps are kept on a rerun, so an interrupted reproduction continues where it stopped.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "cli/child_process.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "core/error.h"
#include "report/html_report.h"
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

// Runs one plan; returns false when interrupted.
bool run_plan(const fs::path& path, const std::string& out) {
  const ReproPlan plan = load_repro_plan(path.string());
  const std::string tag = path.stem().string();
  fs::create_directories(out);
  fmt::print("[repro {}] {}\n  claim: {}\n  folder: {}\n", tag, plan.title, plan.claim, out);
  const auto* stop = install_interrupt_flag();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const ReproStep& step = plan.steps[i];
    const std::string step_dir = (fs::path(out) / step.name).string();
    if (repro_step_done(out, step)) {
      fmt::print("[repro {}] step {}/{} {}: done before, kept\n", tag, i + 1, plan.steps.size(), step.name);
      continue;
    }
    fs::remove_all(step_dir);  // a changed or half-run step starts over (races resume themselves)
    fmt::print("[repro {}] step {}/{} {}: {}\n", tag, i + 1, plan.steps.size(), step.name,
               step.command_line());
    std::fflush(stdout);
    auto args = step.args;
    args.insert(args.end(), {"--out", step_dir});
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = spawn_sigprop(args, "", 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = child_exit_code(status);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (code == kExitInterrupted || stop->load()) return false;
    if (code != kExitOk && code != kExitDiverged)  // divergence is a result
      throw DataError(fmt::format("repro {} step '{}' failed with exit code {} ({})", tag,
                                  step.name, code, step.command_line()));
    mark_repro_step_done(out, plan, step, code, seconds);
    fmt::print("[repro {}] step {} finished in {:.1f} s\n", tag, step.name, seconds);
  }
  const ReportStats s = write_html_report(out);
  fmt::print("[repro {}] report: {}/report.html ({})\n", tag, fs::absolute(out).string(),
             s.text());
  return true;
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
    if (!run_plan(path, out)) {
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
