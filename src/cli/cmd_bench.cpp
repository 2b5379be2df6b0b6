// `sigprop bench`: sigprop against its PyTorch peer (bench/peer.py) on the same work, each side in
// its own process, alternating A/B, medians and ratios; `bench-worker` is sigprop's side.
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench_case.h"
#include "bench/train_timing.h"
#include "cli/child_process.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/run_folder.h"
#include "core/runtime.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop::cli {
namespace {

struct BenchArgs {
  std::string cases = "a,b,c", out = "runs/bench", python = "/usr/bin/python3", peer;
  int repeats = 5;
  bool quick = false;
};

struct Sample {
  double step_s = 0;  // median timed step of one process
  double rss_mib = 0;  // its peak resident memory
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string peer_script(const std::string& given) {
  if (given.empty()) return find_in_source_tree("bench/peer.py", "pass --peer FILE").string();
  if (!fs::exists(given)) throw ConfigError("--peer " + given + " does not exist");
  return given;
}

// Runs one side in its own process; its last JSON line holds the step times.
Sample run_side(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = spawn_process(argv, log, 0);
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const std::string text = read_file(log);
  std::istringstream lines(text);
  Json result;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("{\"seconds\"", 0) == 0) result = Json::parse(line);
  if (child_exit_code(status) != 0 || result.is_null())
    throw DataError(fmt::format("benchmark side `{}` failed (exit {}); the end of its output:\n{}",
                                argv.front(), child_exit_code(status),
                                text.substr(text.size() > 1500 ? text.size() - 1500 : 0)));
  return {median(result.at("seconds").get<std::vector<double>>()), usage.ru_maxrss / 1024.0};
}

void run(const BenchArgs& a) {
  if (a.repeats < 1) throw ConfigError("--repeats must be >= 1");
  const std::string peer = peer_script(a.peer);
  if (!fs::exists(a.python)) throw ConfigError("--python " + a.python + " does not exist (apt install python3-torch)");
  const auto cases = bench_cases(a.quick);
  std::vector<BenchCase> chosen;
  std::stringstream ids(a.cases);
  for (std::string id; std::getline(ids, id, ',');) chosen.push_back(find_bench_case(cases, id));

  RunFolder folder(a.out);
  const int threads = torch_threads();
  const double sgemm = measure_sgemm_gflops();
  fmt::print("sigprop bench: {} threads, OPENBLAS_CORETYPE={}, 512^3 SGEMM {:.1f} GFLOP/s, {} repeats{}\n",
             threads, std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(unset)",
             sgemm, a.repeats, a.quick ? " (quick: 2 timed steps, not for quoting)" : "");
  Json rows = Json::array();
  std::string csv = "case,description,sigprop_step_ms,pytorch_step_ms,ratio,sigprop_tokens_per_s,"
                    "pytorch_tokens_per_s,sigprop_gflops,sgemm_fraction,sigprop_rss_mib,pytorch_rss_mib\n";
  for (const auto& c : chosen) {
    const std::string dir = folder.path("case-" + c.id);
    fs::create_directories(dir);
    write_bench_inputs(dir, c, 0);
    std::vector<Sample> ours, theirs;
    for (int r = 0; r < a.repeats; ++r) {  // A/B, then B/A: drift in the machine hits both sides
      const auto run_ours = [&] {
        ours.push_back(run_side({"/proc/self/exe", "bench-worker", dir}, fmt::format("{}/sigprop-{}.log", dir, r)));
      };
      const auto run_theirs = [&] {
        theirs.push_back(run_side({a.python, peer, dir, std::to_string(threads)},
                                  fmt::format("{}/pytorch-{}.log", dir, r)));
      };
      if (r % 2 == 0) run_ours(), run_theirs();
      else run_theirs(), run_ours();
      fmt::print("  case {} repeat {}/{}: sigprop {:.2f} ms, pytorch {:.2f} ms\n", c.id, r + 1, a.repeats,
                 1e3 * ours.back().step_s, 1e3 * theirs.back().step_s);
      std::fflush(stdout);
    }
    const auto med = [](const std::vector<Sample>& s, double Sample::*field) {
      std::vector<double> v;
      for (const auto& x : s) v.push_back(x.*field);
      return median(v);
    };
    const double ours_s = med(ours, &Sample::step_s), theirs_s = med(theirs, &Sample::step_s);
    const double tokens = double(c.batch * c.seq);
    const double gflops = training_flops_per_token(c.spec, c.seq) * tokens / ours_s / 1e9;
    const Json row = {{"case", c.id}, {"description", c.description},
                      {"sigprop_step_ms", 1e3 * ours_s}, {"pytorch_step_ms", 1e3 * theirs_s},
                      {"ratio", theirs_s / ours_s}, {"sigprop_tokens_per_s", tokens / ours_s},
                      {"pytorch_tokens_per_s", tokens / theirs_s}, {"sigprop_gflops", gflops},
                      {"sgemm_fraction", gflops / sgemm},
                      {"sigprop_rss_mib", med(ours, &Sample::rss_mib)},
                      {"pytorch_rss_mib", med(theirs, &Sample::rss_mib)}};
    rows.push_back(row);
    csv += fmt::format("{},\"{}\",{:.3f},{:.3f},{:.3f},{:.0f},{:.0f},{:.2f},{:.3f},{:.0f},{:.0f}\n", c.id,
                       c.description, 1e3 * ours_s, 1e3 * theirs_s, theirs_s / ours_s, tokens / ours_s,
                       tokens / theirs_s, gflops, gflops / sgemm, med(ours, &Sample::rss_mib),
                       med(theirs, &Sample::rss_mib));
  }

  fmt::print("\n{:<5}{:>13}{:>13}{:>9}{:>12}{:>9}{:>9}{:>10}{:>10}  {}\n", "case", "sigprop ms",
             "pytorch ms", "ratio", "tokens/s", "GFLOP/s", "of SGEMM", "RSS ours", "RSS peer",
             "workload");
  for (const auto& r : rows)
    fmt::print("{:<5}{:>13.2f}{:>13.2f}{:>8.2f}x{:>12.0f}{:>9.1f}{:>8.0f}%{:>7.0f}MiB{:>7.0f}MiB  {}\n",
               r["case"].get<std::string>(), r["sigprop_step_ms"].get<double>(),
               r["pytorch_step_ms"].get<double>(), r["ratio"].get<double>(),
               r["sigprop_tokens_per_s"].get<double>(), r["sigprop_gflops"].get<double>(),
               100 * r["sgemm_fraction"].get<double>(), r["sigprop_rss_mib"].get<double>(),
               r["pytorch_rss_mib"].get<double>(), r["description"].get<std::string>());
  fmt::print("ratio = PyTorch step time / sigprop step time (> 1: sigprop faster); medians over {} "
             "processes per side.\n", a.repeats);
  Json meta = run_metadata("bench");
  meta["sgemm_gflops"] = sgemm;
  meta["repeats"] = a.repeats;
  meta["quick"] = a.quick;
  meta["rows"] = rows;
  folder.write("run.json", meta.dump(2) + "\n");
  folder.write("bench.csv", csv);
  folder.commit();
  fmt::print("wrote {}/bench.csv\n", a.out);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  static BenchArgs args;
  auto* cmd = app.add_subcommand("bench", "Time sigprop against its PyTorch peer on the same work");
  cmd->add_option("--cases", args.cases, "comma-separated cases: a, b, c")->capture_default_str();
  cmd->add_option("--repeats", args.repeats, "processes per side (alternating)")->capture_default_str();
  cmd->add_flag("--quick", args.quick, "2 timed steps per process: checks the harness, not for quoting");
  cmd->add_option("--out", args.out, "output folder (replaced whole)")->capture_default_str();
  cmd->add_option("--python", args.python, "the Python with torch")->capture_default_str();
  cmd->add_option("--peer", args.peer, "the PyTorch peer script (default bench/peer.py)");
  cmd->callback([] { run(args); });

  static std::string worker_dir;
  auto* worker = app.add_subcommand("bench-worker", "")->group("");  // hidden: sigprop's side of bench
  worker->add_option("dir", worker_dir, "case folder")->required();
  worker->callback([] {
    const auto seconds = time_train_steps(worker_dir, torch::kCPU);
    fmt::print("{}\n", Json{{"seconds", seconds}}.dump());
  });
}

}  // namespace sigprop::cli
