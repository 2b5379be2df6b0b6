#include "studies/sde/shaped_finite.h"

#include <cmath>
#include <memory>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/parallel.h"
#include "math/covariance.h"

namespace sigprop {
namespace {

// What every sampler needs to know about one block.
struct BlockConstants {
  int64_t m, n, nk;
  double lambda, gamma;
  double tau;  // logit temperature
  bool attention, mlp, shaped;
  double s_plus, s_minus, gain;  // shaped ReLU slopes and √c

  explicit BlockConstants(const FiniteOptions& o)
      : m(o.V0.size(0)),
        n(o.width),
        nk(o.key_width > 0 ? o.key_width : o.width),
        lambda(std::sqrt(1.0 - o.params.gamma * o.params.gamma)),
        gamma(o.params.gamma),
        tau(o.shape == AttentionShape::Shaped ? o.params.tau0 * std::sqrt(double(n) * double(nk))
                                              : std::sqrt(double(nk))),
        attention(o.params.attention),
        mlp(o.params.mlp),
        shaped(o.shape == AttentionShape::Shaped),
        s_plus(1.0 + o.params.c_plus / std::sqrt(double(n))),
        s_minus(1.0 + o.params.c_minus / std::sqrt(double(n))),
        gain(std::sqrt(2.0 / (s_plus * s_plus + s_minus * s_minus))) {}

  // logits (c, m, m) -> A: I + softmax − 11ᵀ/m (shaped) or softmax (unshaped).
  torch::Tensor attention_matrix(const torch::Tensor& logits) const {
    auto S = torch::softmax(logits / tau, -1);
    if (!shaped) return S;
    return S + (torch::eye(m, S.options()) - 1.0 / double(m));
  }
  // √c·σ_s(U), the shaped ReLU with its variance-preserving gain.
  torch::Tensor shaped_relu(const torch::Tensor& U) const {
    return gain * (s_plus * torch::relu(U) - s_minus * torch::relu(-U));
  }
};

// Lower-triangular B with B Bᵀ ~ Wishart_m(dof, I) (Bartlett 1933): B_ii = √χ²(dof − i),
// B_ij ~ N(0, 1) below the diagonal. (c, m, m) float64.
torch::Tensor bartlett_factor(int64_t c, int64_t m, double dof, at::Generator& gen) {
  auto B = torch::randn({c, m, m}, gen, torch::kDouble).tril(-1);
  auto shape = (dof - torch::arange(m, torch::kDouble)).expand({c, m}).contiguous() / 2.0;
  auto chi2 = 2.0 * at::_standard_gamma(shape, gen);
  return B + torch::diag_embed(chi2.sqrt());
}

// One chunk of networks under one sampler.
class Chunk {
 public:
  Chunk(const BlockConstants& k, at::Generator gen) : k_(k), gen_(std::move(gen)) {}
  virtual ~Chunk() = default;
  virtual void attention_sublayer() = 0;
  virtual void mlp_sublayer() = 0;
  virtual torch::Tensor covariance() const = 0;  // (c, m, m) float64

 protected:
  const BlockConstants& k_;
  at::Generator gen_;
};

// Full and reduced samplers keep Y itself: (c, m, n) float32.
class TokenChunk : public Chunk {
 public:
  TokenChunk(const BlockConstants& k, at::Generator gen, const torch::Tensor& V0, int64_t c,
             const torch::Tensor& Y0)
      : Chunk(k, std::move(gen)) {
    if (Y0.defined()) {
      Y_ = Y0.to(torch::kFloat).expand({c, k_.m, k_.n}).clone();
      return;
    }
    // Y₀ = √n·chol(V0)·O with O Oᵀ = I: the rows of Q from a QR of a Gaussian n × m matrix.
    auto Q = std::get<0>(torch::linalg_qr(torch::randn({c, k_.n, k_.m}, gen_, torch::kDouble)));
    Y_ = (torch::matmul(torch::linalg_cholesky(V0), Q.transpose(1, 2)) * std::sqrt(double(k_.n)))
             .to(torch::kFloat);
  }
  torch::Tensor covariance() const override {
    auto Y = Y_.to(torch::kDouble);
    return torch::matmul(Y, Y.transpose(1, 2)) / double(k_.n);
  }
  void attention_sublayer() override {
    const auto src = source(Y_);
    auto Z = draw(src, k_.n);  // Y W_V/√n: (c, m, n)
    if (k_.attention) {
      // W_K before W_Q: the order these draws have always had, so a seed keeps its numbers.
      auto k = draw(src, k_.nk);  // Y W_K/√n: (c, m, n_k)
      auto q = draw(src, k_.nk);  // Y W_Q/√n
      Z = torch::matmul(k_.attention_matrix(torch::matmul(q, k.transpose(1, 2))), Z);
    }
    Y_ = k_.lambda * Y_ + k_.gamma * Z;
  }
  void mlp_sublayer() override {
    auto H = k_.shaped_relu(draw(source(Y_), k_.n));  // √c σ_s(Y W₁/√n): (c, m, n)
    Y_ = k_.lambda * Y_ + k_.gamma * draw(source(H), k_.n);
  }

