#include "studies/tat/tat_study.h"

#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/presets.h"
#include "core/error.h"
#include "core/parallel.h"
#include "model/attention/attention_matrix.h"
#include "model/transformer.h"
#include "math/covariance.h"
#include "studies/markov/markov_study.h"
#include "math/tat.h"

namespace sigprop {
namespace {

// Haar-orthogonal n × n: Q of a Gaussian's QR with the signs of R's diagonal folded in.
torch::Tensor haar_orthogonal(int64_t n, at::Generator& gen) {
  auto [Q, R] = torch::linalg_qr(torch::randn({n, n}, gen, torch::kDouble));
  return Q * R.diagonal().sign().unsqueeze(0);
}

// One network of the deep vanilla MLP x ← φ_α(W x): the correlation of input 0 with each other
// input after every layer, (layers + 1) × (rows − 1).
std::vector<std::vector<double>> mlp_correlations(const TatStudyOptions& o, double slope,
                                                  at::Generator& gen) {
  const int64_t k = int64_t(o.c0s.size()), n = o.width;
  // Rows u, v_j = c_j u + √(1 − c_j²) w_j with u, w_j orthonormal, times √n: exact c_j.
  auto Q = std::get<0>(torch::linalg_qr(torch::randn({n, k + 1}, gen, torch::kDouble))).t();
  auto c = torch::tensor(o.c0s, torch::kDouble).unsqueeze(1);
  auto X =
      torch::cat(
          {Q.narrow(0, 0, 1), c * Q.narrow(0, 0, 1) + (1 - c * c).sqrt() * Q.narrow(0, 1, k)}, 0) *
      std::sqrt(double(n));
  const double gain = tat_leaky_relu_gain(slope);
  std::vector<std::vector<double>> out;
  auto record = [&] {
    auto R = correlation_matrix(torch::matmul(X, X.t())).select(0, 0).narrow(0, 1, k).contiguous();
    out.emplace_back(R.data_ptr<double>(), R.data_ptr<double>() + k);
  };
  record();
  for (int l = 0; l < o.depth; ++l) {
    X = gain * torch::leaky_relu(torch::matmul(X, haar_orthogonal(n, gen).t()), slope);
    record();
  }
  return out;
}

// The kernel map of one vanilla block: attention then the TAT MLP.
torch::Tensor kernel_step(const torch::Tensor& sigma, const torch::Tensor& A, double slope) {
  auto S = torch::matmul(torch::matmul(A, sigma), A.t());
  auto d = S.diagonal().sqrt();
  auto scale = d.unsqueeze(1) * d.unsqueeze(0);
  auto rho = (S / scale).clamp(-1.0, 1.0);
  auto k = (1 - slope) * (1 - slope) / (M_PI * (1 + slope * slope));
  return scale * (rho + k * ((1 - rho * rho).clamp_min(0).sqrt() - rho * torch::acos(rho)));
}

double mean_offdiag(const torch::Tensor& R) {
  const int64_t T = R.size(-1);
  return ((R.sum({-2, -1}) - R.diagonal(0, -2, -1).sum(-1)) / double(T * (T - 1)))
      .mean()
      .item<double>();
}

}  // namespace

void validate(const TatStudyOptions& o) {
  for (double a : o.slopes)
    if (!(a >= 0.0 && a <= 1.0))
      throw ConfigError(fmt::format("--slopes {} is not allowed: expected slopes in [0, 1]", a));
  for (int n : o.nonlinearities)
    if (n < 1) throw ConfigError(fmt::format("--n {} is not allowed: expected N >= 1", n));
  for (double e : o.etas)
    if (!(e > 0.0 && e < 1.0))
      throw ConfigError(fmt::format("--etas {} is not allowed: expected eta in (0, 1)", e));
  for (double c : o.c0s)
    if (!(c >= -1.0 && c < 1.0))
      throw ConfigError(fmt::format("--c0 {} is not allowed: expected c0 in [-1, 1)", c));
  if (o.c0s.empty()) throw ConfigError("--c0 needs at least one input correlation");
  if (o.width < int(o.c0s.size()) + 1)
    throw ConfigError(
        fmt::format("--width {} is not allowed: need > number of --c0 values", o.width));
  if (o.networks < 1)
    throw ConfigError(fmt::format("--networks {} is not allowed: need >= 1", o.networks));
  if (o.seq < 2 || o.seq > o.transformer_width)
    throw ConfigError(
        fmt::format("--seq {} is not allowed: need 2 <= T <= --transformer-width = {} "
                    "(isometric input)",
                    o.seq, o.transformer_width));
  if (o.batch < 1) throw ConfigError(fmt::format("--batch {} is not allowed: need >= 1", o.batch));
  if (o.transformers < 1)
    throw ConfigError(fmt::format("--transformers {} is not allowed: need >= 1", o.transformers));
  if (!(o.eta > 0.0 && o.eta < 1.0))
    throw ConfigError(fmt::format("--eta {} is not allowed: expected eta in (0, 1)", o.eta));
  if (o.depth < 1) throw ConfigError(fmt::format("--depth {} is not allowed: need >= 1", o.depth));
  const double reachable = tat_c_map_iterate(0.0, 0.0, o.depth);
  if (o.eta > reachable)
    throw ConfigError(
        fmt::format("--eta {} is unreachable with --depth {} nonlinearities: even ReLU "
                    "(slope 0) only reaches C^N(0) = {:.4f}",
                    o.eta, o.depth, reachable));
  for (int n : o.curve_ns)
    if (n < 1) throw ConfigError(fmt::format("--curve-n {} is not allowed: expected N >= 1", n));
}

TatStudy run_tat_study(const TatStudyOptions& o,
                       const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  TatStudy s;
  s.options = o;
  for (int i = 0; i <= 200; ++i) s.grid.push_back(-1.0 + i / 100.0);
  auto curve = [&](const std::string& label, double slope, int n) {
    TatCurve c{label, slope, n, {}};
    for (double x : s.grid) c.values.push_back(tat_c_map_iterate(x, slope, n));
    return c;
  };
  for (double a : o.slopes) s.cmaps.push_back(curve(fmt::format("alpha = {:g}", a), a, 1));
  for (int n : o.curve_ns) {
    if (tat_c_map_iterate(0.0, 0.0, n) < o.eta) continue;  // unreachable: no curve
    const double a = tat_solve_slope(o.eta, n);
    s.iterates.push_back(curve(fmt::format("N = {} (alpha = {:.3f})", n, a), a, n));
  }
  for (int n : o.nonlinearities)
    for (double eta : o.etas) {
      TatSlopeCell cell{n, eta, std::nan(""), tat_c_map_iterate(0.0, 0.0, n)};
      if (eta <= cell.reachable) cell.slope = tat_solve_slope(eta, n);
      s.table.push_back(cell);
    }
  s.slope = tat_solve_slope(o.eta, o.depth);
  if (progress) progress(1, 3, "C-maps and slopes");

  // The deep vanilla MLP, one network per chunk.
  std::vector<std::vector<std::vector<double>>> nets(o.networks);
  for_each_chunk(o.networks, 1, [&](int64_t i, int64_t, int64_t) {
    auto gen = chunk_generator(o.seed, i);
    nets[i] = mlp_correlations(o, s.slope, gen);
  });
  for (size_t j = 0; j < o.c0s.size(); ++j)
    for (int l = 0; l <= o.depth; ++l) {
      TatMlpRow r;
      r.c0 = o.c0s[j], r.layer = l, r.predicted = tat_c_map_iterate(o.c0s[j], s.slope, l);
      double sum = 0, sq = 0;
      for (const auto& net : nets) sum += net[l][j], sq += net[l][j] * net[l][j];
      r.measured = sum / o.networks;
      r.measured_sd = o.networks > 1
                          ? std::sqrt(std::max(0.0, (sq - sum * r.measured) / (o.networks - 1)))
                          : 0.0;
      s.mlp_max_error = std::max(s.mlp_max_error, std::fabs(r.measured - r.predicted));
      s.mlp.push_back(r);
    }
  if (progress) progress(2, 3, "deep vanilla MLP");

  // The vanilla transformer of paper 001 against the kernel recursion.
  ModelSpec spec = load_preset("vanilla-espa-tat");
  spec.depth = o.depth, spec.width = o.transformer_width, spec.mlp_width = 4 * o.transformer_width;
  spec.input = InputKind::Raw, spec.positional = Positional::None, spec.max_seq = o.seq;
  spec.tat_eta = o.eta;
  check_buildable(spec);
  // Models are built serially (LibTorch's init draws from the global generator), run in parallel;
  // each layer's correlation matrices are averaged over models and sequences.
  std::vector<Transformer> models;
  for (int i = 0; i < o.transformers; ++i) {
    torch::manual_seed(o.seed * 1000 + i);
    models.emplace_back(spec);
  }
  std::vector<std::vector<torch::Tensor>> corr(o.transformers);
  for_each_chunk(o.transformers, 1, [&](int64_t i, int64_t, int64_t) {
    auto gen = chunk_generator(o.seed, (1 << 20) + i);
    auto X = (isometric_rows(o.batch, o.seq, spec.width, gen) * std::sqrt(double(spec.width)))
                 .to(torch::kFloat);
    ForwardTrace trace;
    models[i]->forward(X, &trace);
    for (const auto& h : trace.hidden) {
      auto H = h.to(torch::kDouble);
      corr[i].push_back(correlation_matrix(torch::matmul(H, H.transpose(1, 2))));  // (B, T, T)
    }
  });
  auto sigma = torch::eye(o.seq, torch::kDouble);
  for (int l = 0; l <= o.depth; ++l) {
    if (l > 0) sigma = kernel_step(sigma, spa_layer_matrix(attention_options(spec, 0), o.seq, l), s.slope);
    std::vector<torch::Tensor> layer;
    for (const auto& c : corr) layer.push_back(c[l]);
    auto measured = torch::cat(layer, 0);  // (models·B, T, T)
    auto predicted = correlation_matrix(sigma);
    TatKernelRow r;
    r.layer = l;
    r.predicted_mean_rho = mean_offdiag(predicted.unsqueeze(0));
    r.measured_mean_rho = mean_offdiag(measured);
    r.mean_abs_error = mean_offdiag((measured.mean(0) - predicted).abs().unsqueeze(0));
    s.transformer_max_error = std::max(s.transformer_max_error, r.mean_abs_error);
    s.transformer.push_back(r);
  }
  if (progress) progress(3, 3, "vanilla transformer");
  return s;
}

}  // namespace sigprop
