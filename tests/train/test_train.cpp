// Training: resume equality, determinism, divergence, checkpoints, data errors, and the loss
// curve of 200 steps against the same training in PyTorch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/tensor_dict.h"
#include "core/error.h"
#include "core/folder_lock.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "studies/race/race_report.h"
#include "train/loss_curve.h"
#include "train/trainer.h"

using namespace sigprop;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("sigprop_train_" + name);
  fs::remove_all(d);
  return d;
}

ModelSpec small_spec() {
  ModelSpec s = load_preset("pre-ln");
  s.depth = 2, s.width = 32, s.heads = 2, s.mlp_width = 64;
  return s;
}

TrainConfig small_config(int64_t steps) {
  TrainConfig c;
  c.data = "synthetic", c.steps = steps, c.batch = 8, c.seq = 16, c.lr = 3e-3, c.warmup = 5;
  c.log_every = 1, c.eval_every = 10, c.eval_batches = 2, c.checkpoint_every = 7;
  return c;
}

// The log lines of a run (resume records included when `events`).
std::vector<Json> log_lines(const fs::path& dir, bool events) {
  std::vector<Json> out;
  std::istringstream in(read_file(dir / "train.jsonl"));
  for (std::string line; std::getline(in, line);) {
    Json j = Json::parse(line);
    if (events || !j.contains("event")) out.push_back(j);
  }
  return out;
}

// The deterministic fields of every step's log line (timings and resume records dropped).
std::vector<Json> losses(const fs::path& dir) {
  std::vector<Json> out;
  for (Json j : log_lines(dir, false)) {
    j.erase("tokens_per_s");
    j.erase("elapsed_s");
    out.push_back(j);
  }
  return out;
}

}  // namespace

TEST(Train, ResumedRunEqualsUninterruptedRun) {
  const auto full = fresh_dir("full"), cut = fresh_dir("cut");
  auto summary = Trainer(small_spec(), small_config(30), full.string(), torch::kCPU).run();
  ASSERT_EQ(summary.status, "completed");

  std::atomic<bool> stop{false};
  auto first = Trainer(small_spec(), small_config(30), cut.string(), torch::kCPU)
                   .run(&stop, [&](const StepReport& r) { stop = r.step == 17; });
  ASSERT_EQ(first.status, "interrupted");
  EXPECT_EQ(first.step, 17);
  auto rest = Trainer::resume(cut.string(), 0, torch::kCPU)->run();
  ASSERT_EQ(rest.status, "completed");
  EXPECT_EQ(rest.step, 30);
  // Time is cumulative over both sittings, and the resume is on record.
  EXPECT_EQ(rest.resumes, 1);
  EXPECT_GE(rest.seconds, first.seconds);
  int events = 0;
  double last_elapsed = 0;
  for (const auto& j : log_lines(cut, true)) {
    if (j.contains("event")) {
      ++events;
      EXPECT_EQ(j["step"], 17);
      EXPECT_GE(j["elapsed_s"].get<double>(), 0.0);
    } else if (j.contains("elapsed_s")) {
      EXPECT_GE(j["elapsed_s"].get<double>(), last_elapsed);
      last_elapsed = j["elapsed_s"];
    }
  }
  EXPECT_EQ(events, 1);
  EXPECT_GE(last_elapsed, first.seconds * 0.5);

  const auto a = losses(full), b = losses(cut);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    // loss_mean averages over a logging window, which a resume restarts; everything else equal.
    Json x = a[i], y = b[i];
    x.erase("loss_mean"), y.erase("loss_mean");
    EXPECT_EQ(x, y) << "line " << i;
  }
  fs::remove_all(full), fs::remove_all(cut);
}

