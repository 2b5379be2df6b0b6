// ModelSpec: everything that defines a transformer at initialisation.
// Read from TOML (config/spec_io.h), overridden from the command line, validated in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sigprop {

// Sandwich is pre-norm plus a second norm on each branch output before the residual add
// (CogView, Ding et al. 2021): X ← X + α·N'(f(N(X))).
enum class NormPlace { Pre, Post, None, Sandwich };
enum class NormKind { LayerNorm, RMSNorm };
enum class Activation { ReLU, GELU, LeakyReLU, TatLeakyReLU, ShapedReLU };
enum class Positional { Learned, Sinusoidal, None };
enum class InputKind { Tokens, Patches, Raw };
enum class InitKind { Normal, Xavier, Orthogonal, LeCun };
// Similarity removal (paper 000): which branch outputs get Y <- (I - τΠ) Y.
enum class SimRemove { None, Attention, MLP, Both };

// Residual branch scale α in X + α·f(X). `None` drops the skip: X ← f(X). `LambdaGamma` is the
// shaped transformer's λX + γ·f(X) with λ² + γ² = 1 (paper 004), γ = ModelSpec::residual_gamma.
// `InvDepth` is α = 1/L (CompleteP); `LayerScale` a learnable per-channel α, small at init (CaiT);
// `ReZero` a learnable scalar α, 0 at init; `DeepNorm` DeepNet's post-norm LN(a·X + f(X)),
// a = (2L)^{1/4}, with β = (8L)^{-1/4} on the block's matrices but W_Q, W_K at init.
struct ResidualScale {
  enum class Kind { Constant, InvSqrtDepth, None, LambdaGamma, InvDepth, LayerScale, ReZero, DeepNorm }
      kind = Kind::Constant;
  double value = 1.0;  // used when kind == Constant

  // The branch's factor (its initial value where it is learnable); DeepNorm's branch is
  // unscaled, its skip weighted by deepnorm_alpha. LayerScale's is ModelSpec::layerscale_gain().
  double alpha(int depth) const;
  std::string to_string() const;  // round-trips through parse_residual_scale
};

// DeepNet's constants for N = depth blocks (Wang et al. 2022, encoder- or decoder-only):
// a = (2N)^{1/4} on the skip, β = (8N)^{-1/4} on the initial W_V, W_O and MLP matrices.
double deepnorm_alpha(int depth);
double deepnorm_beta(int depth);

// The attention variants a spec may name, with one line on each and its paper. The names are part
// of the config's vocabulary, like the enums above; model/attention/registry.cpp builds each one
// (its factories are keyed by these names, and a test checks that none is missing).
struct AttentionVariantDoc {
  std::string name;
  std::string summary;
};
const std::vector<AttentionVariantDoc>& attention_variant_docs();
std::vector<std::string> attention_variant_names();
bool is_attention_variant(const std::string& name);

struct ModelSpec {
  std::string name = "custom";  // preset name or a user label
  std::string paper;            // the paper a preset comes from, "" for none

  int depth = 4;        // L, number of blocks
  int width = 128;      // d
  int heads = 4;
  int d_k = 0;          // per-head key/query width; 0 = width / heads
  int mlp_width = 512;  // 0 = attention-only blocks
  Activation activation = Activation::ReLU;
  double leaky_slope = 0.01;  // for Activation::LeakyReLU
  double tat_eta = 0.9;       // TAT target C^N(0) = η over the model's N nonlinearities (001)
  double shaped_c_plus = 0.0;    // shaped ReLU slopes s± = 1 + c±/√n (004) [guess: defaults]
  double shaped_c_minus = -1.0;

  NormPlace norm = NormPlace::Post;
  NormKind norm_kind = NormKind::LayerNorm;
  ResidualScale residual;
  double residual_gamma = 0.35355339059327373;  // γ of LambdaGamma; 1/√8 as in docs/methods.md's reference
  double layerscale_init = 0.0;  // LayerScale's initial gain; 0 = CaiT's by depth (layerscale_gain)
  bool qk_norm = false;  // RMSNorm of each head's q and k, learnable gains (Dehghani et al. 2023)
  SimRemove simremove = SimRemove::None;  // paper 000 [placement: guess, so a switch]
  double simremove_tau = 1.0;

  std::string attention = "softmax";  // name in the attention registry (model/attention/attention_matrix.h)
  std::string attention_base = "softmax";  // the A that gap_removed and value_skipinit modify
  double shaped_tau0 = 1.0;                // shaped attention temperature τ₀ (004)
  double espa_gamma = 0.005;               // E-SPA γ_L (001)
  double uspa_rho = 0.8;                   // U-SPA ρ_L (001) [guess]
  bool causal = true;
  Positional positional = Positional::Learned;

  InputKind input = InputKind::Tokens;
  int vocab_size = 128;  // tokens: embedding rows and output classes
  int max_seq = 256;     // longest sequence the positional table covers
  int patch_size = 7;    // patches: side of a square patch
  int channels = 1;      // patches: image channels
  int num_classes = 10;  // patches: classifier outputs

  InitKind init = InitKind::Xavier;
  double init_std = 0.02;    // for InitKind::Normal
  bool zero_queries = false;  // W_Q = 0 at init: uniform attention (papers 001, 002)

  int key_width() const { return d_k > 0 ? d_k : width / heads; }
  // LayerScale's initial gain: layerscale_init, or CaiT's by depth (0.1 up to 18 blocks, 1e-5 up
  // to 24, 1e-6 deeper; Touvron et al. 2021) when it is 0.
  double layerscale_gain() const;
  // N of TAT: nonlinearities on a path through the model, one per block with an MLP.
  int tat_nonlinearities() const { return mlp_width > 0 ? depth : 0; }
  // Throws ConfigError naming the first impossible value. What only the model can judge (a TAT
  // target out of reach of this depth) is checked by check_buildable (model/transformer.h).
  void validate() const;
};

}  // namespace sigprop
