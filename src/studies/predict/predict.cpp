#include "studies/predict/predict.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/error.h"
#include "model/activation/activation.h"
#include "model/attention/attention_matrix.h"
#include "model/attention/qk_norm.h"
#include "model/transformer.h"

namespace sigprop {
namespace {

using torch::Tensor;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Per-unit second-moment gains of y = W x under the spec's init, W of shape (out, in):
// forward E[y_a y'_a] = fwd · E[x·x']/in, backward E[(Wᵀg)_b (Wᵀg')_b] = bwd · E[g·g']/out.
struct Gains {
  double fwd = 1, bwd = 1;
};
Gains weight_gains(const ModelSpec& spec, int64_t in, int64_t out) {
  const double i = double(in), o = double(out);
  switch (spec.init) {
    case InitKind::Normal: return {i * spec.init_std * spec.init_std, o * spec.init_std * spec.init_std};
    case InitKind::Xavier: return {2 * i / (i + o), 2 * o / (i + o)};
    case InitKind::LeCun: return {1, o / i};
    // DKS's scaled orthogonal: every output unit keeps the input's per-unit second moment.
    case InitKind::Orthogonal: return {1, o / i};
  }
  return {};
}

Tensor diag_of(const Tensor& S) { return S.diagonal(0, -2, -1); }

// Norm at infinite width: x / √(mean(x²) + ε) (LayerNorm's centring removes a feature mean that
// vanishes at initialisation: every stream is a zero-mean random projection).
Tensor norm_scale(const Tensor& S, double eps) {
  const auto r = (diag_of(S) + eps).rsqrt();  // (S, T)
  return r.unsqueeze(-1) * r.unsqueeze(-2);
}

// Σ's correlation matrix, with 0 where a token has no energy.
Tensor correlation(const Tensor& S) {
  const auto d = diag_of(S).clamp_min(1e-300).rsqrt();
  return (S * d.unsqueeze(-1) * d.unsqueeze(-2)).clamp(-1, 1);
}

// Π: uniform (or uniform causal) averaging over tokens, (T, T).
Tensor averaging(int64_t T, bool causal) { return uniform_attention_matrix(T, causal, kF64); }

// E[φ(u)φ(v)] and E[φ'(u)φ'(v)] for (u, v) ~ N(0, [[Σ_ii, Σ_ij], [Σ_ij, Σ_jj]]).
class ActivationKernel {
 public:
  ActivationKernel(const ActivationOptions& options, int nodes) : phi_(make_activation(options)) {
    // φ = a·h + b·|h| with a = g(s₊ + s₋)/2, b = g(s₊ − s₋)/2; ReLU is its own module (g = s₊ = 1).
    if (options.kind() == Activation::ReLU) {
      a_ = b_ = 0.5, piecewise_ = true;
    } else if (auto* pl = dynamic_cast<PiecewiseLinearImpl*>(phi_.get())) {
      a_ = pl->gain * (pl->s_pos + pl->s_neg) / 2;
      b_ = pl->gain * (pl->s_pos - pl->s_neg) / 2;
      piecewise_ = true;
    } else {
      // Probabilists' Gauss–Hermite nodes and weights (Golub–Welsch): the Jacobi matrix of He_n.
      const auto k = torch::arange(1, nodes, kF64).sqrt();
      const auto J = torch::diag(k, 1) + torch::diag(k, -1);
      auto [values, vectors] = torch::linalg_eigh(J);
      z_ = values;
      w_ = vectors.select(0, 0).pow(2);
    }
  }

  // Piecewise linear: E[φ(u)φ(v)] = a² Σ_ij + b² √(Σ_ii Σ_jj) (2/π)(√(1−c²) + c·asin c),
  // E[φ'(u)φ'(v)] = a² + b² (2/π) asin c (the arc-cosine kernels, Cho & Saul 2009).
  Tensor forward(const Tensor& S) const {
    if (!piecewise_) return quadrature(S, false);
    const auto c = correlation(S);
    const auto scale = (diag_of(S).unsqueeze(-1) * diag_of(S).unsqueeze(-2)).clamp_min(0).sqrt();
    return a_ * a_ * S + b_ * b_ * scale * (2 / M_PI) * ((1 - c * c).clamp_min(0).sqrt() + c * c.asin());
  }
  Tensor derivative(const Tensor& S) const {
    if (!piecewise_) return quadrature(S, true);
    return a_ * a_ + b_ * b_ * (2 / M_PI) * correlation(S).asin();
  }

