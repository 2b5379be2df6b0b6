// `sigprop theory sde|markov|tat|escalation|gradients`: theory beside measurement.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/theory.h"
#include "core/run_folder.h"
#include "report/gnuplot.h"

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

void publish(const TheoryRun& run, const TheoryCommon& common, double seconds) {
  RunFolder folder(common.out, common.force);
  nlohmann::json meta = run_metadata(run.command);
  meta["seed"] = common.seed;
  meta["params"] = run.params;
  meta["seconds"] = seconds;
  std::string written;
  for (const auto& [name, content] : run.files) {
    folder.write(name, content);
    written += name + ", ";
  }
  folder.write("summary.txt", run.summary);
  folder.write("run.json", meta.dump(2) + "\n");
  written += "summary.txt, run.json";
  if (!common.no_plot && !run.plot_script.empty()) {
    render_plot(run.plot_script, folder.path(run.plot_name), run.plot_width, run.plot_height);
    written += fmt::format(", {0}.png, {0}.svg", run.plot_name);
  }
  folder.commit();
  fmt::print("{}", run.summary);
  fmt::print("wrote {}/{{{}}} in {:.1f}s\n", common.out, written, seconds);
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
