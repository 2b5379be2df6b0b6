#include "model/mlp.h"

#include <cmath>

#include "model/affine.h"
#include "theory/tat.h"

namespace sigprop {

MLPImpl::MLPImpl(const ModelSpec& spec) {
  fc1 = register_module("fc1", torch::nn::Linear(spec.width, spec.mlp_width));
  fc2 = register_module("fc2", torch::nn::Linear(spec.mlp_width, spec.width));
  switch (spec.activation) {
    case Activation::ReLU: break;
    case Activation::GELU: piecewise_linear_ = false; break;
    case Activation::LeakyReLU: s_neg_ = spec.leaky_slope; break;
    case Activation::TatLeakyReLU: {
      // He et al. 2023 (001) after Zhang et al. 2022: φ(x) = √(2/(1+α²)) max(x, αx), α such that
      // a chain of the model's N nonlinearities maps correlation 0 to η.
      s_neg_ = tat_solve_slope(spec.tat_eta, spec.tat_nonlinearities());
      gain_ = tat_leaky_relu_gain(s_neg_);
      break;
    }
    case Activation::ShapedReLU: {
      // Noci et al. 2023 (004): σ_s(x) = s+ max(x,0) + s- min(x,0), s± = 1 + c±/√n, scaled by
      // √c with c = 2/(s+² + s-²) so that E[φ(z)²] = 1 for z ~ N(0, 1).
      const double root_n = std::sqrt(double(spec.width));
      s_pos_ = 1.0 + spec.shaped_c_plus / root_n;
      s_neg_ = 1.0 + spec.shaped_c_minus / root_n;
      gain_ = std::sqrt(2.0 / (s_pos_ * s_pos_ + s_neg_ * s_neg_));
      break;
    }
  }
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return affine(activate(affine(x, fc1->weight, fc1->bias)), fc2->weight, fc2->bias);
}

torch::Tensor MLPImpl::activate(const torch::Tensor& h) const {
  if (!piecewise_linear_) return torch::gelu(h);
  if (s_pos_ == 1.0 && s_neg_ == 0.0 && gain_ == 1.0) return torch::relu(h);
  // gain (s+ max(h,0) + s- min(h,0)) = gain s+ leaky_relu(h, s-/s+) for s+ > 0: one fused kernel
  // and its own backward instead of five; leaky_relu's backward keeps its input, not its output,
  // so the scale can be applied in place.
  if (s_pos_ > 0) return torch::leaky_relu(h, s_neg_ / s_pos_).mul_(gain_ * s_pos_);
  return gain_ * (s_pos_ * torch::relu(h) - s_neg_ * torch::relu(-h));
}

}  // namespace sigprop
