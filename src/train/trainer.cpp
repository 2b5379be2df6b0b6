#include "train/trainer.h"
#include "train/train_step.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/run_folder.h"
#include "probe/probe.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/run_files.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

using Clock = std::chrono::steady_clock;

// Every rank takes an equal share of each global batch.
void check_shares(const TrainConfig& c, int world) {
  if (c.batch % world != 0)
    throw ConfigError("--batch " + std::to_string(c.batch) + " is not a multiple of the " +
                      std::to_string(world) + " processes: each takes an equal share of a batch");
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// JSON has no NaN: absent values are written as null.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json probe_json(const std::vector<LayerMetrics>& rows) {
  Json out = Json::array();
  for (const auto& m : rows)
    out.push_back({{"layer", m.layer}, {"cosine", number(m.cosine)}, {"t_sim", number(m.t_sim)},
                   {"res", number(m.res)}, {"stable_rank", number(m.stable_rank)},
                   {"centred_stable_rank", number(m.centred_stable_rank)},
                   {"attn_entropy", number(m.attn_entropy)}, {"grad_q", number(m.grad_q)},
                   {"grad_v", number(m.grad_v)}, {"grad_q_over_v", number(m.grad_q / m.grad_v)}});
  return out;
}

}  // namespace

Json summary_to_json(const TrainSummary& s) {
  return {{"status", s.status},
          {"step", s.step},
          {"message", s.message},
          {"train_loss", number(s.train_loss)},
          {"val_loss", number(s.val_loss)},
          {"val_bpc", number(s.val_bpc)},
          {"val_accuracy", number(s.val_accuracy)},
          {"unigram_entropy", number(s.unigram_entropy)},
          {"seconds", s.seconds},
          {"tokens_per_s", s.tokens_per_s},
          {"resumes", s.resumes},
          {"ranks", s.ranks},
          {"allreduce_share", s.allreduce_share}};
}

TrainSummary read_train_summary(const std::string& path) {
  Json j;
  try {
    j = Json::parse(read_file(path));
  } catch (const Json::exception& e) {
    throw DataError(path + " is not a training summary: " + e.what());
  }
  const auto real = [&](const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
  };
  TrainSummary s;
  try {
    s.status = j.at("status");
    s.step = j.at("step");
    s.message = j.value("message", "");
    s.seconds = j.value("seconds", 0.0);
    s.tokens_per_s = j.value("tokens_per_s", 0.0);
    s.resumes = j.value("resumes", 0);
    s.ranks = j.value("ranks", 1);
    s.allreduce_share = j.value("allreduce_share", 0.0);
  } catch (const Json::exception& e) {
    throw DataError(path + " is not a training summary: " + e.what());
  }
  s.train_loss = real("train_loss"), s.val_loss = real("val_loss"), s.val_bpc = real("val_bpc");
  s.val_accuracy = real("val_accuracy"), s.unigram_entropy = real("unigram_entropy");
  return s;
}

std::string train_summary_text(const TrainSummary& s) {
  std::string out = fmt::format("status: {}\n", s.status);
  if (!s.message.empty()) out += fmt::format("message: {}\n", s.message);
  out += fmt::format("steps: {}\ntrain_loss: {:.4f}\nval_loss: {:.4f}\n", s.step, s.train_loss, s.val_loss);
  if (std::isfinite(s.val_bpc)) out += fmt::format("val_bpc: {:.4f}\n", s.val_bpc);
  if (std::isfinite(s.val_accuracy)) out += fmt::format("val_accuracy: {:.4f}\n", s.val_accuracy);
  out += fmt::format("unigram_entropy: {:.4f} nats\nwall_time: {}\ntokens_per_s: {:.0f}\n",
                     s.unigram_entropy, duration(s.seconds), s.tokens_per_s);
  return out;
}

Trainer::Trainer(ModelSpec spec, TrainConfig config, std::string dir, torch::Device device,
                 const torch::nn::Module* initial)
    : spec_(std::move(spec)), config_(std::move(config)), dir_(std::move(dir)), device_(device) {
  config_.validate();
  check_buildable(spec_);
  if (fs::exists(path("run.json")))
    throw ConfigError("--out " + dir_ + " already holds a run; continue it with --resume " + dir_ +
                      " or choose another --out");
  build();  // loads data and builds the model before anything is written
  if (initial) copy_weights(*initial);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw DataError("cannot create " + dir_ + ": " + ec.message());
  // The marker first (a folder a kill leaves behind is sigprop's, so --out may reuse it), run.json
  // last: a folder is a run, one that --resume continues, only once everything it needs is there.
  write_file_atomic(path(kRunMarker), "made by sigprop train\n");
  lock_ = std::make_unique<FolderLock>(dir_);
  if (fs::exists(path("run.json")))  // another process started this run a moment ago
    throw ConfigError("--out " + dir_ + " already holds a run; continue it with --resume " + dir_);
  if (!data_->vocabulary().empty())
    write_file_atomic(path("vocab.json"), Json{{"vocab", data_->vocabulary()}}.dump() + "\n");
  write_file_atomic(path("train.jsonl"), "");
  if (initial) save_checkpoint(path("checkpoint.pt"), *model_, *optimizer_, 0);
  Json meta = run_metadata("train");
  meta["config"] = spec_to_json(spec_);
  meta["train"] = train_config_to_json(config_);
  meta["device"] = device_.str();
  write_file_atomic(path("run.json"), meta.dump(2) + "\n");
}