 protected:
  // What a draw of X W/√n (fresh n × cols Gaussian W) needs from X: (c, m, n) -> source.
  virtual torch::Tensor source(const torch::Tensor& X) const = 0;
  // One draw of X W/√n: (c, m, cols).
  virtual torch::Tensor draw(const torch::Tensor& source, int64_t cols) = 0;
  torch::Tensor Y_;
};

class FullChunk : public TokenChunk {
 public:
  FullChunk(const BlockConstants& k, at::Generator gen, const torch::Tensor& V0, int64_t c,
            const torch::Tensor& Y0,
            const std::function<torch::Tensor(int64_t, int64_t, int64_t)>& weights)
      : TokenChunk(k, std::move(gen), V0, c, Y0), weights_(weights) {}

 protected:
  torch::Tensor source(const torch::Tensor& X) const override { return X; }
  torch::Tensor draw(const torch::Tensor& X, int64_t cols) override {
    auto W = weights_ ? weights_(X.size(0), k_.n, cols).to(torch::kFloat)
                      : torch::randn({X.size(0), k_.n, cols}, gen_, torch::kFloat);
    return torch::matmul(X, W) / std::sqrt(double(k_.n));
  }

 private:
  std::function<torch::Tensor(int64_t, int64_t, int64_t)> weights_;
};

class ReducedChunk : public TokenChunk {
 public:
  using TokenChunk::TokenChunk;

 protected:
  // X W/√n has i.i.d. N(0, XXᵀ/n) columns: R·Z with R Rᵀ = XXᵀ/n (docs/methods.md: chol(V)·Z).
  torch::Tensor source(const torch::Tensor& X) const override {
    auto Xd = X.to(torch::kDouble);
    return square_root_factor(torch::matmul(Xd, Xd.transpose(1, 2)) / double(k_.n))
        .to(torch::kFloat);
  }
  torch::Tensor draw(const torch::Tensor& R, int64_t cols) override {
    return torch::matmul(R, torch::randn({R.size(0), k_.m, cols}, gen_, torch::kFloat));
  }
};

class GramChunk : public Chunk {
 public:
  GramChunk(const BlockConstants& k, at::Generator gen, const torch::Tensor& V0, int64_t c)
      : Chunk(k, std::move(gen)), V_(V0.expand({c, k.m, k.m}).clone()) {}
  torch::Tensor covariance() const override { return V_; }
  void attention_sublayer() override {
    auto R = square_root_factor(V_);
    auto AR = R;
    if (k_.attention) {
      auto G = torch::matmul(bartlett_factor(c(), k_.m, double(k_.nk), gen_), gaussian());
      AR = torch::matmul(k_.attention_matrix(torch::matmul(torch::matmul(R, G), R.transpose(1, 2))),
                         R);
    }
    residual_update(R, AR);
  }
  void mlp_sublayer() override {
    auto R = square_root_factor(V_);
    // u_j ~ N(0, V) for the n hidden units; float32 like the token samplers (5x cheaper draws).
    auto U =
        torch::matmul(R.to(torch::kFloat), torch::randn({c(), k_.m, k_.n}, gen_, torch::kFloat));
    auto H = k_.shaped_relu(U);
    auto K = (torch::matmul(H, H.transpose(1, 2)) / double(k_.n)).to(torch::kDouble);
    residual_update(R, square_root_factor(K));
  }

