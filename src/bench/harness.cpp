#include "bench/harness.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "bench/bench_case.h"
#include "bench/probe_timing.h"
#include "bench/sde_timing.h"
#include "bench/train_timing.h"
#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "core/run_folder.h"
#include "core/runtime.h"
#include "core/version.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

struct Sample {
  double step_s = 0;   // median timed step (a-c) or the job's wall (d, e) of one process
  double rss_mib = 0;  // its peak resident memory
  Json result;         // the process's JSON line: its times and what the agreement check reads
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

const char* kind_name(BenchKind k) {
  switch (k) {
    case BenchKind::Train:
      return "train";
    case BenchKind::Probe:
      return "probe";
    case BenchKind::Sde:
      return "sde";
    case BenchKind::PythonAttention:
      return "attention";
    case BenchKind::PythonProbe:
      return "probe";
  }
  return "?";
}

// The PyTorch peer of each kind, from --peers DIR or the source tree's bench/.
std::string peer_script(BenchKind kind, const std::string& dir) {
  const bool python = kind == BenchKind::PythonAttention || kind == BenchKind::PythonProbe;
  const std::string file = python                     ? "python_front.py"
                           : kind == BenchKind::Train ? "peer.py"
                           : kind == BenchKind::Probe ? "probe_peer.py"
                                                      : "sde_peer.py";
  if (dir.empty()) return find_in_source_tree("bench/" + file, "pass --peers DIR").string();
  const fs::path path = fs::path(dir) / file;
  if (!fs::exists(path)) throw ConfigError("--peers " + dir + " has no " + file);
  return path.string();
}

void write_case_inputs(const std::string& dir, const BenchCase& c) {
  switch (c.kind) {
    case BenchKind::Train:
      return write_bench_inputs(dir, c, 0);
    case BenchKind::Probe:
      return write_probe_bench_inputs(dir, c);
    case BenchKind::Sde:
      return write_sde_bench_inputs(dir, c);
    case BenchKind::PythonAttention:
      return write_file_atomic(dir + "/case.json",
                               Json{{"kind", "attention"}, {"variant", c.variant},
                                    {"width", c.spec.width}, {"heads", c.spec.heads}, {"seq", c.seq},
                                    {"batch", c.batch}, {"warmup", c.warmup}, {"steps", c.steps}}.dump());
    case BenchKind::PythonProbe:
      return write_file_atomic(dir + "/case.json",
                               Json{{"kind", "probe"}, {"model", c.variant}, {"depth", c.spec.depth}, {"width", c.spec.width},
                                    {"heads", c.spec.heads}, {"seq", c.seq}, {"batch", c.batch},
                                    {"repeats", c.steps}}.dump());
  }
}

// The sigprop package beside the executable that is benchmarked (build/python), for the
// Python front's sigprop side; "" leaves it to the Python path (scripts/build.sh's .pth).
std::string python_package(const std::string& sigprop) {
  std::error_code ec;
  const auto dir = fs::canonical(sigprop, ec).parent_path() / "python";
  return !ec && fs::exists(dir / "sigprop" / "__init__.py") ? dir.string() : "";
}

// How far the sides' results agree, in words: the first and last step's loss of each side for
// training steps (the same weights and batch: equal up to rounding); the same law, not the same
// digits, for the seeded jobs (d, e).
std::string agreement(const BenchCase& c, const Json& ours, const std::vector<Json>& peers) {
  const Json& theirs = peers.front();
  if (c.kind == BenchKind::Train) {
    std::string out = fmt::format("loss first/last: sigprop {:.5f}/{:.5f}", ours.at("first_loss").get<double>(),
                                  ours.at("last_loss").get<double>());
    const char* names[] = {"eager", "compiled"};
    for (size_t m = 0; m < peers.size() && m < 2; ++m)
      out += fmt::format(", {} {:.5f}/{:.5f}", names[m], peers[m].at("first_loss").get<double>(),
                         peers[m].at("last_loss").get<double>());
    return out;
  }
  if (c.kind == BenchKind::Sde)
    return fmt::format("final mean rho {:.4f} vs {:.4f}", ours.at("final_rho_mean").get<double>(),
                       theirs.at("final_rho_mean").get<double>());
  if (c.kind == BenchKind::PythonProbe) {
    const auto m = [](const Json& j, const char* key) { return median(j.at(key).get<std::vector<double>>()); };
    const double fwd = m(ours, "fwd_bwd_seconds");
    return fmt::format("probe = {:.1f}x one fwd+bwd ({:.1f}x without spectra); final cosine {:.4f} vs {:.4f}",
                       m(ours, "seconds") / fwd, m(ours, "no_spectra_seconds") / fwd,
                       ours.at("final_cosine").get<double>(), theirs.at("final_cosine").get<double>());
  }
  if (c.kind != BenchKind::Probe) return "";
  // Mean final-layer cosine per preset (over seeds) on each side; the largest gap.
  std::map<std::string, std::pair<double, double>> sum;
  std::map<std::string, int> count;
  for (const auto& r : ours.at("rows")) sum[r.at("preset")].first += r.at("cosine").get<double>(), ++count[r.at("preset")];
  for (const auto& r : theirs.at("rows")) sum[r.at("preset")].second += r.at("cosine").get<double>();
  double worst = 0;
  std::string where;
  for (const auto& [preset, s] : sum) {
    const double gap = std::abs(s.first - s.second) / count[preset];
    if (gap >= worst) worst = gap, where = preset;
  }
  return fmt::format("max |d final cosine| {:.3f} ({})", worst, where);
}

// Runs one side in its own process; its last JSON line with "seconds" holds the times and
// "peak_rss_mib" its own peak memory.
Sample run_side(const std::vector<std::string>& argv, const std::string& log) {
  const int code = run_process(argv, log, 0);
  const std::string text = read_file(log);
  std::istringstream lines(text);
  Json result;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind('{', 0) == 0) {
      auto j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("seconds")) result = j;
    }
  if (code != 0 || result.is_null())
    throw DataError(fmt::format("benchmark side `{}` failed (exit {}); the end of its output:\n{}",
                                argv.front(), code,
                                text.substr(text.size() > 1500 ? text.size() - 1500 : 0)));
  return {median(result.at("seconds").get<std::vector<double>>()),
          result.at("peak_rss_mib").get<double>(), result};
}

