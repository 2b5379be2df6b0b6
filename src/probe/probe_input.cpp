#include "probe/probe_input.h"

#include <cmath>

#include <torch/torch.h>

#include "core/error.h"
#include "model/transformer.h"
#include "data/kjv.h"

namespace sigprop {

ProbeInput parse_probe_input(const std::string& name) {
  if (name == "kjv") return ProbeInput::KJV;
  if (name == "gaussian") return ProbeInput::Gaussian;
  if (name == "isometric") return ProbeInput::Isometric;
  throw ConfigError("--input " + name + " is not allowed: expected kjv | gaussian | isometric");
}

std::string to_string(ProbeInput input) {
  switch (input) {
    case ProbeInput::KJV: return "kjv";
    case ProbeInput::Gaussian: return "gaussian";
    case ProbeInput::Isometric: return "isometric";
  }
  return "?";
}

ModelSpec spec_for_probe_input(ModelSpec spec, ProbeInput input, int64_t seq, int64_t vocab) {
  if (input == ProbeInput::KJV) {
    spec.input = InputKind::Tokens;
    spec.vocab_size = static_cast<int>(vocab);
  } else {
    spec.input = InputKind::Raw;
  }
  if (input == ProbeInput::Isometric && seq > spec.width)
    throw ConfigError("--input isometric needs --seq <= model.width (orthonormal rows): seq = " +
                      std::to_string(seq) + ", width = " + std::to_string(spec.width));
  spec.max_seq = std::max<int>(spec.max_seq, static_cast<int>(seq));
  check_buildable(spec);
  return spec;
}

ProbeBatch make_probe_batch(ProbeInput input, int64_t width, int64_t batch, int64_t seq,
                            uint64_t seed, const CharCorpus* corpus) {
  auto gen = at::detail::createCPUGenerator(seed ^ 0x5eed5eedULL);
  ProbeBatch b;
  switch (input) {
    case ProbeInput::KJV: {
      if (!corpus) throw DataError("--input kjv needs the KJV corpus");
      const int64_t n = corpus->ids.size(0);
      auto starts = torch::randint(0, n - seq - 1, {batch}, gen, torch::kLong);
      auto offsets = torch::arange(seq, torch::kLong);
      auto idx = starts.unsqueeze(1) + offsets.unsqueeze(0);  // (B, T)
      b.input = corpus->ids.index({idx});
      b.target = corpus->ids.index({idx + 1});
      return b;
    }
    case ProbeInput::Gaussian:
      b.input = torch::randn({batch, seq, width}, gen, torch::kFloat);
      break;
    case ProbeInput::Isometric: {
      // Q of a Gaussian (d x T) has orthonormal columns; its transpose has orthonormal rows.
      auto g = torch::randn({batch, width, seq}, gen, torch::kDouble);
      auto q = std::get<0>(torch::linalg_qr(g));  // (B, d, T)
      b.input = (q.transpose(1, 2) * std::sqrt(double(width))).to(torch::kFloat).contiguous();
      break;
    }
  }
  b.target = torch::randn({batch, seq, width}, gen, torch::kFloat);
  return b;
}

}  // namespace sigprop
