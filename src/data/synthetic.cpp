#include "data/synthetic.h"

#include <cmath>

#include <torch/torch.h>

namespace sigprop {
namespace {

class SyntheticCopy : public Dataset {
 public:
  explicit SyntheticCopy(int64_t seq) : seq_(seq) {}
  std::string name() const override { return "synthetic"; }
  bool is_language() const override { return true; }
  double unigram_entropy() const override { return std::log(double(kSyntheticVocab)); }

  Batch train_batch(int64_t batch, uint64_t seed, int64_t step) const override {
    return make(batch, batch_generator(seed, step));
  }
  std::vector<Batch> eval_batches(int64_t batch, int64_t max_batches) const override {
    std::vector<Batch> out;
    const int64_t n = max_batches > 0 ? max_batches : 8;
    for (int64_t i = 0; i < n; ++i) out.push_back(make(batch, batch_generator(0xE7A1, i)));
    return out;
  }
  void adapt(ModelSpec& spec) const override {
    spec.input = InputKind::Tokens;
    spec.vocab_size = kSyntheticVocab;
    spec.max_seq = std::max<int>(spec.max_seq, static_cast<int>(seq_));
  }

 private:
  Batch make(int64_t batch, at::Generator gen) const {
    const int64_t half = (seq_ + 2) / 2;
    auto first = torch::randint(0, kSyntheticVocab, {batch, half}, gen, torch::kLong);
    auto seq = torch::cat({first, first}, 1).narrow(1, 0, seq_ + 1);  // (B, T + 1)
    return {seq.narrow(1, 0, seq_).contiguous(), seq.narrow(1, 1, seq_).contiguous()};
  }
  int64_t seq_;
};

}  // namespace

std::unique_ptr<Dataset> make_synthetic_dataset(int64_t seq) {
  return std::make_unique<SyntheticCopy>(seq);
}

}  // namespace sigprop