 private:
  int64_t c() const { return V_.size(0); }
  torch::Tensor gaussian() { return torch::randn({c(), k_.m, k_.m}, gen_, torch::kDouble); }
  // Y' = λY + γ·F·Ξ with Y = √n R O and Ξ the branch's fresh Gaussian frame:
  // V' = λ²V + (λγ/√n)(R Mᵀ Fᵀ + F M Rᵀ) + (γ²/n) F (MMᵀ + S) Fᵀ.
  void residual_update(const torch::Tensor& R, const torch::Tensor& F) {
    auto M = gaussian();
    auto B = bartlett_factor(c(), k_.m, double(k_.n - k_.m), gen_);
    auto cross = torch::matmul(torch::matmul(R, M.transpose(1, 2)), F.transpose(1, 2));
    auto gram = torch::matmul(M, M.transpose(1, 2)) + torch::matmul(B, B.transpose(1, 2));
    const double n = double(k_.n);
    V_ = k_.lambda * k_.lambda * V_ +
         (k_.lambda * k_.gamma / std::sqrt(n)) * (cross + cross.transpose(1, 2)) +
         (k_.gamma * k_.gamma / n) * torch::matmul(torch::matmul(F, gram), F.transpose(1, 2));
  }
  torch::Tensor V_;
};

int64_t chunk_size(const FiniteOptions& o, const BlockConstants& k) {
  switch (o.sampler) {
    case FiniteSampler::Full:  // ~8 MB of weights per draw
      return std::clamp<int64_t>((int64_t{1} << 21) / (k.n * std::max(k.n, k.nk)), 1, 64);
    case FiniteSampler::Reduced:
      return 256;
    case FiniteSampler::Gram:
      return 1024;  // tiny tensors: amortise the per-op overhead
  }
  return 64;
}

std::unique_ptr<Chunk> make_chunk(const FiniteOptions& o, const BlockConstants& k,
                                  at::Generator gen, int64_t c) {
  const auto V0 = o.V0.to(torch::kDouble);
  switch (o.sampler) {
    case FiniteSampler::Full:
      return std::make_unique<FullChunk>(k, std::move(gen), V0, c, o.Y0, o.full_weights);
    case FiniteSampler::Reduced:
      return std::make_unique<ReducedChunk>(k, std::move(gen), V0, c, o.Y0);
    case FiniteSampler::Gram:
      return std::make_unique<GramChunk>(k, std::move(gen), V0, c);
  }
  return nullptr;
}

}  // namespace

FiniteSampler parse_finite_sampler(const std::string& name) {
  if (name == "full") return FiniteSampler::Full;
  if (name == "reduced") return FiniteSampler::Reduced;
  if (name == "gram") return FiniteSampler::Gram;
  throw ConfigError("sampler '" + name + "' is not allowed: expected full | reduced | gram");
}

std::string to_string(FiniteSampler s) {
  switch (s) {
    case FiniteSampler::Full:
      return "full";
    case FiniteSampler::Reduced:
      return "reduced";
    case FiniteSampler::Gram:
      return "gram";
  }
  return "?";
}

int64_t depth_for_horizon(double t, int64_t width) {
  return std::max<int64_t>(1, std::llround(t * double(width)));
}

FiniteResult simulate_shaped_networks(const FiniteOptions& o) {
  validate(o.params);
  if (!o.V0.defined() || o.V0.dim() != 2 || o.V0.size(0) != o.V0.size(1) || o.V0.size(0) < 2)
    throw ConfigError("finite networks need an initial covariance V0 of m x m tokens, m >= 2");
  const int64_t m = o.V0.size(0);
  if (o.width <= m)
    throw ConfigError(fmt::format("--width {} is not allowed: need n > m = {} tokens", o.width, m));
  if (o.key_width < 0 || (o.key_width > 0 && o.key_width < m))
    throw ConfigError(fmt::format("--key-width {} is not allowed: need 0 (= width) or >= m = {}",
                                  o.key_width, m));
  if (o.depth < 1)
    throw ConfigError(fmt::format("depth {} is not allowed: need >= 1 block", o.depth));
  if (o.networks < 1)
    throw ConfigError(fmt::format("--networks {} is not allowed: need >= 1", o.networks));

  const BlockConstants k(o);
  const int64_t chunk = chunk_size(o, k);
  const int64_t chunks = (o.networks + chunk - 1) / chunk;
  std::vector<torch::Tensor> finals(chunks);
  std::vector<std::vector<double>> rho_sum(chunks, std::vector<double>(o.depth + 1, 0.0));

  for_each_chunk(o.networks, chunk, [&](int64_t c, int64_t begin, int64_t end) {
    auto net = make_chunk(o, k, chunk_generator(o.seed, c), end - begin);
    auto record = [&](int64_t l) {
      rho_sum[c][l] = mean_offdiagonal_correlation(net->covariance()) * double(end - begin);
    };
    record(0);
    for (int64_t l = 0; l < o.depth; ++l) {
      net->attention_sublayer();
      if (k.mlp) net->mlp_sublayer();
      record(l + 1);
    }
    finals[c] = net->covariance();
  });

  FiniteResult r;
  r.V = torch::cat(finals, 0);
  for (int64_t l = 0; l <= o.depth; ++l) {
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += rho_sum[c][l];
    r.mean_rho.push_back(s / double(o.networks));
  }
  return r;
}

}  // namespace sigprop
