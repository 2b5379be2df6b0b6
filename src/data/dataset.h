// Training data behind one interface: a deterministic sampler of training batches, a fixed list
// of evaluation batches, and the model input/output sizes the data needs.
//   kjv:           character-level language modelling on the King James Bible (last 10% held out)
//   fashion-mnist: 28x28 image classification, official test set for evaluation
//   synthetic:     copy task (second half of each sequence repeats the first), for fast tests
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/model_spec.h"

namespace sigprop {

struct Batch {
  torch::Tensor input;   // (B, T) int64 tokens | (B, C, H, W) float images
  torch::Tensor target;  // (B, T) next tokens | (B) classes
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;
  // The training batch of `step` under `seed`: a pure function of both, so a resumed run sees
  // exactly the batches an uninterrupted one would.
  virtual Batch train_batch(int64_t batch, uint64_t seed, int64_t step) const = 0;
  // Held-out batches in a fixed order; at most `max_batches` (0 = all of the held-out set).
  virtual std::vector<Batch> eval_batches(int64_t batch, int64_t max_batches) const = 0;
  // Sets input kind, vocabulary/classes and sequence length of `spec` to fit this data.
  virtual void adapt(ModelSpec& spec) const = 0;
  virtual bool is_language() const = 0;  // true: report bits per character; false: accuracy
  // Entropy (nats) of the marginal target distribution on the training split: the loss of the
  // best input-ignoring predictor, a floor any learning must beat.
  virtual double unigram_entropy() const = 0;
  // Characters of a character-level vocabulary, in token-id order; "" for other data.
  virtual std::string vocabulary() const { return ""; }
};

// Names: kjv | fashion-mnist | synthetic. `seq` is the sequence length for token data.
// Throws ConfigError for an unknown name, DataError for missing/corrupt files.
std::unique_ptr<Dataset> make_dataset(const std::string& name, int64_t seq);

// Deterministic generator for (seed, step, stream): independent streams for independent uses.
at::Generator batch_generator(uint64_t seed, int64_t step, uint64_t stream = 0);

}  // namespace sigprop
