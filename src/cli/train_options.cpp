#include "cli/train_options.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "cli/model_options.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/runtime.h"

namespace sigprop::cli {
namespace {

// This process's own command line (/proc/self/cmdline) without `--nproc N`: what each rank runs.
std::vector<std::string> rank_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  std::vector<std::string> out = {"/proc/self/exe"};
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") { ++i; continue; }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  return out;
}

}  // namespace

void add_nproc_option(CLI::App* cmd, int& nproc, std::string& backend) {
  cmd->add_option("--nproc", nproc,
                  "data-parallel processes on this machine (c10d; --batch is the global batch, "
                  "split evenly); under torchrun or srun the ranks come from their variables")
      ->check(at_least(1));
  cmd->add_option("--backend", backend,
                  "c10d backend of a data-parallel run: auto (nccl on GPUs, gloo on the CPU) | gloo | nccl")
      ->capture_default_str();
}

bool launch_local_ranks(int nproc, int64_t batch) {
  if (nproc <= 1) return false;
  const DistributedEnv env = distributed_env();
  if (env.world > 1)
    throw ConfigError("--nproc starts the ranks itself; under torchrun or srun (" + env.source +
                      " variables set) leave it out");
  if (batch > 0 && batch % nproc != 0)
    throw ConfigError("--batch " + std::to_string(batch) + " is not a multiple of the " +
                      std::to_string(nproc) + " processes: each takes an equal share of a batch");
  install_interrupt_flag();  // Ctrl-C reaches every rank; the launcher waits for them
  std::string failure;
  const int code = run_local_ranks(rank_command_line(), nproc, torch_threads(), &failure);
  if (code != 0) {
    fmt::print(stderr, "sigprop: {}; the other ranks were stopped; the last checkpoint is kept: "
                       "rerun the same command to continue\n", failure);
    std::exit(code);
  }
  return true;
}

std::shared_ptr<Communicator> rank_communicator(torch::Device& device, const std::string& backend) {
  const Backend chosen = parse_backend(backend, "--backend");
  const DistributedEnv env = distributed_env();
  if (env.world <= 1) return nullptr;
  // Each rank of a machine on its own GPU, as torchrun's LOCAL_RANK intends.
  if (device.is_cuda() && !device.has_index()) device = torch::Device(torch::kCUDA, env.local_rank);
  return std::make_shared<Communicator>(env, chosen, device);
}

void add_train_options(CLI::App* cmd, TrainConfig& c) {
  cmd->add_option("--data", c.data, "kjv | fashion-mnist | synthetic")->capture_default_str();
  cmd->add_option("--steps", c.steps, "optimiser steps")->capture_default_str();
  cmd->add_option("--batch", c.batch, "sequences (or images) per step")->capture_default_str();
  cmd->add_option("--seq", c.seq, "tokens per sequence (token data)")->capture_default_str();
  cmd->add_option("--lr", c.lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--optimizer", c.optimizer, "adamw | adam | sgd")->capture_default_str();
  cmd->add_option("--weight-decay", c.weight_decay, "weight decay")->capture_default_str();
  cmd->add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--warmup", c.warmup, "linear warm-up steps [default: steps/10, at most 100]");
  cmd->add_option("--schedule", c.schedule, "cosine | constant (after warm-up)")
      ->capture_default_str();
  cmd->add_option("--min-lr-ratio", c.min_lr_ratio, "cosine floor: the rate ends at lr * this")
      ->capture_default_str();
  cmd->add_option("--clip", c.clip, "gradient-norm clip (0 = off)")->capture_default_str();
  cmd->add_option("--seed", c.seed, "seed of the init and the batch order")->capture_default_str();
  cmd->add_option("--log-every", c.log_every, "steps between log lines")->capture_default_str();
  cmd->add_option("--eval-every", c.eval_every, "steps between evaluations (0 = end only)")
      ->capture_default_str();
  cmd->add_option("--eval-batches", c.eval_batches, "held-out batches per evaluation (0 = all)")
      ->capture_default_str();
  cmd->add_option("--probe-every", c.probe_every, "steps between per-layer probes (0 = off)")
      ->capture_default_str();
  cmd->add_option("--checkpoint-every", c.checkpoint_every, "steps between checkpoints (0 = end)")
      ->capture_default_str();
  cmd->add_option("--dtype", c.dtype,
                  "float32 | bf16: bf16 autocasts each training step (weights, optimiser and "
                  "evaluation stay float32)")
      ->capture_default_str();
}

}  // namespace sigprop::cli
