#include "bench/train_timing.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/tensor_dict.h"
#include "model/init.h"
#include "model/transformer.h"
#include "train/optimizer.h"
#include "train/train_config.h"
#include "train/train_step.h"

namespace sigprop {
namespace {

TrainConfig bench_train_config(const BenchCase& c) {
  TrainConfig t;
  t.batch = c.batch;
  t.seq = c.seq;
  t.optimizer = "adamw";
  t.lr = 1e-4;  // small and constant: every timed step does the same work, none diverges
  t.schedule = "constant";
  t.warmup = 0;
  t.clip = 1.0;
  return t;
}

}  // namespace

void write_bench_inputs(const std::string& dir, const BenchCase& c, uint64_t seed) {
  torch::manual_seed(seed);
  Transformer model(c.spec);
  TensorDict dict;
  for (const auto& p : model->named_parameters()) dict.insert(p.key(), p.value().detach().clone());
  dict.insert("input", torch::randint(c.spec.vocab_size, {c.batch, c.seq}, torch::kLong));
  dict.insert("target", torch::randint(c.spec.vocab_size, {c.batch, c.seq}, torch::kLong));
  save_tensor_dict(dir + "/inputs.safetensors", dict);
  nlohmann::json spec = spec_to_json(c.spec);  // {"model": {...}}, as the parity references read it
  spec["train"] = train_config_to_json(bench_train_config(c));
  spec["case"] = {{"id", c.id}, {"description", c.description}, {"warmup", c.warmup}, {"steps", c.steps}};
  write_file_atomic(dir + "/spec.json", spec.dump(2) + "\n");
}

TrainTiming time_train_steps(const std::string& dir, const torch::Device& device) {
  const auto spec_json = nlohmann::json::parse(read_file(dir + "/spec.json"));
  const ModelSpec spec = spec_from_json({{"model", spec_json.at("model")}});
  const TrainConfig config = train_config_from_json(spec_json.at("train"));
  const int warmup = spec_json.at("case").at("warmup"), steps = spec_json.at("case").at("steps");
  const TensorDict inputs = load_tensor_dict(dir + "/inputs.safetensors");

  Transformer model(spec);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (!inputs.contains(p.key())) throw DataError(dir + "/inputs.safetensors has no parameter " + p.key());
      p.value().copy_(inputs.at(p.key()));
    }
  }
  model->to(device);
  const auto params = model->parameters();
  auto optimizer = make_optimizer(config, params);
  const Batch batch{inputs.at("input").to(device), inputs.at("target").to(device)};

  TrainTiming timing;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const StepOutcome out = train_step(spec, model, *optimizer, params, batch, config.clip, device);
    if (device.is_cuda()) torch::cuda::synchronize();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!out.stepped) throw DataError("benchmark step " + std::to_string(i) + " was not finite");
    if (i == 0) timing.first_loss = out.loss;
    timing.last_loss = out.loss;
    if (i >= warmup) timing.seconds.push_back(dt);
  }
  return timing;
}

}  // namespace sigprop
