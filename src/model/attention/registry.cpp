#include <cmath>
#include <map>
#include <torch/torch.h>

#include "core/error.h"
#include "model/attention/attention_matrix.h"

namespace sigprop {

namespace {

using Factory = AttentionMatrix (*)(const AttentionOptions&);

// One line per variant, keyed by the names the config accepts (config/model_spec.h).
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> all = {
      {"softmax", &make_softmax_attention},
      {"uniform", &make_uniform_attention},
      {"random_markov", &make_random_markov_attention},
      {"gap_removed", &make_gap_removed_attention},
      {"shaped", &make_shaped_attention},
      {"value_skipinit", &make_value_skipinit_attention},
      {"espa", &make_espa_attention},
      {"uspa", &make_uspa_attention},
  };
  return all;
}

AttentionMatrix make_named(const std::string& key, const std::string& name, const AttentionOptions& o) {
  const auto it = factories().find(name);
  if (it == factories().end()) {
    std::string known;
    for (const auto& n : attention_variant_names()) known += (known.empty() ? "" : " | ") + n;
    throw ConfigError("model." + key + " = \"" + name + "\" is not a known variant: " + known);
  }
  return it->second(o);
}

}  // namespace

AttentionMatrix make_attention_matrix(const AttentionOptions& o) {
  return make_named("attention", o.variant(), o);
}

AttentionMatrix make_base_attention_matrix(const AttentionOptions& o) {
  return make_named("attention_base", o.base(), o);
}

torch::Tensor uniform_attention_matrix(int64_t T, bool causal, const torch::TensorOptions& options) {
  if (!causal) return torch::full({T, T}, 1.0 / double(T), options);
  auto counts = torch::arange(1, T + 1, options).unsqueeze(1);  // row i: 1/i
  return torch::ones({T, T}, options).tril() / counts;
}

torch::Tensor scaled_logits(const torch::Tensor& q, const torch::Tensor& k, double scale, bool causal) {
  // Scaling q (T x d_k per head) is cheaper than scaling the T x T logits, and the mask is
  // written into the fresh logits in place: the product's backward needs q and k, not its output.
  auto logits = torch::matmul(q * scale, k.transpose(-2, -1));
  if (causal) logits.masked_fill_(causal_mask(q.size(-2), q.device()), -INFINITY);
  return logits;  // (B, H, T, T)
}

torch::Tensor softmax_form_matrix(const SoftmaxForm& form, const torch::Tensor& q,
                                  const torch::Tensor& k) {
  auto logits = scaled_logits(q, k, form.scale, form.causal);
  if (form.bias.defined()) logits.add_(form.bias.to(q.options()));
  auto A = torch::softmax(logits, -1);
  if (form.row_scale.defined()) A = A * form.row_scale.to(q.options());
  if (form.offset.defined()) A = A + form.offset.to(q.options());
  return A;
}

}  // namespace sigprop