// Times one case: a.repeats processes per side, alternating, in `dir`. Returns its bench.csv
// row as JSON (NaN where a column does not apply).
Json time_case(const BenchOptions& a, const BenchCase& c, const std::string& dir, int threads,
               const LogFn& say) {
  fs::create_directories(dir);
  write_case_inputs(dir, c);
  const std::string peer = peer_script(c.kind, a.peers);
  const bool train = c.kind == BenchKind::Train;
  const bool python = c.kind == BenchKind::PythonAttention || c.kind == BenchKind::PythonProbe;
  const bool steps = train || c.kind == BenchKind::PythonAttention;
  const double unit = steps ? 1e3 : 1.0;  // ms per step, or seconds per job
  const char* unit_name = steps ? "ms/step" : "s/job";
  const std::string package = python ? python_package(a.sigprop) : "";
  // A training case races two PyTorch peers, both as a user would write them on torch 2.x: eager
  // (SDPA attention, fused AdamW) and the same model under torch.compile. Other cases: one peer.
  const std::vector<std::string> modes = train ? std::vector<std::string>{"eager", "compile"}
                                               : std::vector<std::string>{""};
  std::vector<Sample> ours;
  std::vector<std::vector<Sample>> theirs(modes.size());
  // The machine's SGEMM rate can drift over a long run (a shared host): a case's share of it is
  // taken against the rate measured just before and just after that case, the higher of the two.
  double case_sgemm = train ? measure_sgemm_gflops() : std::numeric_limits<double>::quiet_NaN();
  for (int r = 0; r < a.repeats; ++r) {  // A/B, then B/A: drift in the machine hits both sides
    const auto run_ours = [&] {
      std::vector<std::string> argv = {a.sigprop, "bench-worker", kind_name(c.kind), dir};
      if (train) argv.insert(argv.end(), {"--device", a.device});
      if (python) argv = {a.python, peer, "sigprop", dir, std::to_string(threads), package};
      ours.push_back(run_side(argv, fmt::format("{}/sigprop-{}.log", dir, r)));
    };
    const auto run_theirs = [&] {
      for (size_t m = 0; m < modes.size(); ++m) {
        std::vector<std::string> argv = {a.python, peer, dir, std::to_string(threads)};
        if (python) argv = {a.python, peer, "pytorch", dir, std::to_string(threads)};
        if (!modes[m].empty()) argv.insert(argv.end(), {modes[m], a.device});
        const std::string name = modes[m].empty() ? "pytorch" : "pytorch-" + modes[m];
        theirs[m].push_back(run_side(argv, fmt::format("{}/{}-{}.log", dir, name, r)));
      }
    };
    if (r % 2 == 0) run_ours(), run_theirs();
    else run_theirs(), run_ours();
    std::string line = fmt::format("  case {} repeat {}/{}: sigprop {:.2f} {}", c.id, r + 1, a.repeats,
                                   unit * ours.back().step_s, unit_name);
    for (size_t m = 0; m < modes.size(); ++m)
      line += fmt::format(", pytorch{} {:.2f} {}", modes[m].empty() ? "" : " " + modes[m],
                          unit * theirs[m].back().step_s, unit_name);
    say(line);
  }
  const auto med = [](const std::vector<Sample>& s, double Sample::*field) {
    std::vector<double> v;
    for (const auto& x : s) v.push_back(x.*field);
    return median(v);
  };
  if (train) case_sgemm = std::max(case_sgemm, measure_sgemm_gflops());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double ours_s = med(ours, &Sample::step_s), theirs_s = med(theirs[0], &Sample::step_s);
  const double compiled_s = train ? med(theirs[1], &Sample::step_s) : nan;
  // Throughput columns belong to the training steps only.
  const double tokens = train ? double(c.batch * c.seq) : nan;
  const double gflops = train ? training_flops_per_token(c.spec, c.seq) * tokens / ours_s / 1e9 : nan;
  std::vector<Json> peer_results;
  for (const auto& samples : theirs) peer_results.push_back(samples.back().result);
  const std::string agree = agreement(c, ours.back().result, peer_results);
  const Json row = {{"case", c.id}, {"description", c.description}, {"unit", unit_name},
                    {"sigprop_time", unit * ours_s}, {"pytorch_time", unit * theirs_s},
                    {"ratio", theirs_s / ours_s}, {"compiled_time", unit * compiled_s},
                    {"ratio_compiled", compiled_s / ours_s}, {"sigprop_tokens_per_s", tokens / ours_s},
                    {"pytorch_tokens_per_s", tokens / theirs_s}, {"sigprop_gflops", gflops},
                    {"sgemm_gflops", case_sgemm}, {"sgemm_fraction", gflops / case_sgemm},
                    {"sigprop_rss_mib", med(ours, &Sample::rss_mib)},
                    {"pytorch_rss_mib", med(theirs[0], &Sample::rss_mib)},
                    {"compiled_rss_mib", train ? med(theirs[1], &Sample::rss_mib) : nan},
                    {"agreement", agree}};
  return row;
}