// A run killed before its first checkpoint (run.json, vocab.json and an empty log on disk) is
// finished by --resume from step 0, and equals a run that was never interrupted.
TEST(Train, ResumeBeforeTheFirstCheckpointStartsOver) {
  const auto full = fresh_dir("never_cut"), cut = fresh_dir("cut_early");
  Trainer(small_spec(), small_config(12), full.string(), torch::kCPU).run();
  { Trainer early(small_spec(), small_config(12), cut.string(), torch::kCPU); }  // no step run
  ASSERT_TRUE(fs::exists(cut / "run.json"));
  ASSERT_FALSE(fs::exists(cut / "checkpoint.pt"));
  const auto s = Trainer::resume(cut.string(), 0, torch::kCPU)->run();
  EXPECT_EQ(s.status, "completed");
  EXPECT_EQ(s.step, 12);
  EXPECT_EQ(losses(full), losses(cut));
  fs::remove_all(full), fs::remove_all(cut);
}

TEST(Train, SameSeedSameLog) {
  const auto a = fresh_dir("det_a"), b = fresh_dir("det_b"), c = fresh_dir("det_c");
  Trainer(small_spec(), small_config(12), a.string(), torch::kCPU).run();
  Trainer(small_spec(), small_config(12), b.string(), torch::kCPU).run();
  auto other = small_config(12);
  other.seed = 1;
  Trainer(small_spec(), other, c.string(), torch::kCPU).run();
  EXPECT_EQ(losses(a), losses(b));
  EXPECT_NE(losses(a), losses(c));
  fs::remove_all(a), fs::remove_all(b), fs::remove_all(c);
}

TEST(Train, LearnsTheCopyTask) {
  const auto dir = fresh_dir("learn");
  auto c = small_config(300);
  c.eval_every = 0, c.log_every = 50;
  auto s = Trainer(small_spec(), c, dir.string(), torch::kCPU).run();
  // Half of each sequence is a copy: the loss floor is about ln(16)/2 = 1.39 < 2.77 = ln 16.
  EXPECT_LT(s.val_loss, 0.8 * s.unigram_entropy);
  EXPECT_TRUE(fs::exists(dir / "summary.json"));
  fs::remove_all(dir);
}

TEST(Train, HugeLearningRateDiverges) {
  const auto dir = fresh_dir("diverge");
  auto c = small_config(50);
  c.optimizer = "sgd", c.lr = 1e12, c.clip = 0, c.warmup = 0;
  auto s = Trainer(small_spec(), c, dir.string(), torch::kCPU).run();
  EXPECT_EQ(s.status, "diverged");
  EXPECT_GT(s.step, 0);
  EXPECT_LT(s.step, 50);
  const Json summary = Json::parse(read_file(dir / "summary.json"));
  EXPECT_EQ(summary["status"], "diverged");
  EXPECT_EQ(summary["step"], s.step);
  fs::remove_all(dir);
}

TEST(Train, ProbeDuringTraining) {
  const auto dir = fresh_dir("probe");
  auto c = small_config(10);
  c.probe_every = 5;
  Trainer(small_spec(), c, dir.string(), torch::kCPU).run();
  int probes = 0;
  for (const auto& line : losses(dir))
    if (line.contains("probe")) {
      ++probes;
      EXPECT_EQ(line["probe"].size(), 3u);  // layers 0..2
      EXPECT_TRUE(line["probe"][2]["cosine"].is_number());
    }
  EXPECT_EQ(probes, 3);  // steps 0, 5, 10
  fs::remove_all(dir);
}

TEST(Train, CheckpointSurvivesAKilledWriteAndRejectsGarbage) {
  const auto dir = fresh_dir("ckpt");
  Trainer(small_spec(), small_config(7), dir.string(), torch::kCPU).run();
  // A write killed midway leaves only its temporary file; the checkpoint itself is intact.
  std::ofstream(dir / "checkpoint.pt.tmp.99999") << "half a checkpoint";
  auto t = Trainer::resume(dir.string(), 9, torch::kCPU);
  EXPECT_EQ(t->run().step, 9);
  t.reset();  // releases the run folder
  std::ofstream(dir / "checkpoint.pt", std::ios::trunc) << "not a checkpoint";
  try {
    Trainer::resume(dir.string(), 0, torch::kCPU);
    FAIL() << "loaded garbage";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint.pt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trainer(small_spec(), small_config(7), dir.string(), torch::kCPU), ConfigError);
  fs::remove_all(dir);
}