Trainer::Trainer(Resumed, const std::string& dir, int64_t steps, torch::Device device)
    : dir_(dir), device_(device) {
  read_run_config(dir, "--resume");  // a clear error before taking the lock
  lock_ = std::make_unique<FolderLock>(dir);
  auto run = read_run_config(dir, "--resume");
  spec_ = run.spec;
  config_ = run.train;
  if (steps > 0) config_.steps = steps;
  config_.validate();
  build();
  // Killed before its first checkpoint: nothing trained survives, so the run starts over from
  // step 0 (the same seed makes it the same run) instead of leaving a folder nothing can finish.
  const bool fresh = !fs::exists(path("checkpoint.pt"));
  if (!fresh) step_ = load_checkpoint(path("checkpoint.pt"), *model_, *optimizer_);
  // Checkpoints a kill interrupted mid-write (checkpoint.pt itself is whole: it is renamed in).
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("checkpoint.pt.tmp.", 0) == 0) fs::remove(entry.path());
  // Drop log lines written after the checkpoint, so the log continues without duplicates, and a
  // last line a kill cut short. Earlier sittings' time and resumes carry over, so elapsed_s and
  // summary.json stay cumulative.
  std::istringstream log(fs::exists(path("train.jsonl")) ? read_file(path("train.jsonl")) : "");
  std::string kept;
  for (std::string line; std::getline(log, line);) {
    if (line.empty() || fresh) continue;
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      if (log.peek() == EOF) break;  // torn by a kill while appending
      throw DataError(path("train.jsonl") + " holds a line that is not JSON: " + line.substr(0, 80));
    }
    if (j.value("step", int64_t{0}) > step_) continue;
    kept += line + "\n";
    if (j.contains("elapsed_s") && j["elapsed_s"].is_number()) elapsed_before_ = j["elapsed_s"];
    if (j.value("event", "") == "resume") ++resumes_;
  }
  ++resumes_;
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  kept += Json{{"event", "resume"}, {"step", step_}, {"elapsed_s", elapsed_before_},
               {"time_utc", when}}.dump() + "\n";
  write_file_atomic(path("train.jsonl"), kept);
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& dir, int64_t steps,
                                         torch::Device device, std::shared_ptr<Communicator> comm) {
  if (!comm || comm->world() == 1) return std::unique_ptr<Trainer>(new Trainer(Resumed{}, dir, steps, device));
  auto run = read_run_config(dir, "--resume");  // every rank: the same clear error
  if (steps > 0) run.train.steps = steps;
  check_shares(run.train, comm->world());
  comm->barrier();  // all have read the folder as it was
  std::unique_ptr<Trainer> t;
  if (comm->rank() == 0) {
    t.reset(new Trainer(Resumed{}, dir, steps, device));
    t->comm_ = comm;
  } else {
    t.reset(new Trainer(Follower{}, run.spec, run.train, dir, device, /*resume=*/true, comm));
  }
  comm->barrier();  // rank 0 has written its resume record
  return t;
}

Trainer::Trainer(Follower, ModelSpec spec, TrainConfig config, const std::string& dir,
                 torch::Device device, bool resume, std::shared_ptr<Communicator> comm)
    : spec_(std::move(spec)), config_(std::move(config)), dir_(dir), device_(device), comm_(std::move(comm)) {
  config_.validate();
  build();
  if (resume && fs::exists(path("checkpoint.pt")))
    step_ = load_checkpoint(path("checkpoint.pt"), *model_, *optimizer_);
}