// The row's line of bench.csv.
std::string csv_line(const Json& r) {
  const auto x = [&](const char* key) { return r.at(key).get<double>(); };
  return fmt::format("{},\"{}\",{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.0f},{:.0f},{:.2f},{:.1f},{:.3f},{:.0f},{:.0f},{:.0f},\"{}\"\n",
                     r.at("case").get<std::string>(), r.at("description").get<std::string>(),
                     r.at("unit").get<std::string>(), x("sigprop_time"), x("pytorch_time"), x("ratio"),
                     x("compiled_time"), x("ratio_compiled"), x("sigprop_tokens_per_s"),
                     x("pytorch_tokens_per_s"), x("sigprop_gflops"), x("sgemm_gflops"),
                     x("sgemm_fraction"), x("sigprop_rss_mib"), x("pytorch_rss_mib"),
                     x("compiled_rss_mib"), r.at("agreement").get<std::string>());
}

}  // namespace

BenchResult run_bench(const BenchOptions& options, const LogFn& log) {
  const LogFn say = or_silent(log);
  BenchOptions a = options;
  if (a.python.empty()) a.python = build_python();
  parse_device(a.device);  // refused before anything is written
  if (a.repeats < 1) throw ConfigError("--repeats must be >= 1");
  if (!fs::exists(a.python))
    throw ConfigError("--python " + a.python + " does not exist (the Python whose torch runs the peers)");
  const auto cases = bench_cases(a.quick);
  const auto chosen = select_bench_cases(cases, a.cases);

  RunFolder folder(a.out, a.force);
  const int threads = torch_threads();
  const double sgemm = measure_sgemm_gflops();
  const BlasInfo blas = blas_info();
  say(fmt::format("sigprop bench: torch {}, {} threads, BLAS {} ({}), 512^3 SGEMM {:.1f} GFLOP/s, {} repeats{}",
                  libtorch_version(), threads, blas.library, blas.cpu_capability, sgemm, a.repeats,
                  a.quick ? " (quick: 2 timed steps, not for quoting)" : ""));
  Json rows = Json::array();
  std::string csv = "case,description,unit,sigprop_time,pytorch_time,ratio,compiled_time,ratio_compiled,"
                    "sigprop_tokens_per_s,pytorch_tokens_per_s,sigprop_gflops,sgemm_gflops,sgemm_fraction,"
                    "sigprop_rss_mib,pytorch_rss_mib,compiled_rss_mib,agreement\n";
  for (const auto& c : chosen) {
    const Json row = time_case(a, c, folder.path("case-" + c.id), threads, say);
    rows.push_back(row);
    csv += csv_line(row);
  }

  Json meta = run_metadata("bench");
  meta["sgemm_gflops"] = sgemm;
  meta["repeats"] = a.repeats;
  meta["quick"] = a.quick;
  meta["rows"] = rows;
  folder.write("run.json", meta.dump(2) + "\n");
  folder.write("bench.csv", csv);
  folder.commit();
  return {rows, a.repeats};
}


