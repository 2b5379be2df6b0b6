#include "probe/probe_run.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/error.h"
#include "core/gnuplot.h"
#include "core/run_folder.h"
#include "probe/probe_report.h"

namespace sigprop {

ProbeRunResult run_probe(ProbeRunOptions o, const ProgressFn& progress, const LogFn& log) {
  ProbePlan& plan = o.plan;
  for (int d : plan.depths)
    if (d < 1) throw ConfigError("--depth " + std::to_string(d) + " is not allowed: depths are >= 1");
  ProbeRunResult result;
  for (const auto& spec : plan.specs)
    for (int d : plan.depths) {
      ModelSpec s = spec;
      s.depth = d;
      try {
        spec_for_probe_input(s, plan.input, plan.seq, 2);
      } catch (const ConfigError& e) {
        const std::string why = fmt::format("{} at depth {}: {}", spec.name, d, e.what());
        if (!o.compare) throw ConfigError(why);
        plan.skip.emplace_back(spec.name, d);
        result.skipped.push_back(why);
      }
    }
  if (plan.skip.size() == plan.specs.size() * plan.depths.size())
    throw ConfigError("no preset can be built at the depths asked for: " + result.skipped.front());
  if (log)
    for (const auto& why : result.skipped) log("skipped " + why);
  RunFolder folder(o.out, o.force);

  const auto t0 = std::chrono::steady_clock::now();
  result.rows = run_probe_plan(plan, progress);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json meta = run_metadata("probe");
  meta["input"] = o.input_name;
  meta["seq"] = plan.seq;
  meta["batch"] = plan.batch;
  meta["seeds"] = plan.seeds;
  meta["depths"] = plan.depths;
  meta["skipped"] = result.skipped;
  meta["device"] = o.device_name;
  meta["seconds"] = result.seconds;
  for (const auto& spec : plan.specs) {
    auto config = spec_to_json(spec);
    // The id of what was built: the spec adapted to the input (vocabulary, sequence length).
    for (const auto& r : result.rows)
      if (r.preset == spec.name) {
        config["config_id"] = r.config_id;
        break;
      }
    meta["configs"].push_back(config);
  }
  meta["headline"] = probe_headline(result.rows);

  folder.write("probe.csv", probe_csv(result.rows));
  folder.write("run.json", meta.dump(2) + "\n");
  result.written = {"probe.csv", "run.json"};
  if (o.plot) {
    render_plot(probe_plot_script(result.rows), folder.path("probe"));
    result.written.insert(result.written.end(), {"probe.png", "probe.svg"});
  }
  folder.commit();
  return result;
}

}  // namespace sigprop
