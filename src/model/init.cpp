#include "model/init.h"

#include <algorithm>
#include <cmath>

#include "model/transformer.h"

namespace sigprop {
namespace {

void init_weight(torch::Tensor& w, const ModelSpec& spec) {
  switch (spec.init) {
    case InitKind::Normal: torch::nn::init::normal_(w, 0.0, spec.init_std); break;
    case InitKind::Xavier: torch::nn::init::xavier_normal_(w); break;
    case InitKind::Orthogonal: {
      // Scaled orthogonal (as in DKS/TAT, used by paper 001): norm-preserving on average, so a
      // wide-to-narrow map (fan_out < fan_in) is scaled up by √(fan_in / fan_out).
      const double fan_out = double(w.size(0)), fan_in = double(w.size(1));
      torch::nn::init::orthogonal_(w, std::sqrt(std::max(1.0, fan_in / fan_out)));
      break;
    }
    case InitKind::LeCun: torch::nn::init::normal_(w, 0.0, 1.0 / std::sqrt(double(w.size(1)))); break;
  }
}

void init_linear(torch::nn::Linear& lin, const ModelSpec& spec) {
  init_weight(lin->weight, spec);
  if (lin->bias.defined()) torch::nn::init::zeros_(lin->bias);
}

}  // namespace

void initialise(TransformerImpl& model) {
  torch::NoGradGuard no_grad;
  const ModelSpec& spec = model.spec;
  for (const auto& m : *model.blocks) {
    auto* block = m->as<BlockImpl>();
    auto& attn = *block->attn;
    for (auto* lin : {&attn.w_q, &attn.w_k, &attn.w_v, &attn.w_o}) init_linear(*lin, spec);
    if (spec.zero_queries) torch::nn::init::zeros_(attn.w_q->weight);
    if (block->mlp) {
      init_linear(block->mlp->fc1, spec);
      init_linear(block->mlp->fc2, spec);
    }
  }
  if (model.wte) torch::nn::init::normal_(model.wte->weight, 0.0, 1.0);
  if (model.wpe) torch::nn::init::normal_(model.wpe->weight, 0.0, 1.0);
  if (model.patch_embed) {
    torch::nn::init::xavier_normal_(model.patch_embed->weight);
    torch::nn::init::zeros_(model.patch_embed->bias);
  }
  if (model.head) {
    torch::nn::init::normal_(model.head->weight, 0.0, 1.0 / std::sqrt(double(spec.width)));
    if (model.head->bias.defined()) torch::nn::init::zeros_(model.head->bias);
  }
}

}  // namespace sigprop
