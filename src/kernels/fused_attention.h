// Multi-head attention for a softmax-form variant (A = diag(r) softmax(s q kᵀ
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
#include <functional>
#include <optional>

#include <torch/types.h>


namespace sigprop {

// A variant that is an affine function of one softmax with constant coefficients,
//   A = diag(r) · softmax(s · q kᵀ + B) + C   (B, r, C independent of q and k),
// says so through softmax_form(): self-attention then runs it through one fused kernel with its
// own backward (kernels/fused_attention.h) instead of a chain of small ops.
struct SoftmaxForm {
  double scale = 1.0;       // s
  bool causal = false;      // future positions at -inf before the softmax
  torch::Tensor bias;       // B: (T, T), or undefined for none
  torch::Tensor row_scale;  // r: (T, 1), or undefined for none
  torch::Tensor offset;     // C: (T, T), or undefined for none
};


// Boolean (T, T) mask, true strictly above the diagonal (future positions).
torch::Tensor causal_mask(int64_t T, const torch::Device& device);

// Whether fused_softmax_attention covers `qkv`: a CPU float32/float64 tensor in a build with BLAS.
bool fused_attention_supported(const torch::Tensor& qkv);

// qkv: (B, T, H·d_k + H·d_k + H·d_v), the three projections side by side.
// Returns concat_h(A_h v_h): (B, T, H·d_v). When `attn_out` is given it receives A, detached:
// (B, H, T, T). Differentiable in qkv (not twice).
torch::Tensor fused_softmax_attention(const torch::Tensor& qkv, int64_t heads, int64_t d_k,
                                      int64_t d_v, const SoftmaxForm& form,
                                      torch::Tensor* attn_out = nullptr);

// concat_h(A_h v_h) for the packed projections qkv = [q | k | v] (B, T, H·d_k + H·d_k + H·d_v):
// through fused_softmax_attention when the variant has a softmax `form` and the kernel covers
// qkv, else by plain tensor ops with A = matrix(q, k) on (B, H, T, d) heads. -> (B, T, H·d_v).
// `attn_out`, when given, receives A, detached: (B, H, T, T).
torch::Tensor attend(const torch::Tensor& qkv, int64_t heads, int64_t d_k, int64_t d_v,
                     const std::optional<SoftmaxForm>& form,
                     const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& matrix,
                     torch::Tensor* attn_out = nullptr);

}  // namespace sigprop