std::unique_ptr<Trainer> Trainer::open(const ModelSpec& spec, const TrainConfig& config,
                                       const std::string& dir, torch::Device device,
                                       TrainSummary* done, std::shared_ptr<Communicator> comm) {
  const bool many = comm && comm->world() > 1;
  if (many) check_shares(config, comm->world());
  if (!fs::exists(dir + "/run.json")) {
    if (!many) return std::make_unique<Trainer>(spec, config, dir, device);
    comm->barrier();  // every rank has seen no run here before rank 0 starts one
    std::unique_ptr<Trainer> t;
    if (comm->rank() == 0) {
      t = std::make_unique<Trainer>(spec, config, dir, device);
      t->comm_ = comm;
    } else {
      t.reset(new Trainer(Follower{}, spec, config, dir, device, /*resume=*/false, comm));
    }
    comm->barrier();
    return t;
  }
  const auto run = read_run_config(dir, "--out");
  ModelSpec adapted = spec;
  make_dataset(config.data, config.seq)->adapt(adapted);
  if (spec_to_json(run.spec) != spec_to_json(adapted) ||
      train_config_to_json(run.train) != train_config_to_json(config))
    throw ConfigError(dir + " already holds a run of another configuration; continue it with "
                      "--resume " + dir + " or choose another --out");
  if (fs::exists(dir + "/summary.json")) {
    const TrainSummary s = read_train_summary(dir + "/summary.json");
    if (s.status != "interrupted") {
      if (done) *done = s;
      if (many) comm->barrier();
      return nullptr;
    }
  }
  return resume(dir, 0, device, comm);
}

void Trainer::build() {
  data_ = make_dataset(config_.data, config_.seq);
  data_->adapt(spec_);
  check_buildable(spec_);
  torch::manual_seed(config_.seed);
  model_ = Transformer(spec_);
  model_->to(device_);
  optimizer_ = make_optimizer(config_, model_->parameters());
  eval_batches_ = data_->eval_batches(config_.batch, config_.eval_batches);
}

void Trainer::copy_weights(const torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters();
  for (const auto& b : from.named_buffers()) source.insert(b.key(), b.value());
  auto target = model_->named_parameters();
  for (const auto& b : model_->named_buffers()) target.insert(b.key(), b.value());
  const std::string where = "the model to start from and a model of its spec adapted to data '" +
                            config_.data + "'";
  for (const auto& t : target) {
    const auto* s = source.find(t.key());
    if (!s)
      throw ConfigError(where + " differ: it has no tensor '" + t.key() + "'");
    if (s->sizes() != t.value().sizes())
      throw ConfigError(where + " differ: '" + t.key() + "' is " + fmt::format("{}", s->sizes()) +
                        " in it, " + fmt::format("{}", t.value().sizes()) + " for the data (" +
                        "build the model for the data, e.g. sigprop.nn.Transformer(..., data='" +
                        config_.data + "'))");
    t.value().copy_(*s);
  }
  if (source.size() != target.size())
    throw ConfigError(where + " differ: it has " + std::to_string(source.size()) + " tensors, the "
                      "spec's model " + std::to_string(target.size()));
}

Evaluation evaluate_model(TransformerImpl& model, const Dataset& data, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  const auto device = model.parameters().front().device();
  double loss_sum = 0, correct = 0, count = 0;
  for (const auto& b : batches) {
    auto out = model.forward(b.input.to(device));
    auto target = b.target.to(device);
    const double n = double(target.numel());
    loss_sum += training_loss(model.spec, out, target).item<double>() * n;
    if (!data.is_language()) correct += (out.argmax(-1) == target).sum().item<double>();
    count += n;
  }
  Evaluation e;
  e.loss = loss_sum / count;
  if (data.is_language()) e.bpc = e.loss / std::log(2.0);
  else e.accuracy = correct / count;
  return e;
}

Json Trainer::evaluate() {
  const auto e = evaluate_model(*model_, *data_, eval_batches_);
  Json j{{"val_loss", number(e.loss)}};
  if (data_->is_language()) j["val_bpc"] = number(e.bpc);
  else j["val_accuracy"] = e.accuracy;
  return j;
}

void Trainer::append_log(const Json& line) {
  std::ofstream out(path("train.jsonl"), std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out) throw DataError("cannot append to " + path("train.jsonl"));
}

