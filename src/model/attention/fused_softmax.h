// Multi-head attention for a softmax-form variant (model/attention.h: A = diag(r) softmax(s q kᵀ
// + B) + C) as one autograd op with its own backward, on the packed projections [q | k | v].
//
// Per (sequence, head) the forward is two BLAS products around one vectorised softmax:
//   P = softmax(s q kᵀ + B),  A = diag(r) P + C,  y = A v;
// and the backward, with ∂y the incoming gradient:
//   ∂v = Aᵀ ∂y,  ∂P = diag(r) ∂y vᵀ,  ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P)) (softmax),
//   ∂q = s ∂S k,  ∂k = s ∂Sᵀ q.
// The heads run in parallel, each product on strided views of the packed tensor: no per-head
// copies, no transposes, one saved T × T matrix (P) per head. Against the chain of tensor ops it
// replaces (q kᵀ, mask, softmax, the shaping terms, A v, the head merge, each with its backward),
// this removes the copies that make strided heads contiguous and the serial loop of small GEMMs
// inside batched matmul.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "model/attention.h"

namespace sigprop {

// Whether fused_softmax_attention covers `qkv`: a CPU float32/float64 tensor in a build with BLAS.
bool fused_attention_supported(const torch::Tensor& qkv);

// qkv: (B, T, H·d_k + H·d_k + H·d_v), the three projections side by side.
// Returns concat_h(A_h v_h): (B, T, H·d_v). When `attn_out` is given it receives A, detached:
// (B, H, T, T). Differentiable in qkv (not twice).
torch::Tensor fused_softmax_attention(const torch::Tensor& qkv, int64_t heads, int64_t d_k,
                                      int64_t d_v, const SoftmaxForm& form,
                                      torch::Tensor* attn_out = nullptr);

}  // namespace sigprop
