#include "data/fashion_mnist.h"

#include <zlib.h>

#include <cstdlib>

#include <torch/torch.h>

#include "core/error.h"

namespace sigprop {
namespace {

constexpr const char* kInstallHint = "install it with: sudo apt-get install dataset-fashion-mnist";

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError("cannot open " + path + "; " + kInstallHint);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw DataError(path + " is not a valid gzip file (corrupt download?); " + kInstallHint);
  return out;
}

class FashionMnist : public Dataset {
 public:
  FashionMnist() {
    const std::string dir = fashion_mnist_dir();
    train_x_ = read_idx_gz(dir + "/train-images-idx3-ubyte.gz");
    train_y_ = read_idx_gz(dir + "/train-labels-idx1-ubyte.gz");
    test_x_ = read_idx_gz(dir + "/t10k-images-idx3-ubyte.gz");
    test_y_ = read_idx_gz(dir + "/t10k-labels-idx1-ubyte.gz");
    if (train_x_.size(0) != train_y_.size(0) || test_x_.size(0) != test_y_.size(0))
      throw DataError("Fashion-MNIST images and labels disagree in count in " + dir);
    auto scaled = train_x_.to(torch::kFloat) / 255.0;
    mean_ = scaled.mean().item<double>();
    std_ = scaled.std().item<double>();
  }
  std::string name() const override { return "fashion-mnist"; }
  bool is_language() const override { return false; }
  double unigram_entropy() const override {
    auto p = torch::bincount(train_y_).to(torch::kDouble) / double(train_y_.size(0));
    return -(p * p.log()).sum().item<double>();
  }

  Batch train_batch(int64_t batch, uint64_t seed, int64_t step) const override {
    auto idx = torch::randint(0, train_x_.size(0), {batch}, batch_generator(seed, step), torch::kLong);
    return {images(train_x_.index({idx})), train_y_.index({idx})};
  }
  std::vector<Batch> eval_batches(int64_t batch, int64_t max_batches) const override {
    std::vector<Batch> out;
    const int64_t n = test_x_.size(0);
    for (int64_t s = 0; s < n && (max_batches == 0 || int64_t(out.size()) < max_batches); s += batch) {
      const int64_t b = std::min(batch, n - s);
      out.push_back({images(test_x_.narrow(0, s, b)), test_y_.narrow(0, s, b)});
    }
    return out;
  }
  void adapt(ModelSpec& spec) const override {
    spec.input = InputKind::Patches;
    spec.causal = false;  // a ViT attends over all patches
    spec.channels = 1;
    spec.num_classes = 10;
    const int tokens = (28 / spec.patch_size) * (28 / spec.patch_size);
    spec.max_seq = std::max(spec.max_seq, tokens);
  }

 private:
  torch::Tensor images(const torch::Tensor& raw) const {  // (B, 28, 28) uint8 -> (B, 1, 28, 28)
    return ((raw.to(torch::kFloat) / 255.0 - mean_) / std_).unsqueeze(1);
  }
  torch::Tensor train_x_, train_y_, test_x_, test_y_;
  double mean_ = 0, std_ = 1;
};

}  // namespace

std::string fashion_mnist_dir() {
  if (const char* d = std::getenv("SIGPROP_FASHION_MNIST_DIR"); d && *d) return d;
  return "/usr/share/datasets/fashion-mnist";
}

torch::Tensor read_idx_gz(const std::string& path) {
  const std::string bytes = gunzip(path);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 8) throw DataError(path + " is truncated; " + kInstallHint);
  const uint32_t magic = big_endian(p), n = big_endian(p + 4);
  if (magic == 2049 && bytes.size() == 8 + size_t(n)) {
    return torch::from_blob(const_cast<unsigned char*>(p + 8), {int64_t(n)}, torch::kUInt8)
        .to(torch::kLong);
  }
  if (magic == 2051 && bytes.size() >= 16) {
    const uint32_t rows = big_endian(p + 8), cols = big_endian(p + 12);
    // n·rows·cols in 64 bits can wrap around (a fuzzer found 2²¹·2²⁴·2²⁷ = 0 mod 2⁶⁴): checked.
    // No side may be 0 either: zero images of 2³¹ × 2³² pixels hold no bytes, yet their strides
    // overflow (a fuzzer found that too); with every side ≥ 1 the strides are at most the size.
    uint64_t pixels = 0;
    const bool fits = n > 0 && rows > 0 && cols > 0 &&
                      !__builtin_mul_overflow(uint64_t(n), uint64_t(rows), &pixels) &&
                      !__builtin_mul_overflow(pixels, uint64_t(cols), &pixels);
    if (fits && bytes.size() - 16 == pixels)
      return torch::from_blob(const_cast<unsigned char*>(p + 16), {int64_t(n), rows, cols},
                              torch::kUInt8).clone();
  }
  throw DataError(path + " is not a valid IDX file (magic " + std::to_string(magic) + ", " +
                  std::to_string(bytes.size()) + " bytes); " + kInstallHint);
}

std::unique_ptr<Dataset> make_fashion_mnist_dataset() { return std::make_unique<FashionMnist>(); }

}  // namespace sigprop
