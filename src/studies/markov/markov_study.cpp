#include "studies/markov/markov_study.h"

#include <algorithm>
#include <cmath>
#include <complex>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/model_spec.h"
#include "core/error.h"
#include "core/parallel.h"
#include "model/transformer.h"
#include "probe/metrics.h"

namespace sigprop {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// s² of the logits of each kind, for inputs with unit-norm rows and d_k = d.
double logit_variance(AttentionDraw k, int64_t d) {
  switch (k) {
    case AttentionDraw::RandomMarkov:
      return std::log(2.0);
    case AttentionDraw::KeyQueryXavier:
      return 1.0 / (double(d) * double(d));  // (2/(d+d_k))²
    case AttentionDraw::KeyQueryGaussian:
      return 1.0;
  }
  return std::nan("");
}

double xavier_std(int64_t fan_in, int64_t fan_out) {
  return std::sqrt(2.0 / double(fan_in + fan_out));
}

// Everything measured on one (T, kind, draw), for A (index 0) and A⊥ (index 1).
struct DrawResult {
  double scale = 0;
  double sigma1[2], sigma2[2], top_eig[2], sr_matrix[2], sr_layer[2], gram_sr_layer[2];
  std::vector<double> singular[2], eig_re[2], eig_im[2];  // / scale, all T values
  std::vector<double> bulk_singular[2], bulk_modulus[2];  // / scale, outlier or zero dropped
};

DrawResult measure_draw(int64_t T, AttentionDraw kind, double aspect, at::Generator& gen) {
  const int64_t d = std::max<int64_t>(T, std::llround(aspect * double(T)));
  auto X = isometric_rows(1, T, d, gen);  // (1, T, d)
  torch::Tensor A;
  if (kind == AttentionDraw::RandomMarkov)
    A = random_markov_matrix(1, T, gen);
  else
    A = key_query_matrix(X, d, kind == AttentionDraw::KeyQueryXavier ? xavier_std(d, d) : 1.0, gen);
  auto WV = torch::randn({d, d}, gen, torch::kFloat).to(torch::kDouble);  // W_V ~ N(0, 1)
  DrawResult r;
  r.scale = (A * double(T) - 1.0).pow(2).mean().sqrt().item<double>();
  const double root_t = std::sqrt(double(T));
  for (int g = 0; g < 2; ++g) {
    auto M = g ? remove_spectral_gap(A) : A;
    auto s = torch::linalg_svdvals(root_t * M[0]);  // descending
    auto ev = torch::linalg_eigvals(root_t * M[0]);
    auto modulus = ev.abs();
    auto order = std::get<1>(modulus.sort(0, /*descending=*/true));
    r.sigma1[g] = s[0].item<double>();
    r.sigma2[g] = s[1].item<double>();
    r.top_eig[g] = modulus.index_select(0, order)[0].item<double>();
    r.singular[g] = to_vector(s / r.scale);
    r.eig_re[g] = to_vector(torch::real(ev) / r.scale);
    r.eig_im[g] = to_vector(torch::imag(ev) / r.scale);
    // A: drop the outlier (largest); A⊥: drop the zero left by A⊥1 = 0 (smallest).
    const int64_t skip = g ? 0 : 1;
    r.bulk_singular[g] = to_vector(s.narrow(0, skip, T - 1) / r.scale);
    r.bulk_modulus[g] = to_vector(modulus.index_select(0, order).narrow(0, skip, T - 1) / r.scale);
    r.sr_matrix[g] = stable_rank(M);
    auto X1 = torch::matmul(M, torch::matmul(X, WV));  // A X₀ W_V: (1, T, d)
    r.sr_layer[g] = stable_rank(X1);
    r.gram_sr_layer[g] = gram_stable_rank(X1);
  }
  return r;
}

// sigprop's attention-only model in paper 003's form: one head, W_O = I, raw input.
ModelSpec depth_spec(const MarkovStudyOptions& o, const std::string& stack, bool gap_removed) {
  ModelSpec s;
  s.name = stack;
  s.depth = int(o.depth);
  s.width = int(std::max<int64_t>(o.depth_seq, std::llround(o.aspect * double(o.depth_seq))));
  s.heads = 1, s.mlp_width = 0;
  s.norm = stack.find("ln") != std::string::npos ? NormPlace::Post : NormPlace::None;
  s.residual.kind = stack.find("skip") != std::string::npos ? ResidualScale::Kind::Constant
                                                            : ResidualScale::Kind::None;
  s.attention = gap_removed ? "gap_removed" : "random_markov";
  s.attention_base = "random_markov";
  s.causal = false, s.positional = Positional::None, s.input = InputKind::Raw;
  s.max_seq = int(o.depth_seq);
  s.init = InitKind::Normal, s.init_std = 1.0 / std::sqrt(double(s.width));
  return s;
}

}  // namespace