 private:
  Tensor apply(const Tensor& h, bool derivative) const {
    if (!derivative) return phi_->forward(h);
    const double e = 1e-5;  // central difference, float64: error ~e² on smooth φ
    return (phi_->forward(h + e) - phi_->forward(h - e)) / (2 * e);
  }
  // u = σ_i z₁, v = σ_j (c z₁ + √(1−c²) z₂), summed over the node grid, a few sequences at a time.
  Tensor quadrature(const Tensor& S, bool derivative) const {
    const auto sd = diag_of(S).clamp_min(0).sqrt();  // (S, T)
    const auto c = correlation(S).unsqueeze(-1).unsqueeze(-1);  // (S, T, T, 1, 1)
    const int64_t n = z_.size(0);
    const auto z1 = z_.view({1, 1, 1, n, 1}), z2 = z_.view({1, 1, 1, 1, n});
    const auto w = (w_.view({n, 1}) * w_.view({1, n}));
    std::vector<Tensor> out;
    const int64_t chunk = std::max<int64_t>(1, (int64_t(8) << 20) / (S.size(-1) * S.size(-1) * n * n));
    for (int64_t s0 = 0; s0 < S.size(0); s0 += chunk) {
      const int64_t len = std::min(chunk, S.size(0) - s0);
      const auto si = sd.narrow(0, s0, len).view({len, -1, 1, 1, 1});
      const auto sj = sd.narrow(0, s0, len).view({len, 1, -1, 1, 1});
      const auto cc = c.narrow(0, s0, len);
      const auto fu = apply(si * z1, derivative);
      const auto fv = apply(sj * (cc * z1 + (1 - cc * cc).clamp_min(0).sqrt() * z2), derivative);
      out.push_back((fu * fv * w).sum({-2, -1}));
    }
    return torch::cat(out);
  }

  mutable Nonlinearity phi_;  // forward() is not const in LibTorch
  bool piecewise_ = false;
  double a_ = 0, b_ = 0;
  Tensor z_, w_;
};

// One block's attention at initialisation: the variant's module, and the law of its logits.
struct AttentionLaw {
  AttentionMatrix matrix{nullptr};
  AttentionMatrixImpl* base = nullptr;  // the matrix B of A = αI + βB, or the matrix itself
  double alpha = 0, beta = 1;           // A = αI + βB (identity_mix), else 0, 1
  std::optional<SoftmaxForm> form;      // B = diag(r) softmax(s q kᵀ + bias) + C, where it is one
};

AttentionLaw attention_law(const ModelSpec& spec, int layer, int64_t T) {
  AttentionLaw law;
  law.matrix = make_attention_matrix(attention_options(spec, layer));
  law.base = law.matrix.get();
  if (const auto mix = law.matrix->identity_mix()) {
    law.base = mix->base;
    law.alpha = mix->alpha.item<double>();
    law.beta = mix->beta.item<double>();
  }
  law.form = law.base->softmax_form(T, kF64);
  return law;
}

// Draws of one block's attention on inputs of kernel Sn (S, T, T).
struct AttentionDraws {
  Tensor A;      // (S, H, T, T): each head's matrix applied to its values
  Tensor P, c;   // softmax part and its row factor β·r (S, H, T, 1): A's Jacobian in the logits
  double scale = 1;  // the logit scale s
  bool fixed = false;  // A does not depend on the draw (zero logits, an input-independent matrix,
                       // β = 0): no Monte Carlo error
};

// L with L Lᵀ = Σ: Cholesky (fast on many small matrices), and where Σ is singular up to rounding
// (collapsed tokens), U √max(Λ, 0) from its eigendecomposition.
Tensor root(const Tensor& S) {
  auto [L, info] = torch::linalg_cholesky_ex(S);
  const auto failed = info.ne(0);
  if (!failed.any().item<bool>()) return L;
  auto [values, vectors] = torch::linalg_eigh(S.index({failed}));
  L.index_put_({failed}, vectors * values.clamp_min(0).sqrt().unsqueeze(-2));
  return L;
}

Tensor rms_normalise(const Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, true) + QKNormImpl::kEps);
}

