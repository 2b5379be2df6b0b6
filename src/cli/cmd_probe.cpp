// `sigprop probe`: per-layer signal propagation at initialisation, for presets and depths.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "cli/progress.h"
#include "core/run_folder.h"
#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "core/runtime.h"
#include "probe/probe.h"
#include "core/gnuplot.h"
#include "probe/probe_report.h"

namespace sigprop::cli {
namespace {

struct ProbeArgs {
  ModelOptions model;
  std::vector<int> depths;
  int seq = 64, batch = 8, seeds = 2;
  std::string input = "kjv", out = "runs/probe", device = "cpu";
  bool no_plot = false, compare = false, force = false;
};

void run(const ProbeArgs& a) {
  ProbePlan plan;
  plan.specs = resolve_specs(a.model, a.compare ? preset_names()
                                                : std::vector<std::string>{"post-ln", "pre-ln", "post-ln-scaled"});
  if (!a.depths.empty()) refuse_set_depth(a.model);
  plan.depths = a.depths;
  if (plan.depths.empty()) plan.depths = {plan.specs.front().depth};
  for (int d : plan.depths)
    if (d < 1) throw ConfigError("--depth " + std::to_string(d) + " is not allowed: depths are >= 1");
  for (int s = 0; s < a.seeds; ++s) plan.seeds.push_back(static_cast<uint64_t>(s));
  plan.input = parse_probe_input(a.input);
  plan.seq = a.seq;
  plan.batch = a.batch;
  plan.device = parse_device(a.device);
  // Reject impossible combinations before any work or any file. Under --compare, where the
  // presets were not chosen one by one, a preset that cannot be built at some depth (TAT's eta is
  // out of reach of a shallow stack) is left out at that depth, and said so.
  std::vector<std::string> skipped;
  for (const auto& spec : plan.specs)
    for (int d : plan.depths) {
      ModelSpec s = spec;
      s.depth = d;
      try {
        spec_for_probe_input(s, plan.input, plan.seq, 2);
      } catch (const ConfigError& e) {
        const std::string why = fmt::format("{} at depth {}: {}", spec.name, d, e.what());
        if (!a.compare) throw ConfigError(why);
        plan.skip.emplace_back(spec.name, d);
        skipped.push_back(why);
      }
    }
  if (plan.skip.size() == plan.specs.size() * plan.depths.size())
    throw ConfigError("no preset can be built at the depths asked for: " + skipped.front());
  for (const auto& why : skipped) fmt::print(stderr, "[probe] skipped {}\n", why);
  RunFolder folder(a.out, a.force);

  const auto t0 = std::chrono::steady_clock::now();
  auto rows = run_probe_plan(plan, Progress("probe"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json meta = run_metadata("probe");
  meta["input"] = a.input;
  meta["seq"] = a.seq;
  meta["batch"] = a.batch;
  meta["seeds"] = plan.seeds;
  meta["depths"] = plan.depths;
  meta["skipped"] = skipped;
  meta["device"] = a.device;
  meta["seconds"] = seconds;
  for (const auto& spec : plan.specs) {
    auto config = spec_to_json(spec);
    // The id of what was built: the spec adapted to the input (vocabulary, sequence length).
    for (const auto& r : rows)
      if (r.preset == spec.name) {
        config["config_id"] = r.config_id;
        break;
      }
    meta["configs"].push_back(config);
  }
  meta["headline"] = probe_headline(rows);

  folder.write("probe.csv", probe_csv(rows));
  folder.write("run.json", meta.dump(2) + "\n");
  if (!a.no_plot) render_plot(probe_plot_script(rows), folder.path("probe"));
  folder.commit();

  fmt::print("{}", probe_summary_table(rows, a.compare));
  fmt::print("wrote {}/probe.csv, run.json{} in {:.1f}s\n", a.out,
             a.no_plot ? "" : ", probe.png, probe.svg", seconds);
}

}  // namespace

void add_probe_command(CLI::App& app) {
  static ProbeArgs args;
  auto* cmd = app.add_subcommand("probe", "Measure signal propagation at initialisation, per layer");
  add_model_options(cmd, args.model);
  cmd->add_option("--depth", args.depths, "depth(s) L, comma-separated (default: the preset's)")
      ->delimiter(',');
  cmd->add_option("--seq", args.seq, "tokens per sequence T")->check(at_least(2))->capture_default_str();
  cmd->add_option("--batch", args.batch, "sequences per batch")->check(at_least(1))->capture_default_str();
  cmd->add_option("--seeds", args.seeds, "number of seeds (0..S-1), each a fresh init and batch")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--input", args.input, "kjv | gaussian | isometric")->capture_default_str();
  cmd->add_option("--out", args.out, "output folder (replaced whole, if sigprop made it)")
      ->capture_default_str();
  cmd->add_flag("--force", args.force, "replace --out even if it is a non-empty folder of yours");
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_flag("--no-plot", args.no_plot, "skip the gnuplot figure");
  cmd->add_flag("--compare", args.compare,
                "compare presets (default: all of them); table sorted by final-layer cosine");
  cmd->parse_complete_callback([] { check_output_folder(args.out, args.force); });
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
