// The whole model, in the order of a forward pass: input (tokens, patches or raw T x d) plus
// positions -> L blocks -> final norm (pre-norm only) -> head (language model, classifier, or
// none for raw studies). Built from a ModelSpec; initialised by model/init.h.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/block.h"

namespace sigprop {

// What a traced forward pass records for the probe.
struct ForwardTrace {
  std::vector<torch::Tensor> hidden;  // L+1 tensors (B, T, d): input to block 1, outputs of 1..L
  std::vector<torch::Tensor> attn;    // L tensors (B, H, T, T), detached
};

struct TransformerImpl : torch::nn::Module {
  explicit TransformerImpl(const ModelSpec& spec);
  // tokens: (B, T) int64 | patches: (B, C, H, W) | raw: (B, T, d).
  // Returns logits (B, T, V) | class logits (B, classes) | hidden states (B, T, d).
  torch::Tensor forward(const torch::Tensor& input, ForwardTrace* trace = nullptr);
  torch::Tensor embed(const torch::Tensor& input);  // (B, T, d), positions added

  ModelSpec spec;
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::Linear patch_embed{nullptr};
  torch::Tensor sinusoid;  // (max_seq, d) buffer for Positional::Sinusoidal
  torch::nn::ModuleList blocks;
  torch::nn::AnyModule ln_f;
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(Transformer);

// The training loss for the spec's input kind: next-token cross-entropy (tokens), class
// cross-entropy (patches), or 0.5 * mean squared error to a target of the output's shape (raw).
torch::Tensor training_loss(const ModelSpec& spec, const torch::Tensor& output,
                            const torch::Tensor& target);

// Throws ConfigError naming the key when `spec` cannot be built: ModelSpec::validate(), an
// attention variant the registry lacks, or a TAT target out of reach of the model's depth.
void check_buildable(const ModelSpec& spec);

// Images (B, C, H, W) as (B, N, C·p·p) flattened p × p patches, row by row: what the patch
// embedding reads.
torch::Tensor image_patches(const torch::Tensor& images, int64_t p);

// Fixed sinusoidal positions (Vaswani et al. 2017): PE[t, 2i] = sin(t / 10000^(2i/d)), cos odd.
torch::Tensor sinusoidal_positions(int64_t max_seq, int64_t width);

}  // namespace sigprop