// The H heads of one block on each path: Sn (S, T, T) holds `paths` consecutive paths per
// sequence (or map cell).
AttentionDraws draw_attention(const ModelSpec& spec, const AttentionLaw& law, const Tensor& Sn, const Gains& gq,
                              const Gains& gk, const Tensor& logit_mult, int64_t paths, bool common,
                              torch::Generator& gen) {
  const int64_t S = Sn.size(0), T = Sn.size(-1), dk = spec.key_width(), H = spec.heads;
  AttentionDraws out;
  Tensor B;
  if (law.form) {
    // q = √g_Q L Z_q, k = √g_K L Z_k per head. A map's cells share their noise Z, path by path
    // (common random numbers): the map is smooth in its axes.
    const auto L = root(Sn).view({S / paths, paths, 1, T, T});
    const int64_t Zs = common ? 1 : S / paths;
    const auto draw = [&](double g) {
      return (std::sqrt(g) * L.matmul(torch::randn({Zs, paths, H, T, dk}, gen, kF64))).view({S, H, T, dk});
    };
    // A map's logit multiplier scales W_Q (as its probed check does): q, not the logit scale s
    // that ∂logits/∂W_Q carries.
    auto q = draw(gq.fwd) * logit_mult.view({S, 1, 1, 1}), k = draw(gk.fwd);
    if (spec.qk_norm) q = rms_normalise(q), k = rms_normalise(k);
    out.scale = law.form->scale;
    auto logits = out.scale * q.matmul(k.transpose(-2, -1));
    if (law.form->bias.defined()) logits = logits + law.form->bias;
    if (law.form->causal)
      logits = logits.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY);
    out.P = torch::softmax(logits, -1);
    const auto r = law.form->row_scale.defined() ? law.form->row_scale.view({1, 1, T, 1})
                                                 : torch::ones({1, 1, T, 1}, kF64);
    out.c = law.beta * r.expand({S, H, T, 1});
    B = r * out.P;
    if (law.form->offset.defined()) B = B + law.form->offset;
    out.fixed = gq.fwd == 0 || logit_mult.eq(0).all().item<bool>();  // zero logits: no noise
  } else {
    // An A that does not read q and k (uniform, random Markov): the module's own draw, fixed when
    // a second draw is the same.
    const auto none = torch::zeros({S * H, 1, T, dk}, kF64);
    B = law.base->forward(none, none).view({S, H, T, T});
    const auto one = none.narrow(0, 0, 1);
    out.fixed = law.base->forward(one, one).view({T, T}).equal(B[0][0]);
  }
  out.A = law.alpha * torch::eye(T, kF64) + law.beta * B;
  out.fixed = out.fixed || law.beta == 0;  // αI + 0·B: the draw is multiplied away
  return out;
}

// The metrics of the heads' matrices (S, H, T, T), averaged over heads: what probe/metrics.cpp
// computes from the model's A.
std::pair<Tensor, Tensor> attention_metrics(const Tensor& A, bool causal) {
  const auto entropy = (A < 0).any().item<bool>()
                           ? torch::full({A.size(0)}, NAN, kF64)
                           : (-torch::where(A > 0, A * A.log(), torch::zeros_like(A)).sum(-1)).mean({-2, -1});
  const int64_t T = A.size(-1);
  if (T < 2) return {entropy, torch::zeros({A.size(0)}, kF64)};
  const auto ev = causal ? diag_of(A) : torch::abs(torch::linalg_eigvals(A));
  const auto mags = std::get<0>(ev.abs().sort(-1, true));
  return {entropy, mags.select(-1, 1).mean(-1)};
}

