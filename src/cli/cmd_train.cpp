// `sigprop train`: trains one model on real data, tracking the probe metrics as it learns.
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/interrupt.h"
#include "cli/model_options.h"
#include "cli/progress.h"
#include "cli/train_options.h"
#include "core/error.h"
#include "core/run_folder.h"
#include "core/runtime.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace sigprop::cli {
namespace {

struct TrainArgs {
  ModelOptions model;
  TrainConfig config;
  int depth = 0;
  std::string out = "runs/train", resume, device = "cpu";
  bool force = false;
  int nproc = 1;
  std::string backend = "auto";
};

void print_progress(const StepReport& r) {
  static int64_t last = -1;
  const bool tty = ::isatty(2);
  const int64_t every = std::max<int64_t>(1, r.total / 20);
  if (!tty && r.step % every != 0 && r.step != r.total) return;
  if (r.step == last) return;
  last = r.step;
  fmt::print(stderr, "{}[train] step {}/{} loss {:.4f} lr {:.2e} |g| {:.3f} {:.0f} tok/s ETA {}{}",
             tty ? "\r" : "", r.step, r.total, r.loss, r.lr, r.grad_norm, r.tokens_per_s,
             duration(r.eta_s), tty && r.step != r.total ? "   " : "\n");
}

void run(TrainArgs& a, bool steps_given) {
  torch::Device device = parse_device(a.device);
  parse_backend(a.backend, "--backend");  // refused before any rank starts
  if (launch_local_ranks(a.nproc, a.resume.empty() ? a.config.batch : 0)) return;
  const auto comm = rank_communicator(device, a.backend);
  const bool lead = !comm || comm->rank() == 0;
  std::unique_ptr<Trainer> trainer;
  if (!a.resume.empty()) {
    trainer = Trainer::resume(a.resume, steps_given ? a.config.steps : 0, device, comm);
  } else {
    if (a.model.presets.size() + a.model.configs.size() > 1)
      throw ConfigError("train takes one --preset or --config (use `sigprop race` for several)");
    ModelSpec spec = resolve_specs(a.model, {"pre-ln"}).front();
    if (a.depth > 0) refuse_set_depth(a.model), spec.depth = a.depth;
    // The same command again continues a run a kill or Ctrl-C stopped, and reports a finished one.
    TrainSummary done;
    trainer = Trainer::open(spec, a.config, a.out, device, &done, comm);
    if (!trainer && !lead) return;
    if (!trainer) {
      fmt::print(stderr, "[train] {} already holds this run, ended; nothing to do\n", a.out);
      fmt::print("{}", train_summary_text(done));
      if (done.status == "diverged") std::exit(kExitDiverged);
      return;
    }
  }
  const auto& spec = trainer->spec();
  const auto& c = trainer->config();
  if (lead)
    fmt::print(stderr, "[train] {} (depth {}, width {}) on {} for {} steps -> {}{}\n", spec.name,
               spec.depth, spec.width, c.data, c.steps, a.resume.empty() ? a.out : a.resume,
               comm ? fmt::format(" ({} processes, data parallel)", comm->world()) : "");
  const TrainSummary s = trainer->run(install_interrupt_flag(), print_progress);
  if (!lead) {
    if (s.status == "diverged") std::exit(kExitDiverged);
    if (s.status == "interrupted") std::exit(kExitInterrupted);
    return;
  }

  fmt::print("{}", train_summary_text(s));
  fmt::print("wrote {}/summary.json\n", a.resume.empty() ? a.out : a.resume);
  if (s.status == "diverged") std::exit(kExitDiverged);
  if (s.status == "interrupted") std::exit(kExitInterrupted);
}

}  // namespace

void add_train_command(CLI::App& app) {
  static TrainArgs args;
  auto* cmd = app.add_subcommand("train", "Train one model on real data, probing it as it learns");
  add_model_options(cmd, args.model);
  cmd->add_option("--depth", args.depth, "depth L (overrides the preset)")->check(at_least(1));
  add_train_options(cmd, args.config);
  cmd->add_option("--out", args.out, "run folder")->capture_default_str();
  cmd->add_flag("--force", args.force, "write into --out even if it is a non-empty folder of yours");
  cmd->add_option("--resume", args.resume, "continue the run in this folder from its checkpoint");
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N");
  add_nproc_option(cmd, args.nproc, args.backend);
  cmd->parse_complete_callback([] {
    if (args.resume.empty()) check_output_folder(args.out, args.force);
  });
  cmd->callback([cmd] { run(args, cmd->count("--steps") > 0); });
}

}  // namespace sigprop::cli
