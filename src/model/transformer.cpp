#include "model/transformer.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "model/activation/activation.h"
#include "kernels/affine.h"
#include "model/init.h"
#include "model/norm/norm.h"

namespace sigprop {

void check_buildable(const ModelSpec& spec) {
  spec.validate();
  if (!is_attention_variant(spec.attention))
    throw ConfigError("model.attention = " + spec.attention + " is not allowed: " +
                      fmt::format("{}", fmt::join(attention_variant_names(), " | ")));
  // The one constraint only the model can judge: TAT's η must be reachable with N nonlinearities.
  if (spec.activation == Activation::TatLeakyReLU) make_activation(mlp_options(spec).activation());
}

torch::Tensor sinusoidal_positions(int64_t max_seq, int64_t width) {
  auto pos = torch::arange(max_seq, torch::kDouble).unsqueeze(1);              // (S, 1)
  auto i = torch::arange(0, width, 2, torch::kDouble);                         // (ceil(d/2))
  auto angle = pos * torch::exp(-std::log(10000.0) * i / static_cast<double>(width));
  auto pe = torch::zeros({max_seq, width}, torch::kDouble);
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, width, 2)}, torch::sin(angle));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, width, 2)},
                torch::cos(angle).narrow(1, 0, width / 2));
  return pe.to(torch::kFloat);
}

TransformerImpl::TransformerImpl(const ModelSpec& s) : spec(s) {
  check_buildable(spec);
  switch (spec.input) {
    case InputKind::Tokens:
      wte = register_module("wte", torch::nn::Embedding(spec.vocab_size, spec.width));
      head = register_module(
          "head", torch::nn::Linear(torch::nn::LinearOptions(spec.width, spec.vocab_size).bias(false)));
      break;
    case InputKind::Patches: {
      const int64_t patch_dim = int64_t{spec.channels} * spec.patch_size * spec.patch_size;
      patch_embed = register_module("patch_embed", torch::nn::Linear(patch_dim, spec.width));
      head = register_module("head", torch::nn::Linear(spec.width, spec.num_classes));
      break;
    }
    case InputKind::Raw: break;
  }
  if (spec.positional == Positional::Learned)
    wpe = register_module("wpe", torch::nn::Embedding(spec.max_seq, spec.width));
  if (spec.positional == Positional::Sinusoidal)
    sinusoid = register_buffer("sinusoid", sinusoidal_positions(spec.max_seq, spec.width));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < spec.depth; ++l) blocks->push_back(Block(block_options(spec, l)));
  if (spec.norm == NormPlace::Pre || spec.norm == NormPlace::Sandwich) {  // a pre-norm stream
    ln_f = make_norm(norm_options(spec));
    register_module("ln_f", ln_f.ptr());
  }
  initialise(*this);
}

namespace {

// "float32 (2, 3, 4)": what an input was, for errors.
std::string describe(const torch::Tensor& t) {
  std::string shape;
  for (auto s : t.sizes()) shape += (shape.empty() ? "" : ", ") + std::to_string(s);
  return std::string(c10::toString(t.scalar_type())) + " (" + shape + ")";
}

}  // namespace

torch::Tensor image_patches(const torch::Tensor& images, int64_t p) {
  auto patches = images.unfold(2, p, p).unfold(3, p, p);  // (B, C, H/p, W/p, p, p)
  return patches.permute({0, 2, 3, 1, 4, 5}).reshape({images.size(0), -1, images.size(1) * p * p});
}

torch::Tensor TransformerImpl::embed(const torch::Tensor& input) {
  torch::Tensor x;
  switch (spec.input) {
    case InputKind::Tokens:
      if (input.dim() != 2 || !c10::isIntegralType(input.scalar_type(), false))
        throw ConfigError("a model with model.input = \"tokens\" takes (B, T) integer token ids; got " +
                          describe(input));
      x = wte(input);  // (B, T, d)
      break;
    case InputKind::Patches: {
      const int64_t p = spec.patch_size;
      if (!input.is_floating_point() || input.dim() != 4 || input.size(1) != spec.channels || input.size(2) % p || input.size(3) % p)
        throw ConfigError("image input must be floating-point (B, model.channels = " +
                          std::to_string(spec.channels) + ", H, W) with H and W multiples of "
                          "model.patch_size = " + std::to_string(p) + "; got " + describe(input));
      x = patch_embed(image_patches(input, p));  // (B, N, d)
      break;
    }
    case InputKind::Raw:
      if (input.dim() != 3 || input.size(2) != spec.width || !input.is_floating_point())
        throw ConfigError("a model with model.input = \"raw\" takes (B, T, model.width = " +
                          std::to_string(spec.width) + ") floating-point inputs; got " + describe(input));
      x = input;
      break;
  }
  const int64_t T = x.size(1);
  if (spec.positional != Positional::None && T > spec.max_seq)
    throw ConfigError("sequence length " + std::to_string(T) + " exceeds model.max_seq = " +
                      std::to_string(spec.max_seq));
  if (spec.positional == Positional::Learned)
    x = x + wpe(torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(x.device())));
  if (spec.positional == Positional::Sinusoidal) x = x + sinusoid.narrow(0, 0, T);
  return x;
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& input, ForwardTrace* trace) {
  auto x = embed(input);
  if (trace) {
    trace->hidden = {x};
    trace->attn.clear();
  }
  for (const auto& m : *blocks) {
    torch::Tensor A;
    x = m->as<BlockImpl>()->forward(x, trace ? &A : nullptr);
    if (trace) {
      trace->hidden.push_back(x);
      trace->attn.push_back(A);
    }
  }
  if (!ln_f.is_empty()) x = ln_f.forward(x);
  switch (spec.input) {
    case InputKind::Tokens: return affine(x, head->weight);   // (B, T, V)
    case InputKind::Patches: return head(x.mean(1));          // (B, classes), mean pooling
    case InputKind::Raw: return x;                            // (B, T, d)
  }
  return x;
}

torch::Tensor training_loss(const ModelSpec& spec, const torch::Tensor& output,
                            const torch::Tensor& target) {
  switch (spec.input) {
    case InputKind::Tokens:
      return torch::nn::functional::cross_entropy(output.reshape({-1, output.size(-1)}),
                                                  target.reshape({-1}));
    case InputKind::Patches: return torch::nn::functional::cross_entropy(output, target);
    case InputKind::Raw: return 0.5 * (output - target).pow(2).mean();
  }
  return output.sum();
}

}  // namespace sigprop
