#include <cmath>

#include <torch/torch.h>

#include "data/dataset.h"
#include "data/kjv.h"

namespace sigprop {
namespace {

class KjvDataset : public Dataset {
 public:
  explicit KjvDataset(int64_t seq) : seq_(seq), corpus_(load_kjv()) {
    const int64_t n = corpus_.ids.size(0), n_train = n * 9 / 10;
    train_ = corpus_.ids.narrow(0, 0, n_train);
    val_ = corpus_.ids.narrow(0, n_train, n - n_train);
  }
  std::string name() const override { return "kjv"; }
  bool is_language() const override { return true; }
  std::string vocabulary() const override { return corpus_.vocab; }

  double unigram_entropy() const override {
    auto p = torch::bincount(train_).to(torch::kDouble) / double(train_.size(0));
    p = p.masked_select(p > 0);
    return -(p * p.log()).sum().item<double>();
  }

  Batch train_batch(int64_t batch, uint64_t seed, int64_t step) const override {
    auto starts = torch::randint(0, train_.size(0) - seq_ - 1, {batch}, batch_generator(seed, step),
                                 torch::kLong);
    return windows(train_, starts);
  }

  std::vector<Batch> eval_batches(int64_t batch, int64_t max_batches) const override {
    const int64_t room = val_.size(0) - seq_ - 1;
    const int64_t n = max_batches > 0 ? max_batches : room / (seq_ * batch);
    auto starts = torch::linspace(0, double(room), n * batch, torch::kDouble).to(torch::kLong);
    std::vector<Batch> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(windows(val_, starts.narrow(0, i * batch, batch)));
    return out;
  }

  void adapt(ModelSpec& spec) const override {
    spec.input = InputKind::Tokens;
    spec.vocab_size = static_cast<int>(corpus_.vocab.size());
    spec.max_seq = std::max<int>(spec.max_seq, static_cast<int>(seq_));
  }

 private:
  Batch windows(const torch::Tensor& ids, const torch::Tensor& starts) const {
    auto idx = starts.unsqueeze(1) + torch::arange(seq_, torch::kLong).unsqueeze(0);  // (B, T)
    return {ids.index({idx}), ids.index({idx + 1})};
  }

  int64_t seq_;
  CharCorpus corpus_;
  torch::Tensor train_, val_;
};

}  // namespace

std::unique_ptr<Dataset> make_kjv_dataset(int64_t seq) { return std::make_unique<KjvDataset>(seq); }

}  // namespace sigprop