std::string bench_table(const BenchResult& result) {
  std::string out;
  // NaN where a column does not apply: "-" here, null in run.json.
  const auto number = [](double v, const char* spec) {
    return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : std::string("-");
  };
  out += fmt::format("\n{:<13}{:>10}{:>10}{:>9}{:>10}{:>9}{:>8}{:>12}{:>9}{:>9}{:>10}{:>10}{:>10}  {}\n", "case",
                     "sigprop", "eager", "ratio", "compiled", "ratio", "unit", "tokens/s", "GFLOP/s",
                     "of SGEMM", "RSS ours", "RSS eager", "RSS comp", "workload");
  for (const auto& r : result.rows) {
    const auto x = [&](const char* key) { return r[key].get<double>(); };
    out += fmt::format("{:<13}{:>10.2f}{:>10.2f}{:>8.2f}x{:>10}{:>9}{:>8}{:>12}{:>9}{:>9}{:>7.0f}MiB{:>7.0f}MiB{:>10}  {}\n",
                       r["case"].get<std::string>(), x("sigprop_time"), x("pytorch_time"), x("ratio"),
                       number(x("compiled_time"), "{:.2f}"), number(x("ratio_compiled"), "{:.2f}x"),
                       r["unit"].get<std::string>(), number(x("sigprop_tokens_per_s"), "{:.0f}"),
                       number(x("sigprop_gflops"), "{:.1f}"), number(100 * x("sgemm_fraction"), "{:.0f}%"),
                       x("sigprop_rss_mib"), x("pytorch_rss_mib"), number(x("compiled_rss_mib"), "{:.0f}MiB"),
                       r["description"].get<std::string>());
    if (!r["agreement"].get<std::string>().empty())
      out += fmt::format("{:<13}  agreement: {}\n", "", r["agreement"].get<std::string>());
  }
  out += fmt::format("ratio = PyTorch time / sigprop time (> 1: sigprop faster); eager: SDPA attention and fused "
                     "AdamW; compiled: the same under torch.compile (training cases); medians over {} "
                     "processes per side; SGEMM: 512^3, measured before and after each training case.\n",
                     result.repeats);
  return out;
}

}  // namespace sigprop