std::string to_string(AttentionDraw k) {
  switch (k) {
    case AttentionDraw::RandomMarkov:
      return "random_markov";
    case AttentionDraw::KeyQueryXavier:
      return "kq_xavier";
    case AttentionDraw::KeyQueryGaussian:
      return "kq_normal";
  }
  return "?";
}

AttentionDraw parse_attention_draw(const std::string& name) {
  for (auto k : all_attention_draws())
    if (to_string(k) == name) return k;
  throw ConfigError("--kinds " + name +
                    " is not allowed: expected random_markov | kq_xavier | kq_normal");
}

const std::vector<AttentionDraw>& all_attention_draws() {
  static const std::vector<AttentionDraw> all = {
      AttentionDraw::RandomMarkov, AttentionDraw::KeyQueryXavier, AttentionDraw::KeyQueryGaussian};
  return all;
}

torch::Tensor isometric_rows(int64_t draws, int64_t T, int64_t d, at::Generator& gen) {
  auto Q = std::get<0>(torch::linalg_qr(torch::randn({draws, d, T}, gen, torch::kDouble)));
  return Q.transpose(1, 2).contiguous();  // (draws, T, d), orthonormal rows
}

torch::Tensor random_markov_matrix(int64_t draws, int64_t T, at::Generator& gen) {
  const double var = std::log(2.0);
  auto G = torch::randn({draws, T, T}, gen, torch::kDouble) * std::sqrt(var) - var / 2.0;
  return torch::softmax(G, -1);
}

torch::Tensor key_query_matrix(const torch::Tensor& X, int64_t d_k, double weight_std,
                               at::Generator& gen) {
  const int64_t d = X.size(-1);
  auto WQ = torch::randn({d, d_k}, gen, torch::kDouble) * weight_std;
  auto WK = torch::randn({d, d_k}, gen, torch::kDouble) * weight_std;
  auto logits = torch::matmul(torch::matmul(X, WQ), torch::matmul(X, WK).transpose(-2, -1));
  return torch::softmax(logits / std::sqrt(double(d_k)), -1);
}

torch::Tensor remove_spectral_gap(const torch::Tensor& A) { return A - 1.0 / double(A.size(-1)); }

double lognormal_bulk_scale(double logit_variance) { return std::sqrt(std::expm1(logit_variance)); }

void validate(const MarkovStudyOptions& o) {
  if (o.seqs.size() < 2)
    throw ConfigError("--seq needs at least two lengths T (a slope is fitted)");
  for (int64_t T : o.seqs)
    if (T < 4 || T > 4096)
      throw ConfigError(fmt::format("--seq {} is not allowed: expected 4 <= T <= 4096", T));
  if (o.draws < 1)
    throw ConfigError(fmt::format("--draws {} is not allowed: expected >= 1", o.draws));
  if (!(o.aspect >= 1.0 && o.aspect <= 64.0))
    throw ConfigError(fmt::format("--aspect {} is not allowed: expected d/T in [1, 64]", o.aspect));
  if (o.kinds.empty()) throw ConfigError("--kinds needs at least one kind");
  if (o.depth < 0 || o.depth > 1000)
    throw ConfigError(fmt::format("--depth {} is not allowed: expected 0 (skip) .. 1000", o.depth));
  if (o.depth_seq < 4 || o.depth_seq > 4096)
    throw ConfigError(fmt::format("--depth-seq {} is not allowed: expected 4..4096", o.depth_seq));
}

