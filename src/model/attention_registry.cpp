#include <cmath>
#include <torch/torch.h>

#include "core/error.h"
#include "model/attention.h"
#include "model/attention/variants.h"

namespace sigprop {

const std::vector<AttentionVariant>& attention_variants() {
  static const std::vector<AttentionVariant> all = {
      {"softmax", "softmax(q k^T / sqrt(d_k)), the standard baseline (Vaswani et al. 2017)",
       &make_softmax_attention},
      {"uniform", "A = (1/T) 1 1^T (or uniform causal): the W_Q = 0 limit (paper 002)",
       &make_uniform_attention},
      {"random_markov", "softmax of i.i.d. N(-ln2/2, ln2) logits, input-independent (paper 003)",
       &make_random_markov_attention},
      {"gap_removed", "A - (1/T) 1 1^T after softmax: spectral gap removed (paper 003)",
       &make_gap_removed_attention},
      {"shaped", "I + softmax(q k^T / tau) - C, tau = tau0 sqrt(n n_k) (paper 004)",
       &make_shaped_attention},
      {"value_skipinit", "alpha I + beta A, trainable, alpha = 1, beta = 0 at init (paper 001)",
       &make_value_skipinit_attention},
      {"espa", "D softmax(q k^T/sqrt(d_k) + B): exponential signal-preserving attention (paper 001)",
       &make_espa_attention},
      {"uspa", "D softmax(q k^T/sqrt(d_k) + B): uniform signal-preserving attention (paper 001)",
       &make_uspa_attention},
  };
  return all;
}

std::vector<std::string> attention_variant_names() {
  std::vector<std::string> names;
  for (const auto& v : attention_variants()) names.push_back(v.name);
  return names;
}

bool is_attention_variant(const std::string& name) {
  for (const auto& v : attention_variants())
    if (v.name == name) return true;
  return false;
}

AttentionMatrix make_attention_matrix(const std::string& name, const AttentionContext& ctx) {
  for (const auto& v : attention_variants())
    if (v.name == name) return v.make(ctx);
  std::string known;
  for (const auto& n : attention_variant_names()) known += (known.empty() ? "" : " | ") + n;
  throw ConfigError("model.attention = \"" + name + "\" is not a known variant: " + known);
}

torch::Tensor causal_mask(int64_t T, const torch::Device& device) {
  return torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(device)).triu(1);
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
