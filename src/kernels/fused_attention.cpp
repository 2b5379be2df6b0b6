#include "kernels/fused_attention.h"
#include "kernels/autocast.h"

#include <dlfcn.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace sigprop {
namespace {

// The wheel's own BLAS through its Fortran interface (sgemm_/dgemm_), found in the process
// (libtorch_cpu exports MKL's on x86-64): the GEMM torch.mm ends in. ATen's C++ BLAS entry
// (at::native::cpublas::gemm) is not exported by the wheels. Without these symbols the fused
// kernel is not used (fused_attention_supported) and attention runs as plain tensor ops.
using FortranGemm = void (*)(const char*, const char*, const int*, const int*, const int*,
                             const void*, const void*, const int*, const void*, const int*,
                             const void*, void*, const int*);

FortranGemm fortran_gemm(bool dbl) {
  static const FortranGemm s = reinterpret_cast<FortranGemm>(::dlsym(RTLD_DEFAULT, "sgemm_"));
  static const FortranGemm d = reinterpret_cast<FortranGemm>(::dlsym(RTLD_DEFAULT, "dgemm_"));
  return dbl ? d : s;
}

// Row-major C (M × N, row stride ldc) = alpha · op(A) · op(B), op(A) M × K. A row-major matrix is
// the column-major transpose, so this is the column-major Cᵀ = op(B)ᵀ op(A)ᵀ.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc) {
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const int m = int(M), n = int(N), k = int(K), la = int(lda), lb = int(ldb), lc = int(ldc);
  const T beta = 0;
  fortran_gemm(std::is_same_v<T, double>)(&tb, &ta, &n, &m, &k, &alpha, B, &lb, A, &la, &beta, C, &lc);
}

// Where head h of sequence b lives in the packed qkv (row stride ld) and in y (row stride ldy).
struct Layout {
  int64_t batch, T, heads, d_k, d_v;
  int64_t ld() const { return heads * (2 * d_k + d_v); }
  int64_t ldy() const { return heads * d_v; }
  int64_t items() const { return batch * heads; }
  int64_t q(int64_t i) const { return (i / heads) * T * ld() + (i % heads) * d_k; }
  int64_t k(int64_t i) const { return q(i) + heads * d_k; }
  int64_t v(int64_t i) const { return (i / heads) * T * ld() + 2 * heads * d_k + (i % heads) * d_v; }
  int64_t y(int64_t i) const { return (i / heads) * T * ldy() + (i % heads) * d_v; }
  int64_t tt(int64_t i) const { return i * T * T; }  // item i of a (B, H, T, T) tensor
};

// Item i's A = diag(r) P + C, written to `scratch` when r or C is present; P itself otherwise.
template <typename T>
const T* attention_of(const T* P, const T* r, const T* C, int64_t n, std::vector<T>& scratch) {
  if (!r && !C) return P;
  scratch.resize(n * n);
  for (int64_t row = 0; row < n; ++row) {
    const T scale = r ? r[row] : T(1);
    for (int64_t col = 0; col < n; ++col)
      scratch[row * n + col] = scale * P[row * n + col] + (C ? C[row * n + col] : T(0));
  }
  return scratch.data();
}

template <typename T>
const T* optional_ptr(const torch::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Runs body(item) for every (sequence, head), the items split across LibTorch's threads. The BLAS
// calls inside then run single-threaded (ATen's parallel regions do not nest), one per core.
template <typename F>
void for_each_head(const Layout& L, const F& body) {
  at::parallel_for(0, L.items(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) body(i);
  });
}

