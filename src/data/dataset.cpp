#include "data/dataset.h"

#include <torch/torch.h>

#include "core/error.h"
#include "data/fashion_mnist.h"
#include "data/kjv.h"
#include "data/synthetic.h"

namespace sigprop {

at::Generator batch_generator(uint64_t seed, int64_t step, uint64_t stream) {
  // splitmix64 of the three, so neighbouring steps and seeds give unrelated streams.
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) * 0xBF58476D1CE4E5B9ULL +
               stream * 0x94D049BB133111EBULL + 0x2545F4914F6CDD1DULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return at::detail::createCPUGenerator(z ^ (z >> 31));
}

std::unique_ptr<Dataset> make_dataset(const std::string& name, int64_t seq) {
  if (seq < 2) throw ConfigError("--seq " + std::to_string(seq) + " is not allowed: expected >= 2");
  if (name == "kjv") return make_kjv_dataset(seq);
  if (name == "fashion-mnist") return make_fashion_mnist_dataset();
  if (name == "synthetic") return make_synthetic_dataset(seq);
  throw ConfigError("--data " + name + " is not allowed: expected kjv | fashion-mnist | synthetic");
}

}  // namespace sigprop
