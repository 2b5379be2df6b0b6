#include "studies/gradients/gradient_study.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/parallel.h"

namespace sigprop {
namespace {

torch::Tensor layer_norm(const torch::Tensor& x) {
  return torch::layer_norm(x, {x.size(-1)}, {}, {}, 1e-5);
}

// Per layer of one network: measured and predicted squared norms, and the token spread.
struct LayerSquares {
  double mq = 0, mv = 0, pq = 0, pv = 0, spread = 0;
};

std::vector<LayerSquares> one_network(const GradientStudyOptions& o, int depth, bool scaled,
                                      at::Generator& gen) {
  torch::AutoGradMode grad(true);
  const int64_t d = o.width, T = o.seq, B = o.batch, f = 4 * o.width;
  const double alpha = scaled ? 1.0 / std::sqrt(double(depth)) : 1.0;
  auto normal = [&](std::vector<int64_t> shape, double std) {
    return (torch::randn(shape, gen, torch::kDouble) * std).requires_grad_(true);
  };
  std::vector<torch::Tensor> WQ, WK, WV, H, Xatt;
  auto X = torch::randn({B, T, d}, gen, torch::kDouble);
  for (int l = 0; l < depth; ++l) {
    WQ.push_back(torch::zeros({d, d}, torch::kDouble).requires_grad_(true));
    WK.push_back(normal({d, d}, 1.0 / std::sqrt(double(d))));
    WV.push_back(normal({d, d}, 1.0 / std::sqrt(double(d))));
    auto W1 = normal({d, f}, std::sqrt(2.0 / double(d)));
    auto W2 = normal({f, d}, 1.0 / std::sqrt(double(f)));
    auto xa = o.pre_ln ? layer_norm(X) : X;
    auto S = torch::softmax(
        torch::matmul(torch::matmul(xa, WQ.back()), torch::matmul(xa, WK.back()).transpose(1, 2)) /
            std::sqrt(double(d)),
        -1);
    auto h = torch::matmul(S, torch::matmul(xa, WV.back()));
    h.retain_grad();
    H.push_back(h);
    Xatt.push_back(xa.detach());
    auto Z = X + alpha * h;
    if (!o.pre_ln) Z = layer_norm(Z);
    if (o.mlp) {
      auto m = torch::matmul(torch::relu(torch::matmul(o.pre_ln ? layer_norm(Z) : Z, W1)), W2);
      Z = Z + alpha * m;
      if (!o.pre_ln) Z = layer_norm(Z);
    }
    X = Z;
  }
  if (o.pre_ln) X = layer_norm(X);
  (X * torch::randn({B, T, d}, gen, torch::kDouble)).sum().backward();

  std::vector<LayerSquares> out(depth);
  for (int l = 0; l < depth; ++l) {
    torch::NoGradGuard no_grad;
    const auto& x = Xatt[l];
    const double s2 = H[l].grad().pow(2).mean().item<double>();
    auto K = torch::matmul(x, WK[l]), V = torch::matmul(x, WV[l]);
    auto PK = K - K.mean(1, true);                  // P X W_K
    auto M = torch::matmul(V.transpose(1, 2), PK);  // W_Vᵀ Xᵀ P X W_K: (B, d, d)
    auto x2 = x.pow(2).sum({1, 2}), m2 = M.pow(2).sum({1, 2});
    auto& r = out[l];
    r.mq = WQ[l].grad().pow(2).sum().item<double>();
    r.mv = WV[l].grad().pow(2).sum().item<double>();
    r.pq = s2 * (x2 * m2).sum().item<double>() / (double(T * T) * double(d));
    r.pv = s2 * double(T * d) * x.mean(1).pow(2).sum().item<double>();
    auto Px = x - x.mean(1, true);
    r.spread =
        (torch::matmul(x.transpose(1, 2), Px).pow(2).sum({1, 2}).sqrt() / x2).mean().item<double>();
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

void validate(const GradientStudyOptions& o) {
  if (o.depths.empty()) throw ConfigError("--depth needs at least one depth");
  for (int L : o.depths)
    if (L < 1 || L > 1024)
      throw ConfigError(fmt::format("--depth {} is not allowed: expected 1..1024", L));
  if (o.width < 2)
    throw ConfigError(fmt::format("--width {} is not allowed: expected >= 2", o.width));
  if (o.seq < 2) throw ConfigError(fmt::format("--seq {} is not allowed: expected >= 2", o.seq));
  if (o.batch < 1)
    throw ConfigError(fmt::format("--batch {} is not allowed: expected >= 1", o.batch));
  if (o.networks < 1)
    throw ConfigError(fmt::format("--networks {} is not allowed: expected >= 1", o.networks));
}

GradientStudy run_gradient_study(
    const GradientStudyOptions& o,
    const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  struct Job {
    int depth;
    bool scaled;
    int net;
  };
  std::vector<Job> jobs;
  for (int L : o.depths)
    for (bool scaled : {false, true})
      for (int i = 0; i < o.networks; ++i) jobs.push_back({L, scaled, i});
  std::vector<std::vector<LayerSquares>> results(jobs.size());
  for_each_chunk(int64_t(jobs.size()), 1, [&](int64_t j, int64_t, int64_t) {
    auto gen = chunk_generator(o.seed, j);
    results[j] = one_network(o, jobs[j].depth, jobs[j].scaled, gen);
  });

  GradientStudy study;
  study.options = o;
  int done = 0;
  for (int L : o.depths) {
    for (bool scaled : {false, true}) {
      for (int l = 0; l < L; ++l) {
        GradientRow r;
        r.depth = L, r.scaled = scaled, r.layer = l + 1;
        for (size_t j = 0; j < jobs.size(); ++j) {
          if (jobs[j].depth != L || jobs[j].scaled != scaled) continue;
          const auto& s = results[j][l];
          r.measured_q += s.mq, r.measured_v += s.mv, r.predicted_q += s.pq, r.predicted_v += s.pv;
          r.spread += s.spread / o.networks;
        }
        for (double* v : {&r.measured_q, &r.measured_v, &r.predicted_q, &r.predicted_v})
          *v = std::sqrt(*v / o.networks);
        study.rows.push_back(r);
      }
    }
    if (progress) progress(++done, int(o.depths.size()), fmt::format("depth {}", L));
  }
  for (bool scaled : {false, true}) {
    std::vector<double> q, v;
    for (const auto& r : study.rows)
      if (r.scaled == scaled) {
        // A gradient of exactly 0 (fully collapsed tokens) has no log ratio: left out.
        const double lq = std::fabs(std::log10(r.measured_q / r.predicted_q));
        const double lv = std::fabs(std::log10(r.measured_v / r.predicted_v));
        if (std::isfinite(lq)) q.push_back(lq);
        if (std::isfinite(lv)) v.push_back(lv);
      }
    GradientAgreement a;
    a.scaled = scaled;
    a.median_log10_q = median(q), a.median_log10_v = median(v);
    a.max_log10_q = q.empty() ? std::nan("") : *std::max_element(q.begin(), q.end());
    a.max_log10_v = v.empty() ? std::nan("") : *std::max_element(v.begin(), v.end());
    study.agreement.push_back(a);
  }
  return study;
}

}  // namespace sigprop