MarkovStudy run_markov_study(const MarkovStudyOptions& o,
                             const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  MarkovStudy study;
  study.options = o;
  struct Item {
    int64_t T;
    AttentionDraw kind;
    int64_t draw;
  };
  std::vector<Item> items;
  for (int64_t T : o.seqs)
    for (auto k : o.kinds)
      for (int64_t i = 0; i < o.draws; ++i) items.push_back({T, k, i});
  std::vector<DrawResult> results(items.size());
  for_each_chunk(int64_t(items.size()), 1, [&](int64_t i, int64_t, int64_t) {
    auto gen = chunk_generator(o.seed, i);
    results[i] = measure_draw(items[i].T, items[i].kind, o.aspect, gen);
  });
  const int total = int(o.seqs.size() * o.kinds.size()) + (o.depth > 0 ? 1 : 0);
  int done = 0;

  for (int64_t T : o.seqs) {
    for (auto kind : o.kinds) {
      const int64_t d = std::max<int64_t>(T, std::llround(o.aspect * double(T)));
      for (int g = 0; g < 2; ++g) {
        SpectrumRow row;
        row.T = T, row.kind = kind, row.gap_removed = g == 1;
        row.scale_theory = lognormal_bulk_scale(logit_variance(kind, d));
        std::vector<double> sv, mod;
        double n = 0;
        for (size_t i = 0; i < items.size(); ++i) {
          if (items[i].T != T || items[i].kind != kind) continue;
          const auto& r = results[i];
          row.sigma1 += r.sigma1[g], row.sigma2 += r.sigma2[g], row.top_eigenvalue += r.top_eig[g];
          row.scale += r.scale, row.sr_matrix += r.sr_matrix[g];
          row.sr_layer += r.sr_layer[g], row.gram_sr_layer += r.gram_sr_layer[g];
          sv.insert(sv.end(), r.bulk_singular[g].begin(), r.bulk_singular[g].end());
          mod.insert(mod.end(), r.bulk_modulus[g].begin(), r.bulk_modulus[g].end());
          if (items[i].draw == 0)
            study.samples.push_back({T, kind, g == 1, r.singular[g], r.eig_re[g], r.eig_im[g]});
          ++n;
        }
        for (double* f : {&row.sigma1, &row.sigma2, &row.top_eigenvalue, &row.scale, &row.sr_matrix,
                          &row.sr_layer, &row.gram_sr_layer})
          *f /= n;
        row.ks_quarter_circle =
            ks_one_sample(sv, [](double x) { return quarter_circle_cdf(x, 2.0); });
        row.ks_circular =
            ks_one_sample(mod, [](double x) { return circular_law_modulus_cdf(x, 1.0); });
        study.rows.push_back(row);
      }
      if (progress) progress(++done, total, fmt::format("T = {} {}", T, to_string(kind)));
    }
  }

  for (auto kind : o.kinds)
    for (bool gap : {false, true}) {
      std::vector<double> Ts, layer, matrix;
      for (const auto& r : study.rows)
        if (r.kind == kind && r.gap_removed == gap)
          Ts.push_back(double(r.T)), layer.push_back(r.sr_layer), matrix.push_back(r.sr_matrix);
      study.slopes.push_back({kind, gap, fit_line(Ts, layer), fit_line(Ts, matrix)});
    }

  if (o.depth > 0) {
    // Models are built serially (LibTorch's init draws from the global generator), run in parallel.
    struct Config {
      std::string stack;
      bool gap;
      Transformer model{nullptr};
    };
    std::vector<Config> configs;
    for (const char* stack : {"plain", "skip", "ln", "skip+ln"})
      for (bool gap : {false, true}) {
        torch::manual_seed(o.seed * 100 + configs.size());
        Config c{stack, gap, Transformer(depth_spec(o, stack, gap))};
        torch::NoGradGuard no_grad;
        for (const auto& m : *c.model->blocks)
          m->as<BlockImpl>()->attn->w_o->weight.copy_(torch::eye(c.model->spec.width));
        configs.push_back(std::move(c));
      }
    std::vector<std::vector<DepthRankRow>> rows(configs.size());
    for_each_chunk(int64_t(configs.size()), 1, [&](int64_t i, int64_t, int64_t) {
      auto& c = configs[i];
      auto gen = chunk_generator(o.seed + 7, i);
      const int64_t d = c.model->spec.width;
      auto X = (isometric_rows(2, o.depth_seq, d, gen) * std::sqrt(double(d))).to(torch::kFloat);
      ForwardTrace trace;
      c.model->forward(X, &trace);
      for (size_t l = 0; l < trace.hidden.size(); ++l)
        rows[i].push_back({c.stack, c.gap, int(l), stable_rank(trace.hidden[l]),
                           gram_stable_rank(trace.hidden[l])});
    });
    for (const auto& r : rows) study.depth_rows.insert(study.depth_rows.end(), r.begin(), r.end());
    if (progress) progress(++done, total, "depth study");
  }
  return study;
}

}  // namespace sigprop
