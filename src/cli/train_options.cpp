#include "cli/train_options.h"

namespace sigprop::cli {

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
}

}  // namespace sigprop::cli
