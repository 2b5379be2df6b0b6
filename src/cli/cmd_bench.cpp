// `sigprop bench`: sigprop against its PyTorch peer (bench/peer.py) on the same work, each side in
// its own process, alternating A/B, medians and ratios; `bench-worker` is sigprop's side.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "core/version.h"
#include "bench/probe_timing.h"
#include "bench/sde_timing.h"
#include "bench/train_timing.h"
#include "cli/commands.h"
#include "core/run_folder.h"
#include "core/runtime.h"

using Json = nlohmann::json;

namespace sigprop::cli {
namespace {

void run(const BenchOptions& a) {
  const auto result = run_bench(a, [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  });
  fmt::print("{}", bench_table(result));
  fmt::print("wrote {}/bench.csv\n", a.out);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  static BenchOptions args;
  auto* cmd = app.add_subcommand("bench", "Time sigprop against its PyTorch peer on the same work");
  cmd->add_option("--cases", args.cases, "comma-separated cases: a, b, c (training steps), d (probe), e (SDE networks), "
                  "nn-softmax, nn-shaped, nn-espa, nn-uspa, nn-vskipinit, nn-gap (nn: all six; sigprop.nn fwd+bwd), "
                  "py-probe (sigprop.probe of nn.TransformerEncoder), py-probe-gpt2 (of transformers' GPT-2 "
                  "small; needs transformers)")
      ->capture_default_str();
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N: where both sides run the training cases a-c")
      ->capture_default_str();
  cmd->add_option("--repeats", args.repeats, "processes per side (alternating)")->capture_default_str();
  cmd->add_flag("--quick", args.quick, "2 timed steps per process: checks the harness, not for quoting");
  cmd->add_option("--out", args.out, "output folder (replaced whole, if sigprop made it)")
      ->capture_default_str();
  cmd->add_flag("--force", args.force, "replace --out even if it is a non-empty folder of yours");
  cmd->parse_complete_callback([] { check_output_folder(args.out, args.force); });
  cmd->add_option("--python", args.python,
                  "the Python whose torch runs the peers (default: the one this build was made with, " +
                      build_python() + ")");
  cmd->add_option("--peers", args.peers,
                  "folder of the PyTorch peers peer.py, probe_peer.py, sde_peer.py (default bench/)");
  cmd->callback([] { run(args); });

  static std::string worker_kind, worker_dir, worker_device = "cpu";
  auto* worker = app.add_subcommand("bench-worker", "")->group("");  // hidden: sigprop's side of bench
  worker->add_option("kind", worker_kind, "train | probe | sde")
      ->required()
      ->check(CLI::IsMember({"train", "probe", "sde"}));
  worker->add_option("dir", worker_dir, "case folder")->required();
  worker->add_option("--device", worker_device, "cpu | cuda | cuda:N (training steps)");
  worker->callback([] {
    Json result;
    if (worker_kind == "probe") result = time_probe(worker_dir);
    else if (worker_kind == "sde") result = time_sde(worker_dir);
    else {
      const TrainTiming t = time_train_steps(worker_dir, parse_device(worker_device));
      result = {{"seconds", t.seconds}, {"first_loss", t.first_loss}, {"last_loss", t.last_loss}};
    }
    result["peak_rss_mib"] = peak_rss_mib();
    fmt::print("{}\n", result.dump());
  });
}

}  // namespace sigprop::cli