// Σ_ts of tr(J_t K J_s V) with J_t = c_t (diag(p_t) − p_t p_tᵀ): the softmax Jacobian's part of
// E[dS K dSᵀ] (docs/theory.md):
//   P(K⊙V)Pᵀ − P((PV)⊙(PK))ᵀ − ((PK)⊙(PV))Pᵀ + (PKPᵀ)⊙(PVPᵀ), times c cᵀ.
Tensor jacobian_traces(const Tensor& P, const Tensor& c, const Tensor& K_, const Tensor& V_) {
  // J_t 1 = 0, so K and V enter only through their double-centred parts (I − Π)K(I − Π): taken
  // first, the four terms no longer cancel at the scale of a collapsed kernel's mean (where the
  // query gradient is ~1e-9 of the value gradient, below float64's resolution of the sum).
  const auto centre = [](const Tensor& X) {
    return X - X.mean(-1, true) - X.mean(-2, true) + X.mean({-2, -1}, true);
  };
  const auto K = centre(K_), V = centre(V_);
  const auto Pt = P.transpose(-2, -1);
  const auto PK = P.matmul(K), PV = P.matmul(V);
  const auto M = P.matmul(K * V).matmul(Pt) - P.matmul((PV * PK).transpose(-2, -1)) -
                 (PK * PV).matmul(Pt) + PK.matmul(Pt) * PV.matmul(Pt);
  return M * c * c.transpose(-2, -1);
}

// E[(p_t − e_{y_t})·(p_s − e_{y_s})] for the language-model head at init: logits z_t = W h_t with
// W ~ N(0, 1/d), so over the V classes the logits are i.i.d. with token kernel Σ (the head's
// input); p = softmax(z), by Monte Carlo over z. Peaked p on collapsed tokens makes the gradient
// of every token alike, which is what sets the ratio of query to value gradients near the top.
Tensor loss_gradient_kernel(const Tensor& S, const Tensor& targets, int64_t V, int draws,
                            torch::Generator& gen) {
  const int64_t B = S.size(0), T = S.size(-1);
  const auto z = root(S).unsqueeze(1).matmul(torch::randn({B, draws, T, V}, gen, kF64));
  const auto g = torch::softmax(z, -1) - torch::one_hot(targets, V).to(torch::kFloat64).unsqueeze(1);
  return g.matmul(g.transpose(-2, -1)).mean(1);
}

// What the backward pass needs of one sublayer.
struct Tape {
  Tensor pre_in;    // Σ into the pre-norm (undefined: none)
  Tensor branch_in;  // Σ of the branch's input
  Tensor branch_out;  // Σ of the branch's output before the sandwich norm
  Tensor post_in;   // Σ into the post-norm (undefined: none)
  Tensor hidden;    // MLP: the pre-activation kernel
  AttentionDraws attn;
  bool attention = false, removal = false;
};

struct Recursion {
  const ModelSpec& spec;
  const PredictOptions& o;
  Tensor branch, skip, logit;  // (S, 1, 1)
  bool common;                 // cells of a map: one draw of the logits' noise for all
  double eps;
  ActivationKernel phi;
  Gains g_q, g_k, g_v, g_o, g_1, g_2;
  Tensor removal;  // M = I − τΠ
  torch::Generator gen;

  Recursion(const ModelSpec& s, const PredictOptions& opt, const KernelCells& cells, int64_t S, int64_t T)
      : spec(s),
        o(opt),
        common(cells.branch.defined() || cells.logit.defined()),
        eps(norm_options(s).eps()),
        phi(mlp_options(s).activation(), opt.quadrature),
        gen(at::detail::createCPUGenerator(opt.seed)) {
    const auto res = block_options(s, 0).residual();
    using Kind = ResidualScale::Kind;
    const double lambda = res.kind() == Kind::None          ? 0.0
                          : res.kind() == Kind::LambdaGamma ? std::sqrt(1 - res.alpha() * res.alpha())
                                                            : res.skip();
    const double alpha = res.kind() == Kind::None ? 1.0 : res.alpha();
    branch = (cells.branch.defined() ? cells.branch.to(torch::kFloat64) : torch::full({S}, alpha, kF64)).view({S, 1, 1});
    skip = torch::full({S, 1, 1}, lambda, kF64);
    logit = cells.logit.defined() ? cells.logit.to(torch::kFloat64) : torch::ones({S}, kF64);
    const int64_t H = s.heads, dv = s.width / s.heads;
    g_q = s.zero_queries ? Gains{0, 0} : weight_gains(s, s.width, H * s.key_width());
    g_k = weight_gains(s, s.width, H * s.key_width());
    g_v = weight_gains(s, s.width, H * dv);
    g_o = weight_gains(s, H * dv, s.width);
    g_1 = weight_gains(s, s.width, s.mlp_width);
    g_2 = weight_gains(s, s.mlp_width, s.width);
    if (s.residual.kind == Kind::DeepNorm) {  // β on W_V, W_O, W₁, W₂ (model/init.cpp)
      const double b2 = std::pow(deepnorm_beta(s.depth), 2);
      for (auto* g : {&g_v, &g_o, &g_1, &g_2}) g->fwd *= b2, g->bwd *= b2;
    }
    removal = torch::eye(T, kF64) - s.simremove_tau * averaging(T, s.causal);
  }

