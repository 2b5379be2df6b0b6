// Run folders read and written from outside the trainer (train/run_files.h): a model saved as a
// run trains on with --resume from exactly its weights; a run's model, validation loss and
// safetensors export are the trainer's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "data/dataset.h"
#include "train/run_files.h"
#include "train/trainer.h"

using namespace sigprop;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("sigprop_runfiles_" + name);
  fs::remove_all(d);
  return d;
}

TrainConfig config(int64_t steps) {
  TrainConfig c;
  c.data = "synthetic", c.steps = steps, c.batch = 8, c.seq = 16, c.lr = 3e-3, c.warmup = 2;
  c.log_every = 1, c.eval_every = 0, c.eval_batches = 2, c.checkpoint_every = 0;
  return c;
}

ModelSpec spec_for(const TrainConfig& c) {
  ModelSpec s = load_preset("pre-ln");
  s.depth = 2, s.width = 32, s.heads = 2, s.mlp_width = 64;
  make_dataset(c.data, c.seq)->adapt(s);
  return s;
}

void expect_same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

}  // namespace

TEST(RunFiles, ASavedModelResumesFromItsOwnWeights) {
  const auto dir = fresh_dir("saved");
  const auto c = config(6);
  torch::manual_seed(123);  // not the run's seed: the weights must come from the model
  Transformer model(spec_for(c));
  save_run(*model, c, dir.string());
  EXPECT_TRUE(fs::exists(dir / "run.json"));
  EXPECT_TRUE(fs::exists(dir / "checkpoint.pt"));
  int64_t step = -1;
  auto loaded = load_run_model(dir.string(), &step);
  EXPECT_EQ(step, 0);
  expect_same_weights(*loaded, *model);

  auto trainer = Trainer::resume(dir.string(), 0, torch::kCPU);
  expect_same_weights(*trainer->model(), *model);
  const auto summary = trainer->run();
  EXPECT_EQ(summary.status, "completed");
  EXPECT_EQ(summary.step, 6);
  // Trained on: the weights moved, and the run's validation loss is what evaluate_run finds.
  auto trained = load_run_model(dir.string(), &step);
  EXPECT_EQ(step, 6);
  EXPECT_FALSE(torch::equal(trained->blocks[0]->named_parameters()["attn.w_q.weight"],
                            model->blocks[0]->named_parameters()["attn.w_q.weight"]));
  EXPECT_NEAR(evaluate_run(*trained, dir.string()).loss, summary.val_loss, 1e-6);
  fs::remove_all(dir);
}

TEST(RunFiles, AModelThatDoesNotFitTheDataIsRefusedAndNothingWritten) {
  const auto dir = fresh_dir("misfit");
  const auto c = config(4);
  ModelSpec s = spec_for(c);
  s.vocab_size += 3;
  Transformer model(s);
  try {
    save_run(*model, c, dir.string());
    FAIL() << "saved a model whose vocabulary is not the data's";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'wte.weight'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(RunFiles, ExportIsTheCheckpointAsSafetensors) {
  const auto dir = fresh_dir("export");
  const auto c = config(3);
  {
    Trainer t(spec_for(c), c, dir.string(), torch::kCPU);
    t.run();
  }
  const auto written = export_run(dir.string(), "safetensors");
  ASSERT_EQ(written.size(), 2u);
  auto model = load_run_model(dir.string());
  const auto st = load_safetensors((dir / "model.safetensors").string());
  const auto params = model->named_parameters();
  ASSERT_EQ(st.tensors.size(), params.size() + model->named_buffers().size());
  for (const auto& [name, t] : st.tensors)
    if (params.contains(name)) EXPECT_TRUE(torch::equal(t, params[name])) << name;
  EXPECT_EQ(st.metadata.at("step"), "3");
  const auto config_json = nlohmann::json::parse(read_file((dir / "config.json").string()));
  EXPECT_EQ(config_id(spec_from_json(config_json)), config_id(model->spec));
  EXPECT_THROW(export_run(dir.string(), "onnx"), ConfigError);
  fs::remove_all(dir);
}

TEST(RunFiles, WhatIsNotARunSaysSo) {
  const auto dir = fresh_dir("notarun");
  EXPECT_THROW(load_run_model(dir.string()), ConfigError);  // missing
  fs::create_directories(dir);
  EXPECT_THROW(load_run_model(dir.string()), ConfigError);  // no run.json
  write_file_atomic((dir / "run.json").string(), "{\"command\": \"probe\"}");
  EXPECT_THROW(load_run_model(dir.string()), DataError);  // not a training run's
  fs::remove_all(dir);
  const auto c = config(3);
  save_run(*Transformer(spec_for(c)), c, dir.string());
  fs::remove(dir / "checkpoint.pt");
  try {
    load_run_model(dir.string());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint yet"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(RunFiles, TrainingOptionsByNameWithClearErrors) {
  const auto c = train_config_with(nlohmann::json{{"steps", 7}, {"lr", 0.01}, {"data", "kjv"}});
  EXPECT_EQ(c.steps, 7);
  EXPECT_DOUBLE_EQ(c.lr, 0.01);
  EXPECT_EQ(c.data, "kjv");
  EXPECT_THROW(train_config_with(nlohmann::json{{"stpes", 7}}), ConfigError);
  EXPECT_THROW(train_config_with(nlohmann::json{{"steps", "seven"}}), ConfigError);
  EXPECT_THROW(train_config_with(nlohmann::json{{"steps", 1.5}}), ConfigError);
  EXPECT_THROW(train_config_with(nlohmann::json{{"lr", -1.0}}), ConfigError);  // validate()
}
