#include "bench/bench_case.h"

#include <algorithm>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "model/transformer.h"

namespace sigprop {
namespace {

BenchCase make_case(std::string id, std::string description, const std::string& preset,
                    const std::vector<std::string>& overrides, int64_t batch, int64_t seq, bool quick) {
  BenchCase c;
  c.id = std::move(id);
  c.description = std::move(description);
  c.spec = load_preset(preset);
  for (const auto& o : overrides) apply_override(c.spec, o);
  check_buildable(c.spec);
  c.batch = batch;
  c.seq = seq;
  c.warmup = quick ? 1 : 3;
  c.steps = quick ? 2 : 20;
  return c;
}

// probe --compare's defaults (seeds 0 and 1, KJV, T = 64, batch 8) on every preset.
BenchCase probe_case(bool quick) {
  BenchCase c;
  c.id = "d";
  c.kind = BenchKind::Probe;
  c.spec.depth = quick ? 16 : 64;  // TAT's presets cannot be built below ~13 blocks
  c.spec.width = quick ? 32 : 256;
  c.description = quick ? "probe --compare, all presets, depth 16, width 32 (quick)"
                        : "probe --compare, all presets, depth 64, width 256, 2 seeds";
  c.batch = 8, c.seq = 64, c.seeds = 2;
  return c;
}

// theory sde's default finite networks: n = 200, depth t·n = 150, the reduced sampler.
BenchCase sde_case(bool quick) {
  BenchCase c;
  c.id = "e";
  c.kind = BenchKind::Sde;
  c.spec.width = 200;
  c.spec.depth = quick ? 10 : 150;
  c.networks = quick ? 64 : 4096;
  c.description = quick ? "theory sde finite networks, 64 networks, n=200, depth 10 (quick)"
                        : "theory sde finite networks, 4096 networks, n=200, depth 150";
  return c;
}

// One sigprop.nn attention module, forward + backward, causal, width 256, 4 heads, T 128.
BenchCase python_attention_case(const std::string& id, const std::string& variant, bool quick) {
  BenchCase c;
  c.id = id;
  c.kind = BenchKind::PythonAttention;
  c.variant = variant;
  c.spec.width = 256, c.spec.heads = 4;
  c.batch = 8, c.seq = 128;
  c.warmup = quick ? 1 : 5;
  c.steps = quick ? 2 : 30;
  c.description = "sigprop.nn " + variant + " attention fwd+bwd, width 256, 4 heads, T=128, batch 8";
  return c;
}

// sigprop.probe of a post-norm nn.TransformerEncoder, the size of issue 16's speed goal.
BenchCase python_probe_case(bool quick) {
  BenchCase c;
  c.id = "py-probe";
  c.kind = BenchKind::PythonProbe;
  c.spec.depth = quick ? 4 : 48;
  c.spec.width = quick ? 32 : 256;
  c.spec.heads = quick ? 4 : 8;
  c.batch = quick ? 2 : 8, c.seq = quick ? 16 : 128;
  c.steps = quick ? 1 : 3;  // probes per process
  c.variant = "encoder";
  c.description = quick ? "sigprop.probe, nn.TransformerEncoder depth 4, width 32 (quick)"
                        : "sigprop.probe, nn.TransformerEncoder depth 48, width 256, T=128, batch 8";
  return c;
}

// sigprop.probe of transformers' GPT-2 small (random weights, its default sdpa attention), the
// size of issue 29's speed goal: 12 layers, width 768, 12 heads, T 256, batch 4.
BenchCase python_probe_gpt2_case(bool quick) {
  BenchCase c;
  c.id = "py-probe-gpt2";
  c.kind = BenchKind::PythonProbe;
  c.variant = "gpt2";
  c.spec.depth = quick ? 2 : 12;
  c.spec.width = quick ? 64 : 768;
  c.spec.heads = quick ? 4 : 12;
  c.batch = quick ? 2 : 4, c.seq = quick ? 16 : 256;
  c.steps = quick ? 1 : 3;
  c.description = quick ? "sigprop.probe, transformers GPT-2 depth 2, width 64 (quick)"
                        : "sigprop.probe, transformers GPT-2 small: 12 layers, width 768, T=256, batch 4";
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
      probe_case(quick), sde_case(quick),
      python_attention_case("nn-softmax", "softmax", quick),
      python_attention_case("nn-shaped", "shaped", quick),
      python_attention_case("nn-espa", "espa", quick),
      python_attention_case("nn-uspa", "uspa", quick),
      python_attention_case("nn-vskipinit", "value_skipinit", quick),
      python_attention_case("nn-gap", "gap_removed", quick),
      python_probe_case(quick), python_probe_gpt2_case(quick),
  };
}

std::vector<BenchCase> select_bench_cases(const std::vector<BenchCase>& cases, const std::string& ids) {
  std::vector<BenchCase> chosen;
  size_t start = 0;
  while (start <= ids.size()) {
    const size_t end = std::min(ids.find(',', start), ids.size());
    const std::string id = ids.substr(start, end - start);
    if (id == "nn") {
      for (const auto& c : cases)
        if (c.id.rfind("nn-", 0) == 0) chosen.push_back(c);
    } else {
      chosen.push_back(find_bench_case(cases, id));
    }
    start = end + 1;
  }
  return chosen;
}

const BenchCase& find_bench_case(const std::vector<BenchCase>& cases, const std::string& id) {
  for (const auto& c : cases)
    if (c.id == id) return c;
  std::string allowed;
  for (const auto& c : cases) allowed += (allowed.empty() ? "" : ", ") + c.id;
  throw ConfigError("benchmark case '" + id + "' is not allowed; one of " + allowed + ", or nn (every nn-*)");
}

double training_flops_per_token(const ModelSpec& s, int64_t seq) {
  const double d = s.width, dk = s.d_k > 0 ? s.d_k : s.width / s.heads;
  const double attn = 2 * d * s.heads * dk + 2 * d * d;  // W_Q, W_K; W_V, W_O
  const double mlp = 2 * d * s.mlp_width;
  const double n = s.depth * (attn + mlp) + d * s.vocab_size;  // + the language-model head
  return 6 * n + 12.0 * s.depth * double(seq) * d;
}

}  // namespace sigprop
