#include "bench/bench_case.h"

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"

namespace sigprop {
namespace {

BenchCase make_case(std::string id, std::string description, const std::string& preset,
                    const std::vector<std::string>& overrides, int64_t batch, int64_t seq, bool quick) {
  BenchCase c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.spec = load_preset(preset);
  for (const auto& o : overrides) apply_override(c.spec, o);
  c.spec.validate();
  c.batch = batch;
  c.seq = seq;
  c.warmup = quick ? 1 : 3;
  c.steps = quick ? 2 : 20;
  return c;
}

}  // namespace

std::vector<BenchCase> bench_cases(bool quick) {
  return {
      make_case("a", "train step, pre-ln, 4 layers, width 128, 4 heads, T=64, batch 12", "pre-ln",
                {"depth=4", "width=128", "heads=4", "mlp_width=512"}, 12, 64, quick),
      make_case("b", "train step, shaped, 48 layers, width 128, T=64, batch 12", "shaped",
                {"depth=48", "width=128", "heads=4", "mlp_width=512"}, 12, 64, quick),
      make_case("c", "train step, pre-ln, 6 layers, width 384, 6 heads, T=256, batch 16", "pre-ln",
                {"depth=6", "width=384", "heads=6", "mlp_width=1536", "max_seq=256"}, 16, 256, quick),
  };
}

const BenchCase& find_bench_case(const std::vector<BenchCase>& cases, const std::string& id) {
  for (const auto& c : cases)
    if (c.id == id) return c;
  std::string allowed;
  for (const auto& c : cases) allowed += (allowed.empty() ? "" : ", ") + c.id;
  throw ConfigError("benchmark case '" + id + "' is not allowed; one of " + allowed);
}

double training_flops_per_token(const ModelSpec& s, int64_t seq) {
  const double d = s.width, dk = s.d_k > 0 ? s.d_k : s.width / s.heads;
  const double attn = 2 * d * s.heads * dk + 2 * d * d;  // W_Q, W_K; W_V, W_O
  const double mlp = 2 * d * s.mlp_width;
  const double n = s.depth * (attn + mlp) + d * s.vocab_size;  // + the language-model head
  return 6 * n + 12.0 * s.depth * double(seq) * d;
}

}  // namespace sigprop