// A checkpoint of format 1 (sigprop on LibTorch 1.13: no "libtorch" key, its optimiser state keyed
// the old way) is never resumed from: LibTorch 2.x would hand the moments to the wrong parameters.
// Its weights still load. Rewritten here as format 1 from a real run's model and optimiser.
TEST(Train, OldFormatCheckpointIsRefusedForResumeButItsWeightsLoad) {
  const auto dir = fresh_dir("format1");
  Trainer(small_spec(), small_config(3), dir.string(), torch::kCPU).run();
  Transformer model(small_spec());
  auto optimizer = make_optimizer(small_config(3), model->parameters());
  ASSERT_EQ(load_checkpoint((dir / "checkpoint.pt").string(), *model, *optimizer), 3);
  torch::serialize::OutputArchive archive, model_archive, optim_archive;
  model->save(model_archive);
  optimizer->save(optim_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  archive.write("step", torch::tensor(int64_t{3}));
  archive.write("format", torch::tensor(int64_t{1}));
  archive.save_to((dir / "checkpoint.pt").string());
  try {
    Trainer::resume(dir.string(), 5, torch::kCPU);
    FAIL() << "resumed from a format-1 checkpoint";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("checkpoint format 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cannot resume"), std::string::npos) << msg;
  }
  Transformer fresh(small_spec());
  EXPECT_EQ(load_checkpoint_model((dir / "checkpoint.pt").string(), *fresh), 3);
  for (const auto& p : model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), fresh->named_parameters()[p.key()])) << p.key();
  fs::remove_all(dir);
}

