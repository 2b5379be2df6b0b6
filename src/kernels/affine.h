// y = x Wᵀ + b over the last dimension, as torch::linear, with a backward that computes dx = dy W
// and dW = dyᵀ x at once, one core each. For the products of these models (hundreds of rows by
// 128-512 columns) two single-threaded GEMMs side by side take ~20 % less time than the same two
// split across the cores by BLAS one after the other (docs/performance.md). CPU float32 and float64
// (float64 for gradcheck); other tensors take torch::linear.
#pragma once

#include <vector>

#include <torch/nn/modules/linear.h>
#include <torch/types.h>

namespace sigprop {

// x: (..., in), weight: (out, in), bias: (out) or undefined -> (..., out).
torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = {});

// x [W_1 | W_2 | ...]ᵀ: several projections of one input as one wider product, which runs nearer
// the BLAS peak than narrow ones; the weights stay separate parameters. -> (..., Σ out_i).
torch::Tensor affine_packed(const torch::Tensor& x, const std::vector<torch::Tensor>& weights);

// torch::nn::Linear (same parameters, names and init) whose forward is affine().
struct LinearImpl : torch::nn::LinearImpl {
  using torch::nn::LinearImpl::LinearImpl;
  torch::Tensor forward(const torch::Tensor& x) { return affine(x, weight, bias); }
};
TORCH_MODULE(Linear);

}  // namespace sigprop
