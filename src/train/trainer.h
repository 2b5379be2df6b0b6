// Training a model on a dataset, with the per-layer probe tracked as it learns.
// A run lives in a folder: run.json (model, training config, versions), train.jsonl (one JSON
// line per logged step), checkpoint.pt (atomic), summary.json (atomic, at the end), vocab.json
// (character data). A run can be resumed from its folder and continues bit-for-bit.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/model_spec.h"
#include "core/folder_lock.h"
#include "data/dataset.h"
#include "model/transformer.h"
#include "train/distributed.h"
#include "train/train_config.h"

namespace sigprop {

struct StepReport {
  int64_t step = 0, total = 0;  // steps completed, budget
  double loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0, elapsed_s = 0, eta_s = 0;
};

struct TrainSummary {
  std::string status = "completed";  // completed | diverged | interrupted
  int64_t step = 0;                  // steps completed
  std::string message;               // why a run stopped early
  double train_loss = NAN;           // mean over the last logging window
  double val_loss = NAN, val_bpc = NAN, val_accuracy = NAN;
  double unigram_entropy = NAN;      // of the training targets, nats
  double seconds = 0, tokens_per_s = 0;  // seconds: every sitting of the run together
  int resumes = 0;                        // sittings after the first
  int ranks = 1;                          // data-parallel processes of the last sitting
  double allreduce_share = 0;             // of its training time, rank 0's in gradient averaging
};
nlohmann::json summary_to_json(const TrainSummary& s);
// Inverse of summary_to_json (a run's summary.json); null losses read as NaN. Throws DataError
// naming the file.
TrainSummary read_train_summary(const std::string& path);
// "status: completed\nsteps: 500\ntrain_loss: ..." as `sigprop train` prints it.
std::string train_summary_text(const TrainSummary& s);

// The loss of `model` on held-out batches of `data`, with bits per character (language data)
// or accuracy (classes); NaN where it does not apply.
struct Evaluation {
  double loss = NAN, bpc = NAN, accuracy = NAN;
};
Evaluation evaluate_model(TransformerImpl& model, const Dataset& data, const std::vector<Batch>& batches);

class Trainer {
 public:
  // A new run in `dir`: validates everything, then creates the folder and writes run.json.
  // Throws ConfigError if `dir` already holds a run. With `initial`, the run starts from its
  // weights (a model of the same spec, adapted to the data; ConfigError naming the first tensor
  // that differs otherwise), and its step-0 checkpoint is written before run.json, so the folder
  // is never a run that would resume from other weights.
  Trainer(ModelSpec spec, TrainConfig config, std::string dir, torch::Device device,
          const torch::nn::Module* initial = nullptr);
  // Continues the run in `dir` from its checkpoint; `steps` > 0 changes the budget.
  // With `comm` (a world of N ranks) every rank calls this; rank 0 alone writes the folder.
  static std::unique_ptr<Trainer> resume(const std::string& dir, int64_t steps, torch::Device device,
                                         std::shared_ptr<Communicator> comm = nullptr);
  // The run of `spec` and `config` in `dir`, whatever state a kill left it in: a new run where
  // there is none yet, the unfinished one resumed, or null with `*done` set when it has already
  // ended (completed or diverged). Throws ConfigError when `dir` holds a run of another
  // configuration. So running the same command again always brings a run to its end.
  // With `comm`, every rank calls it and all reach the same decision from the folder as it was
  // before any of them wrote; rank 0 alone writes, logs, evaluates, probes and checkpoints.
  static std::unique_ptr<Trainer> open(const ModelSpec& spec, const TrainConfig& config,
                                       const std::string& dir, torch::Device device,
                                       TrainSummary* done,
                                       std::shared_ptr<Communicator> comm = nullptr);

  // Trains until the budget is spent, the loss or gradient is not finite (status "diverged",
  // nothing stepped), or `*stop` becomes true (checkpoint saved, status "interrupted").
  TrainSummary run(const std::atomic<bool>* stop = nullptr,
                   const std::function<void(const StepReport&)>& progress = nullptr);

  const ModelSpec& spec() const { return spec_; }
  const TrainConfig& config() const { return config_; }
  Transformer& model() { return model_; }

 private:
  struct Resumed {};
  Trainer(Resumed, const std::string& dir, int64_t steps, torch::Device device);
  // A rank other than 0: the same model, data and step as rank 0's, and no files of its own.
  struct Follower {};
  Trainer(Follower, ModelSpec spec, TrainConfig config, const std::string& dir, torch::Device device,
          bool resume, std::shared_ptr<Communicator> comm);
  bool lead() const { return !comm_ || comm_->rank() == 0; }
  void build();  // dataset, adapted spec, model, optimiser, fixed eval/probe batches
  void copy_weights(const torch::nn::Module& from);
  nlohmann::json evaluate();
  void append_log(const nlohmann::json& line);
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  ModelSpec spec_;
  TrainConfig config_;
  std::string dir_;
  torch::Device device_;
  std::unique_ptr<Dataset> data_;
  Transformer model_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<Batch> eval_batches_;
  int64_t step_ = 0;
  std::unique_ptr<FolderLock> lock_;  // one process per run folder
  double elapsed_before_ = 0;  // training seconds of earlier sittings (resumed runs)
  std::shared_ptr<Communicator> comm_;  // null: one process
  int resumes_ = 0;
};

}  // namespace sigprop
