// Paper reproductions: a plan of sigprop command lines, one per figure of a paper's headline
// claim, run in order into one folder and reported together.
//
// configs/repro/NNN.toml:
//   paper = "000"
//   title = "Similarity escalation (paper 000)"
//   claim = "one sentence: what the paper shows"
//   [[step]]
//   name = "escalation"                       # the step's folder under the repro folder
//   args = "theory escalation --depth 32"     # a sigprop command line, without --out
//
// Steps are plain command lines so that every number in a reproduction can be re-run by hand.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"

namespace sigprop {

struct ReproStep {
  std::string name;
  std::vector<std::string> args;  // command line after `sigprop`, split on blanks
  std::string command_line() const;
};

struct ReproPlan {
  std::string paper, title, claim;
  std::vector<ReproStep> steps;
};

// Parses a plan; throws ConfigError naming the file and key (unknown keys, a missing name or
// args, a command other than probe/train/race/theory, an --out in args, a repeated name).
ReproPlan parse_repro_plan(const std::string& text, const std::string& source);
ReproPlan load_repro_plan(const std::string& path);

// Which steps of a repro folder are finished: done.json maps step name -> the command line it
// ran, so a step whose command changed is run again.
bool repro_step_done(const std::string& repro_dir, const ReproStep& step);
void mark_repro_step_done(const std::string& repro_dir, const ReproPlan& plan, const ReproStep& step,
                          int exit_code, double seconds);

// The papers with a plan in configs/repro/: 000 … 004.
const std::vector<std::string>& repro_papers();

// (plan file, output folder) for `which` = a paper (000 … 004), "all", or a PLAN.toml path, each
// plan read and checked: plans from `configs_dir` (default: configs/repro of the source tree),
// folders under `out` (default runs/repro-NNN; with all, one subfolder per paper). Throws
// ConfigError naming what is wrong.
std::vector<std::pair<std::string, std::string>> resolve_repro_plans(const std::string& which,
                                                                     const std::string& out,
                                                                     const std::string& configs_dir);

// Runs a plan's steps in order, each as `sigprop ARGS --out OUT/<step>` (the executable
// `sigprop`), keeping steps finished before, then writes OUT/report.html. `log` receives the
// running commentary. Returns false when a step was interrupted (Ctrl-C: `stop`, or a child's
// exit 130); throws DataError naming the step when one fails.
bool run_repro_plan(const std::string& plan_path, const std::string& out, const LogFn& log = nullptr,
                    const std::atomic<bool>* stop = nullptr,
                    const std::string& sigprop = "/proc/self/exe");

}  // namespace sigprop
