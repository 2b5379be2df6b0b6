// `sigprop theory sde|markov|tat|escalation|gradients`: theory beside measurement.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/theory.h"
#include "core/run_folder.h"

namespace sigprop::cli {

void add_common_options(CLI::App* cmd, TheoryCommon& c, const std::string& default_out) {
  c.out = default_out;
  cmd->add_option("--out", c.out, "output folder (replaced whole, if sigprop made it)")
      ->capture_default_str();
  cmd->add_flag("--force", c.force, "replace --out even if it is a non-empty folder of yours");
  cmd->add_option("--seed", c.seed, "random seed (same seed, same numbers)")->capture_default_str();
  cmd->add_flag("--no-plot", c.no_plot, "skip the gnuplot figure");
  // Before any work: a refused --out must not cost the study's run time.
  cmd->parse_complete_callback([&c] { check_output_folder(c.out, c.force); });
}

void publish(const StudyOutput& output, const TheoryCommon& common, double seconds) {
  const auto written =
      save_study(output, {common.out, common.force, !common.no_plot, common.seed, seconds});
  fmt::print("{}", output.summary);
  fmt::print("wrote {}/{{{}}} in {:.1f}s\n", common.out, fmt::join(written, ", "), seconds);
}

void add_theory_command(CLI::App& app) {
  auto* theory = app.add_subcommand(
      "theory", "A paper's prediction beside the measurement, with an agreement figure");
  theory->require_subcommand(1);
  add_theory_sde(theory);
  add_theory_markov(theory);
  add_theory_tat(theory);
  add_theory_escalation(theory);
  add_theory_gradients(theory);
}

}  // namespace sigprop::cli