  bool pre() const { return spec.norm == NormPlace::Pre || spec.norm == NormPlace::Sandwich; }
  bool removes(bool attention) const {
    return spec.simremove == SimRemove::Both ||
           spec.simremove == (attention ? SimRemove::Attention : SimRemove::MLP);
  }

  // X ← post(λX + α·rem(out(f(pre(X))))), recording what the backward pass needs.
  Tensor sublayer(const Tensor& X, bool attention, const AttentionLaw* law, Tape& tape) {
    tape.attention = attention;
    tape.removal = removes(attention);
    Tensor in = X;
    if (pre()) tape.pre_in = X, in = X * norm_scale(X, eps);
    tape.branch_in = in;
    Tensor f;
    if (attention) {
      tape.attn = draw_attention(spec, *law, in, g_q, g_k, logit, o.paths, common, gen);
      const auto& A = tape.attn.A;
      f = g_v.fwd * g_o.fwd * A.matmul(in.unsqueeze(1)).matmul(A.transpose(-2, -1)).mean(1);
    } else {
      tape.hidden = g_1.fwd * in;
      f = g_2.fwd * phi.forward(tape.hidden);
    }
    tape.branch_out = f;
    if (spec.norm == NormPlace::Sandwich) f = f * norm_scale(f, eps);
    if (tape.removal) f = removal.matmul(f).matmul(removal.t());
    auto z = skip * skip * X + branch * branch * f;
    if (spec.norm == NormPlace::Post) tape.post_in = z, z = z * norm_scale(z, eps);
    return z;
  }

  // Γ at the sublayer's input from Γ at its output; the attention's gradient norms on the way.
  Tensor sublayer_backward(const Tensor& G_out, const Tape& tape, Tensor* grad_q2, Tensor* grad_v2) {
    Tensor G = G_out;
    if (tape.post_in.defined()) G = G * norm_scale(tape.post_in, eps);
    Tensor Gf = branch * branch * G;
    if (tape.removal) Gf = removal.t().matmul(Gf).matmul(removal);
    if (spec.norm == NormPlace::Sandwich) Gf = Gf * norm_scale(tape.branch_out, eps);
    Tensor Gin;
    const auto& Sn = tape.branch_in;
    if (tape.attention) {
      const auto& d = tape.attn;
      const auto Gv = (g_o.bwd * Gf).unsqueeze(1);  // per unit of the heads' outputs
      const auto At = d.A.transpose(-2, -1);
      const auto AGA = At.matmul(Gv).matmul(d.A);  // (S, H, T, T)
      *grad_v2 = (Sn.unsqueeze(1) * AGA).sum({-2, -1}).mean(1);
      if (d.P.defined()) {
        const auto Kk = spec.qk_norm ? correlation(Sn) : g_k.fwd * Sn;
        const auto traces = jacobian_traces(d.P, d.c, Kk.unsqueeze(1), (g_v.fwd * Sn).unsqueeze(1));
        Tensor weight = Sn.unsqueeze(1) * Gv * traces;
        if (spec.qk_norm) {  // through q̂ = q/rms(q): dq_t = dq̂_t / rms_t, W_Q scaled by a map's m
          const auto m2 = logit.pow(2).view({-1, 1, 1});
          weight = weight * norm_scale(g_q.fwd * m2 * Sn, QKNormImpl::kEps).unsqueeze(1);
        }
        // ≥ 0 in exact arithmetic; a rounding-level negative is a zero gradient.
        *grad_q2 = (d.scale * d.scale * spec.key_width() * weight.sum({-2, -1}))
                       .mean(1)
                       .clamp_min(0);
      } else {
        *grad_q2 = torch::zeros({Sn.size(0)}, kF64);
      }
      Gin = g_v.bwd * AGA.mean(1);
    } else {
      Gin = g_1.bwd * (g_2.bwd * Gf * phi.derivative(tape.hidden));
    }
    if (tape.pre_in.defined()) Gin = Gin * norm_scale(tape.pre_in, eps);
    return skip * skip * G + Gin;
  }
};

}  // namespace

