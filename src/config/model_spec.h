// ModelSpec: everything that defines a transformer at initialisation.
// Read from TOML (config/spec_io.h), overridden from the command line, validated in one place.
#pragma once

#include <cstdint>
#include <string>

namespace sigprop {

enum class NormPlace { Pre, Post, None };
enum class NormKind { LayerNorm, RMSNorm };
enum class Activation { ReLU, GELU, LeakyReLU };
enum class Positional { Learned, Sinusoidal, None };
enum class InputKind { Tokens, Patches, Raw };
enum class InitKind { Normal, Xavier, Orthogonal };

// Residual branch scale α in X + α·f(X). `None` drops the skip: X ← f(X).
struct ResidualScale {
  enum class Kind { Constant, InvSqrtDepth, None } kind = Kind::Constant;
  double value = 1.0;  // used when kind == Constant

  double alpha(int depth) const;  // the factor applied to each branch
  std::string to_string() const;  // round-trips through parse_residual_scale
};

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

  NormPlace norm = NormPlace::Post;
  NormKind norm_kind = NormKind::LayerNorm;
  ResidualScale residual;

  std::string attention = "softmax";  // name in the attention registry (model/attention.h)
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
  // Throws ConfigError naming the first impossible value.
  void validate() const;
};

}  // namespace sigprop