class FusedSoftmaxAttention : public torch::autograd::Function<FusedSoftmaxAttention> {
 public:
  // Returns {y, P}; P = softmax(s q kᵀ + B) is returned (not differentiable) so that the caller
  // can form A for the probe without recomputing it.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                const torch::Tensor& qkv_in, int64_t heads,
                                                int64_t d_k, int64_t d_v, const SoftmaxForm& form) {
    const auto qkv = qkv_in.contiguous();
    const Layout L{qkv.size(0), qkv.size(1), heads, d_k, d_v};
    TORCH_CHECK(qkv.size(2) == L.ld(), "packed qkv has ", qkv.size(2), " features, expected ",
                L.ld());
    const auto opts = qkv.options();
    auto S = torch::empty({L.batch, heads, L.T, L.T}, opts);
    AT_DISPATCH_FLOATING_TYPES(qkv.scalar_type(), "fused_attention_logits", [&] {
      const scalar_t* x = qkv.data_ptr<scalar_t>();
      scalar_t* s = S.data_ptr<scalar_t>();
      for_each_head(L, [&](int64_t i) {  // S = s q kᵀ
        gemm<scalar_t>(false, true, L.T, L.T, d_k, scalar_t(form.scale), x + L.q(i), L.ld(),
                       x + L.k(i), L.ld(), s + L.tt(i), L.T);
      });
    });
    if (form.bias.defined()) S.add_(form.bias.to(opts));
    if (form.causal) S.masked_fill_(causal_mask(L.T, qkv.device()), -INFINITY);
    auto P = torch::softmax(S, -1);
    S.reset();

    const auto r = form.row_scale.defined() ? form.row_scale.to(opts).contiguous() : torch::Tensor();
    const auto C = form.offset.defined() ? form.offset.to(opts).contiguous() : torch::Tensor();
    auto y = torch::empty({L.batch, L.T, L.ldy()}, opts);
    AT_DISPATCH_FLOATING_TYPES(qkv.scalar_type(), "fused_attention_values", [&] {
      const scalar_t* x = qkv.data_ptr<scalar_t>();
      const scalar_t* p = P.data_ptr<scalar_t>();
      scalar_t* out = y.data_ptr<scalar_t>();
      for_each_head(L, [&](int64_t i) {  // y = A v
        thread_local std::vector<scalar_t> scratch;
        const scalar_t* A = attention_of(p + L.tt(i), optional_ptr<scalar_t>(r),
                                         optional_ptr<scalar_t>(C), L.T, scratch);
        gemm<scalar_t>(false, false, L.T, d_v, L.T, scalar_t(1), A, L.T, x + L.v(i), L.ld(),
                       out + L.y(i), L.ldy());
      });
    });

    ctx->save_for_backward({qkv, P, r, C});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["d_k"] = d_k;
    ctx->saved_data["d_v"] = d_v;
    ctx->saved_data["scale"] = form.scale;
    ctx->mark_non_differentiable({P});
    return {y, P};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &qkv = saved[0], &P = saved[1], &r = saved[2], &C = saved[3];
    const Layout L{qkv.size(0), qkv.size(1), ctx->saved_data["heads"].toInt(),
                   ctx->saved_data["d_k"].toInt(), ctx->saved_data["d_v"].toInt()};
    const double scale = ctx->saved_data["scale"].toDouble();
    const auto gy = grads[0].contiguous();
    auto gqkv = torch::empty_like(qkv);
    auto dP = torch::empty_like(P);
    AT_DISPATCH_FLOATING_TYPES(qkv.scalar_type(), "fused_attention_backward_values", [&] {
      const scalar_t* x = qkv.data_ptr<scalar_t>();
      const scalar_t* p = P.data_ptr<scalar_t>();
      const scalar_t* rows = optional_ptr<scalar_t>(r);
      const scalar_t* g = gy.data_ptr<scalar_t>();
      scalar_t* dp = dP.data_ptr<scalar_t>();
      scalar_t* gx = gqkv.data_ptr<scalar_t>();
      for_each_head(L, [&](int64_t i) {
        thread_local std::vector<scalar_t> scratch;
        const scalar_t* A =
            attention_of(p + L.tt(i), rows, optional_ptr<scalar_t>(C), L.T, scratch);
        gemm<scalar_t>(true, false, L.T, L.d_v, L.T, scalar_t(1), A, L.T, g + L.y(i), L.ldy(),
                       gx + L.v(i), L.ld());  // ∂v = Aᵀ ∂y
        scalar_t* dpi = dp + L.tt(i);
        gemm<scalar_t>(false, true, L.T, L.T, L.d_v, scalar_t(1), g + L.y(i), L.ldy(),
                       x + L.v(i), L.ld(), dpi, L.T);  // ∂A = ∂y vᵀ
        if (rows)  // ∂P = diag(r) ∂A
          for (int64_t row = 0; row < L.T; ++row)
            for (int64_t col = 0; col < L.T; ++col) dpi[row * L.T + col] *= rows[row];
      });
    });
    auto dS = at::_softmax_backward_data(dP, P, -1, P.scalar_type());
    dP.reset();
    AT_DISPATCH_FLOATING_TYPES(qkv.scalar_type(), "fused_attention_backward_logits", [&] {
      const scalar_t* x = qkv.data_ptr<scalar_t>();
      const scalar_t* ds = dS.data_ptr<scalar_t>();
      scalar_t* gx = gqkv.data_ptr<scalar_t>();
      for_each_head(L, [&](int64_t i) {
        gemm<scalar_t>(false, false, L.T, L.d_k, L.T, scalar_t(scale), ds + L.tt(i), L.T,
                       x + L.k(i), L.ld(), gx + L.q(i), L.ld());  // ∂q = s ∂S k
        gemm<scalar_t>(true, false, L.T, L.d_k, L.T, scalar_t(scale), ds + L.tt(i), L.T,
                       x + L.q(i), L.ld(), gx + L.k(i), L.ld());  // ∂k = s ∂Sᵀ q
      });
    });
    return {gqkv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor causal_mask(int64_t T, const torch::Device& device) {
  return torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(device)).triu(1);
}

bool fused_attention_supported(const torch::Tensor& qkv) {
  return !autocast_active() && qkv.device().is_cpu() &&
         (qkv.scalar_type() == torch::kFloat || qkv.scalar_type() == torch::kDouble) &&
         fortran_gemm(qkv.scalar_type() == torch::kDouble) != nullptr;
}

torch::Tensor fused_softmax_attention(const torch::Tensor& qkv, int64_t heads, int64_t d_k,
                                      int64_t d_v, const SoftmaxForm& form,
                                      torch::Tensor* attn_out) {
  const auto out = FusedSoftmaxAttention::apply(qkv, heads, d_k, d_v, form);
  if (attn_out) {
    auto A = out[1];
    if (form.row_scale.defined()) A = A * form.row_scale.to(A.options());
    if (form.offset.defined()) A = A + form.offset.to(A.options());
    *attn_out = A.detach();
  }
  return out[0];
}

torch::Tensor attend(const torch::Tensor& qkv, int64_t heads, int64_t d_k, int64_t d_v,
                     const std::optional<SoftmaxForm>& form,
                     const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& matrix,
                     torch::Tensor* attn_out) {
  if (form && fused_attention_supported(qkv))
    return fused_softmax_attention(qkv, heads, d_k, d_v, *form, attn_out);
  const int64_t B = qkv.size(0), T = qkv.size(1);
  const auto split = [&](const torch::Tensor& t, int64_t hd) {
    return t.view({B, T, heads, hd}).transpose(1, 2);  // (B, H, T, hd)
  };
  const auto parts = qkv.split_with_sizes({heads * d_k, heads * d_k, heads * d_v}, -1);
  const auto q = split(parts[0], d_k), k = split(parts[1], d_k), v = split(parts[2], d_v);
  const auto A = matrix(q, k);  // (B, H, T, T)
  if (attn_out) *attn_out = A.detach();
  return torch::matmul(A, v).transpose(1, 2).reshape({B, T, heads * d_v});
}

}  // namespace sigprop