void validate(const PredictOptions& o) {
  if (o.paths < 1) throw ConfigError("predict: paths = " + std::to_string(o.paths) + " must be >= 1");
  if (o.quadrature < 2 || o.quadrature > 64)
    throw ConfigError("predict: quadrature = " + std::to_string(o.quadrature) + " must be in 2..64");
}

std::string unpredictable(const ModelSpec& spec) {
  static const std::vector<std::string> known{"softmax", "uniform",        "random_markov", "gap_removed",
                                              "shaped",  "value_skipinit", "espa",          "uspa"};
  for (const auto& name : {spec.attention, spec.attention_base})
    if (std::find(known.begin(), known.end(), name) == known.end())
      return fmt::format("model.attention = \"{}\" has no rule in the kernel recursion (predict knows {})", name,
                         fmt::join(known, ", "));
  return "";
}

KernelInput kernel_input(const ModelSpec& spec, const ProbeBatch& batch) {
  Tensor sigma;
  const auto& x = batch.input;
  switch (spec.input) {
    case InputKind::Tokens: {  // wte ~ N(0, 1): E[e_t·e_t']/d = [t = t']
      const auto t = x.to(torch::kLong);
      sigma = t.unsqueeze(-1).eq(t.unsqueeze(-2)).to(torch::kFloat64);
      break;
    }
    case InputKind::Patches: {  // Xavier patch embedding: per-unit gain 2/(in + d) on p·p'
      const auto patches = image_patches(x.to(torch::kFloat64), spec.patch_size);
      const double in = double(patches.size(-1));
      sigma = 2.0 / (in + spec.width) * patches.matmul(patches.transpose(-2, -1));
      break;
    }
    case InputKind::Raw: {
      const auto r = x.to(torch::kFloat64);
      sigma = r.matmul(r.transpose(-2, -1)) / double(spec.width);
      break;
    }
  }
  const int64_t S = sigma.size(0), T = sigma.size(-1);
  if (spec.positional == Positional::Learned) sigma = sigma + torch::eye(T, kF64);  // wpe ~ N(0, 1)
  if (spec.positional == Positional::Sinusoidal) {
    const auto P = sinusoidal_positions(T, spec.width).to(torch::kFloat64);
    sigma = sigma + P.matmul(P.t()) / double(spec.width);
  }
  // ∂loss/∂output: tokens, (p_t − e_{y_t}) through the head, from the logits' law once the
  // output's kernel is known (loss_gradient_kernel); patches, the mean-pooled classifier's same
  // gradient on every token; raw, 0.5·MSE to an independent N(0, 1) target: I here, plus the
  // output's kernel, which predict_trace adds once it has it.
  KernelInput in;
  in.sigma0 = sigma;
  switch (spec.input) {
    case InputKind::Tokens:
      in.targets = batch.target.to(torch::kLong);
      in.vocab = spec.vocab_size;
      in.gamma_top = torch::zeros({S, T, T}, kF64);
      break;
    case InputKind::Patches: in.gamma_top = torch::ones({S, T, T}, kF64); break;
    case InputKind::Raw: in.gamma_top = torch::eye(T, kF64).expand({S, T, T}).contiguous(); break;
  }
  return in;
}

KernelInput repeat_first(const KernelInput& in, int64_t copies) {
  const auto first = [copies](const Tensor& t) {
    return t.defined() ? t.narrow(0, 0, 1).expand({copies, -1, -1}).contiguous() : t;
  };
  KernelInput out = in;
  out.sigma0 = first(in.sigma0), out.gamma_top = first(in.gamma_top);
  if (in.targets.defined()) out.targets = in.targets.narrow(0, 0, 1).expand({copies, -1}).contiguous();
  return out;
}