TEST(Train, MissingDataSaysWhichFileAndHowToInstall) {
  ::setenv("SIGPROP_FASHION_MNIST_DIR", "/nonexistent/fmnist", 1);
  try {
    make_dataset("fashion-mnist", 16);
    FAIL();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("/nonexistent/fmnist/train-images-idx3-ubyte.gz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("apt-get install dataset-fashion-mnist"), std::string::npos) << msg;
  }
  const auto dir = fresh_dir("corrupt");
  fs::create_directories(dir);
  std::ofstream(dir / "train-images-idx3-ubyte.gz") << "garbage, not gzip";
  EXPECT_THROW(read_idx_gz((dir / "train-images-idx3-ubyte.gz").string()), DataError);
  ::unsetenv("SIGPROP_FASHION_MNIST_DIR");
  EXPECT_THROW(make_dataset("mnist", 16), ConfigError);
  fs::remove_all(dir);
}

TEST(Train, FashionMnistIsTheOfficialSplit) {
  auto data = make_dataset("fashion-mnist", 16);
  auto eval = data->eval_batches(1000, 0);
  int64_t n = 0;
  for (const auto& b : eval) n += b.target.size(0);
  EXPECT_EQ(n, 10000);
  auto b = data->train_batch(4, 0, 0);
  EXPECT_EQ(b.input.sizes(), (std::vector<int64_t>{4, 1, 28, 28}));
  EXPECT_NEAR(data->unigram_entropy(), std::log(10.0), 1e-9);  // balanced classes
}

TEST(Train, LearningRateSchedule) {
  TrainConfig c;
  c.lr = 1.0, c.warmup = 10, c.steps = 110, c.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(c.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(c.lr_at(9), 1.0);
  EXPECT_DOUBLE_EQ(c.lr_at(10), 1.0);
  EXPECT_NEAR(c.lr_at(60), 0.55, 1e-12);
  EXPECT_NEAR(c.lr_at(110), 0.1, 1e-12);
  c.schedule = "constant";
  EXPECT_DOUBLE_EQ(c.lr_at(80), 1.0);
  // The default warm-up is a tenth of the run, at most 100 steps: a 150-step run warms up for 15
  // and then follows its cosine; 2000 steps warm up for 100.
  TrainConfig d;
  d.steps = 150;
  EXPECT_EQ(d.warmup_steps(), 15);
  EXPECT_LT(d.lr_at(149), 0.5 * d.lr);
  d.steps = 2000;
  EXPECT_EQ(d.warmup_steps(), 100);
  EXPECT_EQ(train_config_from_json(train_config_to_json(d)).warmup_steps(), 100);
}

// One number per step: the table's train column, the figure's points and the reach measure all
// read the same curve — the logged one by default, the moving average when asked for and named.
TEST(Race, TableFigureAndReachReadOneCurve) {
  const LossCurve logged{{10, 20, 30, 40, 50, 60}, {3.2, 2.4, 3.0, 2.2, 2.9, 2.6}};
  for (const int window : {1, 3}) {
    const RaceMeasure measure{window};
    std::vector<RaceRow> rows(2);
    rows[0].preset = "ref", rows[1].preset = "other";
    for (auto& r : rows) r.step = 60, r.lr = 1e-3, r.status = "completed", r.val_loss = 2.0;
    rows[0].curve = measure.apply(logged);
    rows[1].curve = measure.apply(LossCurve{logged.step, {3.0, 2.9, 2.5, 2.6, 2.4, 2.3}});
    const double target = measure_reach(rows, "ref", 60);
    EXPECT_DOUBLE_EQ(target, rows[0].curve.loss.back()) << window;
    EXPECT_EQ(rows[0].reach_step, steps_to_reach(rows[0].curve, target)) << window;
    if (window == 1) {
      EXPECT_DOUBLE_EQ(target, 2.6);
      EXPECT_EQ(rows[0].reach_step, 20);  // the logged curve dips below its own end at step 20
      EXPECT_EQ(rows[1].reach_step, 30);
    }
    const std::string table = race_table(rows, measure, "ref", 60, target);
    const std::string plot = race_plot_script(rows, measure, target, "t");
    for (const auto& r : rows) {
      const std::string last = fmt::format("{:.4f}", r.curve.loss.back());
      EXPECT_NE(table.find(last), std::string::npos) << window << " table lacks " << last << "\n" << table;
      EXPECT_NE(plot.find(fmt::format("60 {:.6g}\n", r.curve.loss.back())), std::string::npos) << window;
    }
    EXPECT_NE(plot.find(measure.label()), std::string::npos);
    EXPECT_NE(table.find(measure.label()), std::string::npos);
    EXPECT_EQ(window > 1, table.find("moving average") != std::string::npos);
    EXPECT_NE(plot.find("set xrange [*:60]"), std::string::npos);  // drawn to the data, not 100
  }
  std::vector<RaceRow> none(1);
  none[0].preset = "other";
  EXPECT_TRUE(std::isnan(measure_reach(none, "ref", 60)));
  EXPECT_NE(race_csv(none).find(",,0\n"), std::string::npos);  // not reached: both fields empty
}

TEST(Race, StepsToReach) {
  LossCurve c{{10, 20, 30, 40}, {3.0, 2.5, 2.0, 1.5}};
  EXPECT_EQ(steps_to_reach(c, 2.2), 30);
  EXPECT_EQ(steps_to_reach(c, 1.0), -1);
  EXPECT_DOUBLE_EQ(loss_at(c, 35), 2.0);
  auto s = smooth(c, 2);
  EXPECT_DOUBLE_EQ(s.loss[0], 3.0);
  EXPECT_DOUBLE_EQ(s.loss[3], 1.75);
  EXPECT_DOUBLE_EQ(mean_curve({c, s}).loss[3], 1.625);
}

TEST(Parity, TrainingMatchesPyTorchFor200Steps) {
  // Same initial weights, batches and hyper-parameters; loss equal to 1e-3 at every step.
  const auto dir = fresh_dir("parity");
  auto c = small_config(200);
  c.eval_every = 0, c.checkpoint_every = 0, c.clip = 0.5, c.warmup = 20;
  ModelSpec spec = small_spec();
  auto data = make_dataset(c.data, c.seq);
  data->adapt(spec);

  torch::manual_seed(c.seed);  // the trainer builds its model under this seed
  Transformer init(spec);
  fs::create_directories(dir);
  c10::Dict<std::string, torch::Tensor> inputs;
  for (const auto& p : init->named_parameters()) inputs.insert(p.key(), p.value().detach());
  std::vector<torch::Tensor> xs, ys;
  for (int64_t s = 0; s < c.steps; ++s) {
    auto b = data->train_batch(c.batch, c.seed, s);
    xs.push_back(b.input), ys.push_back(b.target);
  }
  inputs.insert("inputs", torch::stack(xs));
  inputs.insert("targets", torch::stack(ys));
  save_tensor_dict((dir / "inputs.safetensors").string(), inputs);
  write_file_atomic((dir / "spec.json").string(),
                    Json{{"model", spec_to_json(spec)["model"]}, {"train", train_config_to_json(c)}}.dump());
  const std::string cmd = std::string(SIGPROP_PYTHON) + " " + SIGPROP_TEST_DIR +
                          "/parity/train_reference.py " + dir.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto ref = load_tensor_dict((dir / "losses.safetensors").string()).at("losses");

  const auto run_dir = dir / "run";
  Trainer(spec, c, run_dir.string(), torch::kCPU).run();
  const auto lines = losses(run_dir);
  ASSERT_EQ(lines.size(), 200u);
  double worst = 0;
  for (int64_t s = 0; s < 200; ++s) {
    ASSERT_EQ(lines[s]["step"], s + 1);
    worst = std::max(worst, std::abs(lines[s]["loss"].get<double>() - ref[s].item<double>()));
  }
  std::printf("max per-step loss difference from PyTorch over 200 steps: %.3g\n", worst);
  EXPECT_LE(worst, 1e-3) << "largest per-step loss difference";
  EXPECT_LT(ref[199].item<double>(), ref[0].item<double>() - 0.5);  // it actually trained
  fs::remove_all(dir);
}

// Two processes on one run: the second is refused, naming the folder, and the run is untouched.
// (flock conflicts between two open descriptions, so one process shows it as well as two.)
TEST(Train, OneProcessPerRunFolder) {
  const auto dir = fresh_dir("locked");
  Trainer first(small_spec(), small_config(4), dir.string(), torch::kCPU);
  try {
    Trainer::resume(dir.string(), 0, torch::kCPU);
    ADD_FAILURE() << "a second trainer took a folder in use";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another sigprop process"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(first.run().status, "completed");
  { FolderLock a(dir.string(), "shard-0-of-2"), b(dir.string(), "shard-1-of-2"); }  // parts: both
  {
    FolderLock held(dir.string(), "x");
    EXPECT_THROW(FolderLock(dir.string(), "x"), ConfigError);
  }
  FolderLock again(dir.string(), "x");  // released with its holder
  fs::remove_all(dir);
}

TEST(Train, Bf16AutocastLearnsLikeFloat32WithoutBeingIt) {
  const auto dir = fresh_dir("bf16");
  auto c = small_config(300);
  c.eval_every = 0, c.log_every = 50, c.checkpoint_every = 0;
  const auto f32 = Trainer(small_spec(), c, (dir / "f32").string(), torch::kCPU).run();
  c.dtype = "bf16";
  const auto bf16 = Trainer(small_spec(), c, (dir / "bf16").string(), torch::kCPU).run();
  EXPECT_NE(f32.train_loss, bf16.train_loss) << "the bf16 run computed in float32";
  EXPECT_NEAR(bf16.val_loss, f32.val_loss, 0.1 * f32.val_loss);
  EXPECT_LT(bf16.val_loss, 0.8 * bf16.unigram_entropy) << "it learned the copy task";
  const auto run = Json::parse(read_file(dir / "bf16" / "run.json"));
  EXPECT_EQ(run["train"]["dtype"], "bf16");
  c.dtype = "fp8";
  EXPECT_THROW(c.validate(), ConfigError);
  fs::remove_all(dir);
}
