// `sigprop probe`: per-layer signal propagation at initialisation, for presets and depths.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "cli/progress.h"
#include "core/run_folder.h"
#include "config/presets.h"
#include "core/runtime.h"
#include "probe/probe_report.h"
#include "probe/probe_run.h"

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
  ProbeRunOptions o;
  ProbePlan& plan = o.plan;
  plan.specs = resolve_specs(a.model, a.compare ? preset_names()
                                                : std::vector<std::string>{"post-ln", "pre-ln", "post-ln-scaled"});
  if (!a.depths.empty()) refuse_set_depth(a.model);
  plan.depths = a.depths.empty() ? std::vector<int>{plan.specs.front().depth} : a.depths;
  for (int s = 0; s < a.seeds; ++s) plan.seeds.push_back(static_cast<uint64_t>(s));
  plan.input = parse_probe_input(a.input);
  plan.seq = a.seq, plan.batch = a.batch;
  plan.device = parse_device(a.device);
  o.input_name = a.input, o.device_name = a.device;
  o.compare = a.compare, o.out = a.out, o.force = a.force, o.plot = !a.no_plot;
  const auto r = run_probe(o, Progress("probe"),
                           [](const std::string& line) { fmt::print(stderr, "[probe] {}\n", line); });
  fmt::print("{}", probe_summary_table(r.rows, a.compare));
  fmt::print("wrote {}/{} in {:.1f}s\n", a.out, fmt::join(r.written, ", "), r.seconds);
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