KernelTrace predict_trace(const ModelSpec& spec, const KernelInput& input, const KernelCells& cells,
                          const PredictOptions& o) {
  validate(o);
  if (const auto why = unpredictable(spec); !why.empty()) throw ConfigError(why);
  check_buildable(spec);
  torch::NoGradGuard no_grad;
  // Each sequence (or map cell) is followed along `paths` independent realisations of its
  // attention heads: (sequence, path) pairs, paths consecutive.
  const int64_t S0 = input.sigma0.size(0), P = o.paths, S = S0 * P, T = input.sigma0.size(-1), L = spec.depth;
  const auto per_path = [P](const Tensor& t) { return t.defined() ? t.repeat_interleave(P, 0) : t; };
  Recursion rec(spec, o, {per_path(cells.branch), per_path(cells.logit)}, S, T);
  KernelTrace out;
  out.cosine = torch::empty({L + 1, S}, kF64);
  out.t_sim = torch::empty({L + 1, S}, kF64);
  out.entropy = torch::empty({L, S}, kF64);
  out.lambda2 = torch::empty({L, S}, kF64);
  out.grad_q2 = torch::empty({L, S}, kF64);
  out.grad_v2 = torch::empty({L, S}, kF64);
  const auto record = [&](int64_t l, const Tensor& X) {
    const auto C = correlation(X);
    out.cosine[l].copy_((C.sum({-2, -1}) - diag_of(C).sum(-1)) / double(std::max<int64_t>(1, T * (T - 1))));
    out.t_sim[l].copy_(X.sum({-2, -1}) / double(T) / diag_of(X).sum(-1).clamp_min(1e-300));
  };
  Tensor X = per_path(input.sigma0.to(torch::kFloat64));
  const auto targets = per_path(input.targets);
  record(0, X);
  std::vector<std::pair<Tape, Tape>> tapes(L);
  for (int64_t l = 0; l < L; ++l) {
    const auto law = attention_law(spec, int(l), T);
    X = rec.sublayer(X, true, &law, tapes[l].first);
    const auto [entropy, lambda2] = attention_metrics(tapes[l].first.attn.A, spec.causal);
    out.entropy[l].copy_(entropy);
    out.lambda2[l].copy_(lambda2);
    out.exact.push_back(tapes[l].first.attn.fixed);
    if (spec.mlp_width > 0) X = rec.sublayer(X, false, nullptr, tapes[l].second);
    record(l + 1, X);
  }
  // Backward: Γ from the loss, through the final norm of a pre-norm stream, block by block.
  Tensor G = per_path(input.gamma_top.to(torch::kFloat64));
  if (spec.input == InputKind::Raw) G = G + X;
  if (input.targets.defined()) {
    const auto head_in = rec.pre() ? X * norm_scale(X, rec.eps) : X;
    G = loss_gradient_kernel(head_in, targets, input.vocab, 4, rec.gen);
  }
  if (rec.pre()) G = G * norm_scale(X, rec.eps);
  for (int64_t l = L - 1; l >= 0; --l) {
    Tensor q2, v2;
    if (spec.mlp_width > 0) G = rec.sublayer_backward(G, tapes[l].second, nullptr, nullptr);
    G = rec.sublayer_backward(G, tapes[l].first, &q2, &v2);
    out.grad_q2[l].copy_(q2);
    out.grad_v2[l].copy_(v2);
  }
  // Per sequence: the mean over its paths (for the gradients, of the squared norms).
  for (auto* t : {&out.cosine, &out.t_sim, &out.entropy, &out.lambda2, &out.grad_q2, &out.grad_v2})
    *t = t->view({t->size(0), S0, P}).mean(-1);
  return out;
}

std::vector<PredictedLayer> predict_layers(const ModelSpec& spec, const KernelInput& input,
                                           const PredictOptions& o) {
  const auto trace = predict_trace(spec, input, {}, o);
  std::vector<PredictedLayer> rows;
  for (int l = 0; l <= spec.depth; ++l) {
    PredictedLayer r;
    r.layer = l;
    r.cosine = trace.cosine[l].mean().item<double>();
    r.t_sim = trace.t_sim[l].mean().item<double>();
    if (l > 0) {
      r.entropy = trace.entropy[l - 1].mean().item<double>();
      r.lambda2 = trace.lambda2[l - 1].mean().item<double>();
      r.grad_q_over_v =
          std::sqrt(trace.grad_q2[l - 1].mean().item<double>() / trace.grad_v2[l - 1].mean().item<double>());
      r.exact = trace.exact[l - 1];
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace sigprop
