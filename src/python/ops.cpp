// The fast kernels as PyTorch operators, torch.ops.sigprop.*: callable from any Python code,
// differentiable (their backward is the kernels' own, kernels/), on every device: where a fused
// kernel covers only CPU float32/float64 the op takes the plain ATen path.
//   affine(x, weight, bias=None)                          x Wᵀ + b      (kernels/affine.h)
//   softmax_attention(qkv, heads, d_k, d_v, scale, causal, bias=None, row_scale=None, offset=None)
//       concat_h(A_h v_h), A = diag(r) softmax(s q kᵀ + B) + C   (kernels/fused_attention.h)
#include <torch/library.h>

#include "kernels/affine.h"
#include "kernels/fused_attention.h"
#include "model/attention/attention_matrix.h"

namespace {

torch::Tensor affine_op(const torch::Tensor& x, const torch::Tensor& weight,
                        const std::optional<torch::Tensor>& bias) {
  return sigprop::affine(x, weight, bias.value_or(torch::Tensor()));
}

torch::Tensor softmax_attention_op(const torch::Tensor& qkv, int64_t heads, int64_t d_k, int64_t d_v,
                                   double scale, bool causal, const std::optional<torch::Tensor>& bias,
                                   const std::optional<torch::Tensor>& row_scale,
                                   const std::optional<torch::Tensor>& offset) {
  TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) == heads * (2 * d_k + d_v),
              "sigprop::softmax_attention: qkv must be (B, T, heads*(2*d_k + d_v)) = (B, T, ",
              heads * (2 * d_k + d_v), "), got ", qkv.sizes());
  sigprop::SoftmaxForm form;
  form.scale = scale;
  form.causal = causal;
  form.bias = bias.value_or(torch::Tensor());
  form.row_scale = row_scale.value_or(torch::Tensor());
  form.offset = offset.value_or(torch::Tensor());
  return sigprop::attend(qkv, heads, d_k, d_v, form, [&](const torch::Tensor& q, const torch::Tensor& k) {
    return sigprop::softmax_form_matrix(form, q, k);
  });
}

}  // namespace

TORCH_LIBRARY(sigprop, m) {
  m.def("affine(Tensor x, Tensor weight, Tensor? bias=None) -> Tensor");
  m.def("softmax_attention(Tensor qkv, int heads, int d_k, int d_v, float scale, bool causal, "
        "Tensor? bias=None, Tensor? row_scale=None, Tensor? offset=None) -> Tensor");
}

// Composite: autograd records the kernels' own autograd functions inside.
TORCH_LIBRARY_IMPL(sigprop, CompositeImplicitAutograd, m) {
  m.impl("affine", affine_op);
  m.impl("softmax_attention", softmax_attention_op);
}
