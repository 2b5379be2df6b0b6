#include "train/train_config.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sigprop {
namespace {

template <class T>
void require(bool ok, const char* option, const T& got, const char* allowed) {
  if (!ok) throw ConfigError(fmt::format("--{} {} is not allowed: expected {}", option, got, allowed));
}

}  // namespace

void TrainConfig::validate() const {
  require(data == "kjv" || data == "fashion-mnist" || data == "synthetic", "data", data,
          "kjv | fashion-mnist | synthetic");
  require(steps >= 1, "steps", steps, "an integer >= 1");
  require(batch >= 1, "batch", batch, "an integer >= 1");
  require(seq >= 2, "seq", seq, "an integer >= 2");
  require(std::isfinite(lr) && lr > 0, "lr", lr, "a positive number");
  require(optimizer == "adamw" || optimizer == "adam" || optimizer == "sgd", "optimizer", optimizer,
          "adamw | adam | sgd");
  require(weight_decay >= 0, "weight-decay", weight_decay, "a number >= 0");
  require(momentum >= 0 && momentum < 1, "momentum", momentum, "a number in [0, 1)");
  require(warmup >= 0 || warmup == kAutoWarmup, "warmup", warmup, "an integer >= 0");
  require(schedule == "cosine" || schedule == "constant", "schedule", schedule, "cosine | constant");
  require(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min-lr-ratio", min_lr_ratio, "a number in [0, 1]");
  require(clip >= 0, "clip", clip, "a number >= 0 (0 = off)");
  require(log_every >= 1, "log-every", log_every, "an integer >= 1");
  require(eval_every >= 0, "eval-every", eval_every, "an integer >= 0");
  require(eval_batches >= 0, "eval-batches", eval_batches, "an integer >= 0");
  require(probe_every >= 0, "probe-every", probe_every, "an integer >= 0");
  require(checkpoint_every >= 0, "checkpoint-every", checkpoint_every, "an integer >= 0");
  require(dtype == "float32" || dtype == "bf16", "dtype", dtype, "float32 | bf16");
}

int64_t TrainConfig::warmup_steps() const {
  return warmup == kAutoWarmup ? std::min<int64_t>(100, steps / 10) : warmup;
}

double TrainConfig::lr_at(int64_t step) const {
  const int64_t warmup = warmup_steps();
  if (step < warmup) return lr * double(step + 1) / double(warmup);
  if (schedule == "constant") return lr;
  const double span = std::max<int64_t>(1, steps - warmup);
  const double progress = std::min(1.0, double(step - warmup) / span);
  const double low = lr * min_lr_ratio;
  return low + 0.5 * (lr - low) * (1.0 + std::cos(M_PI * progress));
}

nlohmann::json train_config_to_json(const TrainConfig& c) {
  return {{"data", c.data},         {"steps", c.steps},
          {"batch", c.batch},       {"seq", c.seq},
          {"lr", c.lr},             {"optimizer", c.optimizer},
          {"weight_decay", c.weight_decay}, {"momentum", c.momentum},
          {"warmup", c.warmup_steps()}, {"schedule", c.schedule},
          {"min_lr_ratio", c.min_lr_ratio}, {"clip", c.clip},
          {"seed", c.seed},         {"log_every", c.log_every},
          {"eval_every", c.eval_every}, {"eval_batches", c.eval_batches},
          {"probe_every", c.probe_every}, {"checkpoint_every", c.checkpoint_every},
          {"dtype", c.dtype}};
}

TrainConfig train_config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  try {
    c.data = j.at("data");
    c.steps = j.at("steps");
    c.batch = j.at("batch");
    c.seq = j.at("seq");
    c.lr = j.at("lr");
    c.optimizer = j.at("optimizer");
    c.weight_decay = j.at("weight_decay");
    c.momentum = j.at("momentum");
    c.warmup = j.at("warmup");
    c.schedule = j.at("schedule");
    c.min_lr_ratio = j.at("min_lr_ratio");
    c.clip = j.at("clip");
    c.seed = j.at("seed");
    c.log_every = j.at("log_every");
    c.eval_every = j.at("eval_every");
    c.eval_batches = j.at("eval_batches");
    c.probe_every = j.at("probe_every");
    c.checkpoint_every = j.at("checkpoint_every");
    c.dtype = j.value("dtype", "float32");  // runs from before mixed precision
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed training config in run.json: ") + e.what());
  }
  return c;
}

TrainConfig train_config_with(const nlohmann::json& overrides) {
  nlohmann::json j = train_config_to_json(TrainConfig{});
  std::string allowed;
  for (const auto& [key, value] : j.items()) allowed += (allowed.empty() ? "" : ", ") + key;
  if (!overrides.is_object()) throw ConfigError("training options must be key = value pairs; allowed keys: " + allowed);
  for (const auto& [key, value] : overrides.items()) {
    if (!j.contains(key))
      throw ConfigError("unknown training option '" + key + "'; allowed: " + allowed);
    const auto& was = j[key];
    const bool same_kind = (was.is_string() && value.is_string()) ||
                           (was.is_number() && value.is_number() &&
                            (was.is_number_float() || !value.is_number_float()));
    if (!same_kind)
      throw ConfigError("training option '" + key + "' = " + value.dump() + " must be " +
                        (was.is_string() ? "a string" : was.is_number_float() ? "a number" : "an integer"));
    if (was.is_number_unsigned() && value.is_number_integer() && value.get<int64_t>() < 0)
      throw ConfigError("training option '" + key + "' = " + value.dump() + " must be >= 0");
    j[key] = value;
  }
  TrainConfig c = train_config_from_json(j);
  c.validate();
  return c;
}

}  // namespace sigprop