TrainSummary Trainer::run(const std::atomic<bool>* stop,
                          const std::function<void(const StepReport&)>& progress) {
  TrainSummary summary;
  summary.unigram_entropy = data_->unigram_entropy();
  const auto start = Clock::now();
  const auto params = model_->parameters();
  const double tokens_per_batch = [&] {
    auto b = data_->train_batch(1, config_.seed, 0);
    return double(config_.batch) * (spec_.input == InputKind::Patches
                                        ? double(b.input.size(2) / spec_.patch_size) *
                                              double(b.input.size(3) / spec_.patch_size)
                                        : double(b.input.size(1)));
  }();
  if (step_ == 0 && config_.probe_every > 0 && lead())
    append_log({{"step", 0}, {"probe", probe_json(probe_model(*model_, eval_batches_.front()))}});
  const int world = comm_ ? comm_->world() : 1, rank = comm_ ? comm_->rank() : 0;
  double window_loss = 0, window_time = 0, train_time = 0, reduce_time = 0;
  // Gradients averaged while the backward runs; reduce_time is what is left to wait for after it.
  std::unique_ptr<GradientAverager> averager;
  if (comm_ && world > 1) averager = std::make_unique<GradientAverager>(*comm_, params);
  const std::function<void()> reduce = [&] {
    if (!averager) return;
    const auto t = Clock::now();
    averager->finish();
    reduce_time += seconds_since(t);
  };

  int64_t window_steps = 0, trained = 0;
  const auto finish = [&](const std::string& status, const std::string& message) {
    summary.status = status;
    summary.message = message;
    summary.step = step_;
    summary.seconds = elapsed_before_ + seconds_since(start);
    summary.resumes = resumes_;
    summary.tokens_per_s = train_time > 0 ? tokens_per_batch * double(trained) / train_time : 0.0;
    summary.ranks = world;
    summary.allreduce_share = train_time > 0 ? reduce_time / train_time : 0.0;
    if (lead()) write_file_atomic(path("summary.json"), summary_to_json(summary).dump(2) + "\n");
    return summary;
  };

  while (step_ < config_.steps) {
    // Ctrl-C reaches every rank, not at the same step: they stop together at the next one.
    bool stopping = stop && stop->load();
    if (comm_) stopping = comm_->any(stopping);
    if (stopping) {
      if (lead()) save_checkpoint(path("checkpoint.pt"), *model_, *optimizer_, step_);
      return finish("interrupted", "stopped by the user at step " + std::to_string(step_) +
                                       "; continue with --resume " + dir_);
    }
    const auto t0 = Clock::now();
    const double lr = config_.lr_at(step_);
    set_learning_rate(*optimizer_, lr);
    Batch batch = data_->train_batch(config_.batch, config_.seed, step_);
    if (world > 1) {  // this rank's rows of the global batch
      const int64_t share = config_.batch / world;
      batch = {batch.input.narrow(0, rank * share, share), batch.target.narrow(0, rank * share, share)};
    }
    if (averager) averager->arm();
    const StepOutcome outcome =
        train_step(spec_, model_, *optimizer_, params, batch, config_.clip, device_,
                   config_.dtype == "bf16", reduce);
    const double loss_value = comm_ ? comm_->mean(outcome.loss) : outcome.loss;
    const double grad_norm = outcome.grad_norm;
    if (!outcome.stepped) {
      if (lead())
        append_log({{"step", step_ + 1}, {"loss", number(loss_value)}, {"grad_norm", number(grad_norm)},
                    {"diverged", true}});
      return finish("diverged", "non-finite " + std::string(std::isfinite(loss_value) ? "gradient" : "loss") +
                                    " at step " + std::to_string(step_ + 1) + " (lr " +
                                    std::to_string(lr) + ")");
    }
    ++step_;
    ++trained;
    const double dt = seconds_since(t0);
    train_time += dt;
    window_time += dt;
    window_loss += loss_value;
    ++window_steps;

    const bool last = step_ == config_.steps;
    const bool eval = last || (config_.eval_every > 0 && step_ % config_.eval_every == 0);
    const bool probe = config_.probe_every > 0 && (last || step_ % config_.probe_every == 0);
    if (lead() && (last || eval || probe || step_ % config_.log_every == 0 || step_ == 1)) {
      Json line{{"step", step_},
                {"loss", loss_value},
                {"loss_mean", window_loss / double(window_steps)},
                {"lr", lr},
                {"grad_norm", grad_norm},
                {"tokens_per_s", tokens_per_batch * double(window_steps) / window_time},
                {"elapsed_s", elapsed_before_ + seconds_since(start)}};
      summary.train_loss = window_loss / double(window_steps);
      window_loss = window_time = 0;
      window_steps = 0;
      if (eval) {
        const Json metrics = evaluate();
        line.update(metrics);
        summary.val_loss = metrics["val_loss"].is_null() ? NAN : metrics["val_loss"].get<double>();
        summary.val_bpc = metrics.value("val_bpc", Json(nullptr)).is_number() ? metrics["val_bpc"].get<double>() : NAN;
        summary.val_accuracy = metrics.value("val_accuracy", Json(nullptr)).is_number() ? metrics["val_accuracy"].get<double>() : NAN;
      }
      if (probe) line["probe"] = probe_json(probe_model(*model_, eval_batches_.front()));
      append_log(line);
    }
    if (lead() && (last || (config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0)))
      save_checkpoint(path("checkpoint.pt"), *model_, *optimizer_, step_);
    if (progress && lead()) {
      const double per_step = train_time / double(trained);
      progress({step_, config_.steps, loss_value, lr, grad_norm,
                tokens_per_batch / std::max(dt, 1e-9), seconds_since(start),
                per_step * double(config_.steps - step_)});
    }
  }
  return finish("completed", "");
}

}  // namespace sigprop
