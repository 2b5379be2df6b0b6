// The options of each module, LibTorch style (chained setters), and the one place that reads
// them off a ModelSpec. A module takes only its options, so it can be built and tested alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/arg.h>

#include "config/model_spec.h"

namespace sigprop {

// A module holder of an interface (AttentionMatrix, Nonlinearity, Residual) around one of its
// implementations: make_module<Residual, ScaledResidual>(alpha).
template <class Holder, class Impl, class... Args>
Holder make_module(Args&&... args) {
  return Holder(std::shared_ptr<typename Holder::ContainedType>(
      std::make_shared<Impl>(std::forward<Args>(args)...)));
}

// Multi-head self-attention and its attention matrix (model/attention/).
struct AttentionOptions {
  AttentionOptions(int64_t width, int64_t heads) : width_(width), heads_(heads), d_k_(width / heads) {}
  int64_t d_v() const { return width_ / heads_; }  // per-head value width
  TORCH_ARG(int64_t, width);                  // d = n: model width
  TORCH_ARG(int64_t, heads);                  // H
  TORCH_ARG(int64_t, d_k);                    // per-head query/key width n_k
  TORCH_ARG(std::string, variant) = "softmax";  // name in the attention registry
  TORCH_ARG(std::string, base) = "softmax";     // the A that gap_removed and value_skipinit modify
  TORCH_ARG(bool, causal) = true;
  TORCH_ARG(int, layer) = 0;                  // 0-based block index
  TORCH_ARG(int, depth) = 1;                  // L, for variants whose A_l depends on l/L
  TORCH_ARG(int64_t, max_seq) = 256;          // longest sequence (input-independent matrices)
  TORCH_ARG(double, shaped_tau0) = 1.0;       // shaped attention's τ₀ (paper 004)
  TORCH_ARG(double, espa_gamma) = 0.005;      // E-SPA's γ_L (paper 001)
  TORCH_ARG(double, uspa_rho) = 0.8;          // U-SPA's ρ_L (paper 001)
  TORCH_ARG(bool, qk_norm) = false;           // RMSNorm of each head's q and k (attention/qk_norm.h)
};

// The MLP's nonlinearity φ (model/activation/).
struct ActivationOptions {
  TORCH_ARG(Activation, kind) = Activation::ReLU;
  TORCH_ARG(double, leaky_slope) = 0.01;   // leaky_relu
  TORCH_ARG(double, tat_eta) = 0.9;        // TAT target C^N(0) = η (paper 001)
  TORCH_ARG(int, tat_nonlinearities) = 1;  // N, nonlinearities on a path through the model
  TORCH_ARG(int64_t, width) = 1;           // n of shaped ReLU's s± = 1 + c±/√n (paper 004)
  TORCH_ARG(double, c_plus) = 0.0;
  TORCH_ARG(double, c_minus) = -1.0;
};

struct MLPOptions {
  MLPOptions(int64_t width, int64_t hidden) : width_(width), hidden_(hidden) {}
  TORCH_ARG(int64_t, width);
  TORCH_ARG(int64_t, hidden);
  TORCH_ARG(ActivationOptions, activation);
};

// X ⊕ f(X): how a branch joins the stream (model/residual/).
struct ResidualOptions {
  TORCH_ARG(ResidualScale::Kind, kind) = ResidualScale::Kind::Constant;
  TORCH_ARG(double, alpha) = 1.0;  // branch weight α (γ of λ/γ; initial gain where learnable)
  TORCH_ARG(int64_t, width) = 1;   // d, of LayerScale's per-channel gain
  TORCH_ARG(double, skip) = 1.0;   // DeepNorm's weight a on the stream
};

// Y ← (I − τΠ) Y or (I − τC) Y (model/similarity_removal.h).
struct SimilarityRemovalOptions {
  TORCH_ARG(double, tau) = 1.0;
  TORCH_ARG(bool, causal) = true;
};

struct NormOptions {
  explicit NormOptions(int64_t width) : width_(width) {}
  TORCH_ARG(int64_t, width);
  TORCH_ARG(NormKind, kind) = NormKind::LayerNorm;
  TORCH_ARG(double, eps) = 1e-5;
};

struct BlockOptions {
  BlockOptions(AttentionOptions attention, MLPOptions mlp, NormOptions norm)
      : attention_(std::move(attention)), mlp_(std::move(mlp)), norm_(std::move(norm)) {}
  TORCH_ARG(AttentionOptions, attention);
  TORCH_ARG(MLPOptions, mlp);         // hidden = 0: an attention-only block
  TORCH_ARG(NormOptions, norm);
  TORCH_ARG(NormPlace, norm_place) = NormPlace::Post;
  TORCH_ARG(ResidualOptions, residual);
  TORCH_ARG(SimRemove, simremove) = SimRemove::None;  // which branches get similarity removal
  TORCH_ARG(SimilarityRemovalOptions, similarity_removal);
};

// The options of block `layer` (0-based) of the model `spec` describes.
AttentionOptions attention_options(const ModelSpec& spec, int layer);
MLPOptions mlp_options(const ModelSpec& spec);
NormOptions norm_options(const ModelSpec& spec);
BlockOptions block_options(const ModelSpec& spec, int layer);

}  // namespace sigprop
