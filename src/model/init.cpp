#include "model/init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "model/transformer.h"

namespace sigprop {
namespace {

// Scaled orthogonal init (as in DKS/TAT, used by paper 001) in two passes: the Gaussian matrix is
// drawn now, in order, from the global generator (what torch::nn::init::orthogonal_ draws, so the
// same weights), and its QR is left for later, when all of a model's QRs run one per core:
// LAPACK's QR of a 256 x 256 matrix is faster on one thread than on two.
struct PendingOrthogonal {
  torch::Tensor weight, gaussian;
  double gain = 1;
};

PendingOrthogonal draw_orthogonal(torch::Tensor& w) {
  // DKS's scaled uniform orthogonal (SUO) gain √max(1, fan_out / fan_in): a narrow-to-wide map
  // is scaled up so each output unit keeps the input's per-unit second moment.
  const int64_t rows = w.size(0), cols = w.size(1);
  auto gaussian = torch::randn({rows, cols});
  return {w, rows < cols ? gaussian.t() : gaussian, std::sqrt(std::max(1.0, double(rows) / cols))};
}

// Q of the QR of the tall Gaussian, columns' signs fixed by diag(R) (Haar measure: Mezzadri,
// math-ph/0609050), times the gain: torch::nn::init::orthogonal_'s steps.
void finish_orthogonal(const PendingOrthogonal& p) {
  auto [q, r] = torch::linalg_qr(p.gaussian);
  q.mul_(r.diagonal().sign());
  p.weight.copy_(p.weight.size(0) < p.weight.size(1) ? q.t() : q).mul_(p.gain);
}

void init_weight(torch::Tensor& w, const ModelSpec& spec, std::vector<PendingOrthogonal>& pending) {
  switch (spec.init) {
    case InitKind::Normal: torch::nn::init::normal_(w, 0.0, spec.init_std); break;
    case InitKind::Xavier: torch::nn::init::xavier_normal_(w); break;
    case InitKind::Orthogonal: pending.push_back(draw_orthogonal(w)); break;
    case InitKind::LeCun: torch::nn::init::normal_(w, 0.0, 1.0 / std::sqrt(double(w.size(1)))); break;
  }
}

void init_linear(torch::nn::LinearImpl& lin, const ModelSpec& spec,
                 std::vector<PendingOrthogonal>& pending) {
  init_weight(lin.weight, spec, pending);
  if (lin.bias.defined()) torch::nn::init::zeros_(lin.bias);
}

}  // namespace

void initialise(TransformerImpl& model) {
  torch::NoGradGuard no_grad;
  const ModelSpec& spec = model.spec;
  std::vector<PendingOrthogonal> pending;
  for (const auto& m : *model.blocks) {
    auto* block = m->as<BlockImpl>();
    auto& attn = *block->attn;
    for (auto* lin : {&attn.w_q, &attn.w_k, &attn.w_v, &attn.w_o}) init_linear(**lin, spec, pending);
    if (block->mlp) {
      init_linear(*block->mlp->fc1, spec, pending);
      init_linear(*block->mlp->fc2, spec, pending);
    }
  }
  for_each_chunk(int64_t(pending.size()), 1,
                 [&](int64_t i, int64_t, int64_t) { finish_orthogonal(pending[i]); });
  if (spec.zero_queries)
    for (const auto& m : *model.blocks) torch::nn::init::zeros_(m->as<BlockImpl>()->attn->w_q->weight);
  // DeepNet's β on every block matrix but W_Q and W_K (those set the logits, which the update
  // bound does not involve): with a = (2L)^{1/4} on the skip it bounds the post-LN model update.
  if (spec.residual.kind == ResidualScale::Kind::DeepNorm) {
    const double beta = deepnorm_beta(spec.depth);
    for (const auto& m : *model.blocks) {
      auto* block = m->as<BlockImpl>();
      block->attn->w_v->weight.mul_(beta);
      block->attn->w_o->weight.mul_(beta);
      if (block->mlp) block->mlp->fc1->weight.mul_(beta), block->mlp->fc2->weight.mul_(beta);
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
