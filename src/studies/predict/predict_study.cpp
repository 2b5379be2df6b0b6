#include "studies/predict/predict_study.h"

#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "data/kjv.h"
#include "model/transformer.h"
#include "probe/probe.h"

namespace sigprop {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<double> log_space(double lo, double hi, int n) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = n == 1 ? lo : lo * std::pow(hi / lo, double(i) / (n - 1));
  return v;
}

double log10_ratio(double q, double v) { return std::log10(q / v); }

// The probe's batch of each seed 0..n-1: the prediction averages over the same sequences as the
// probe's seeds.
std::vector<ProbeBatch> seed_batches(const PredictStudyOptions& o, const ModelSpec& spec, const CharCorpus* corpus) {
  std::vector<ProbeBatch> batches;
  for (int s = 0; s < o.seeds; ++s)
    batches.push_back(make_probe_batch(o.input, spec.width, o.batch, o.seq, uint64_t(s), corpus));
  return batches;
}

ProbeBatch concatenated(const std::vector<ProbeBatch>& batches) {
  std::vector<torch::Tensor> inputs, targets;
  for (const auto& b : batches) inputs.push_back(b.input), targets.push_back(b.target);
  return {torch::cat(inputs), torch::cat(targets)};
}

std::vector<MeasuredLayer> measure(const ModelSpec& spec, const std::vector<ProbeBatch>& batches) {
  const int L = spec.depth, seeds = int(batches.size());
  std::vector<std::vector<LayerMetrics>> runs;
  for (int s = 0; s < seeds; ++s) runs.push_back(probe_at_init(spec, batches[s], uint64_t(s), torch::kCPU));
  std::vector<MeasuredLayer> out(L + 1);
  for (int l = 0; l <= L; ++l) {
    std::vector<double> cos, ratio;
    auto& m = out[l];
    for (const auto& r : runs) {
      cos.push_back(r[l].cosine);
      m.t_sim += r[l].t_sim / seeds;
      m.entropy += r[l].attn_entropy / seeds;
      m.lambda2 += r[l].attn_lambda2 / seeds;
      if (l > 0) ratio.push_back(log10_ratio(r[l].grad_q, r[l].grad_v));
    }
    const auto mean_sd = [](const std::vector<double>& x, double& mean, double& sd) {
      mean = 0, sd = 0;
      for (double v : x) mean += v / double(x.size());
      for (double v : x) sd += (v - mean) * (v - mean) / double(std::max<size_t>(1, x.size() - 1));
      sd = std::sqrt(sd);
    };
    mean_sd(cos, m.cosine, m.cosine_sd);
    if (l > 0) mean_sd(ratio, m.log10_ratio, m.log10_ratio_sd);  // NaN/∞ where a norm is 0
  }
  return out;
}

// A map varies the branch weight α of X + α·f(X) and scales W_Q: refused, before any work, for a
// spec whose skip is weighted too, and (its check) where QK-norm undoes W_Q's scale.
void check_mappable(const ModelSpec& spec, const PredictStudyOptions& o) {
  using Kind = ResidualScale::Kind;
  const Kind kind = spec.residual.kind;
  if (kind == Kind::None || kind == Kind::LambdaGamma || kind == Kind::DeepNorm)
    throw ConfigError("predict --map varies α in X + α·f(X); " + spec.name + "'s model.residual = \"" +
                      spec.residual.to_string() + "\" weighs the stream too (allowed: a number, "
                      "1/sqrt(L), 1/L, layerscale, rezero)");
  if (o.map_check > 0 && spec.qk_norm)
    throw ConfigError("predict --map-check scales W_Q to move the logits, which QK-norm undoes (" +
                      spec.name + " has model.qk_norm = true): leave --map-check out");
}

PredictMap predict_map(ModelSpec spec, const PredictStudyOptions& o, const CharCorpus* corpus, int64_t vocab) {
  spec = spec_for_probe_input(spec, o.input, o.map_seq, vocab);
  const auto batch = make_probe_batch(o.input, spec.width, 1, o.map_seq, o.predict.seed, corpus);
  const int n = o.map_size, L = spec.depth;
  PredictMap map;
  map.spec = spec.name, map.depth = L;
  map.alphas = log_space(o.alpha_min, o.alpha_max, n);
  map.logits = log_space(o.logit_min, o.logit_max, n);
  const auto start = Clock::now();
  // n·n cells, then n more at logit multiplier 1 for the depth × α map.
  const int64_t S = int64_t(n) * n + n;
  std::vector<double> branch(S), logit(S);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) branch[i * n + j] = map.alphas[i], logit[i * n + j] = map.logits[j];
    branch[n * n + i] = map.alphas[i], logit[n * n + i] = 1.0;
  }
  PredictOptions p = o.predict;
  p.paths = o.map_paths;
  const auto trace = predict_trace(spec, repeat_first(kernel_input(spec, batch), S),
                                   {torch::tensor(branch, torch::kFloat64), torch::tensor(logit, torch::kFloat64)}, p);
  const auto ratio = (0.5 * (trace.grad_q2 / trace.grad_v2).log10()).mean(0);  // mean over blocks
  // Uniform attention's mean row entropy: log T, or for a causal mask the mean of log(i) over
  // rows i = 1..T. An entropy ratio of 1 is uniform attention, 0 one-hot.
  double uniform = 0;
  for (int i = 1; i <= o.map_seq; ++i) uniform += std::log(double(spec.causal ? i : o.map_seq)) / o.map_seq;
  map.cosine.assign(n, std::vector<double>(n)), map.entropy = map.cosine, map.log10_ratio = map.cosine;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      map.cosine[i][j] = trace.cosine[L][i * n + j].item<double>();
      map.entropy[i][j] = trace.entropy[L - 1][i * n + j].item<double>() / uniform;
      map.log10_ratio[i][j] = ratio[i * n + j].item<double>();
    }
  for (int l = 0; l <= L; ++l) {
    map.depth_cosine.emplace_back(n);
    for (int i = 0; i < n; ++i) map.depth_cosine[l][i] = trace.cosine[l][n * n + i].item<double>();
  }
  map.seconds = since(start);

  // The check: the same cells probed, W_Q scaled by the logit multiplier.
  const auto check_start = Clock::now();
  for (int a = 0; a < o.map_check; ++a)
    for (int b = 0; b < o.map_check; ++b) {
      const int i = o.map_check == 1 ? n / 2 : a * (n - 1) / (o.map_check - 1);
      const int j = o.map_check == 1 ? n / 2 : b * (n - 1) / (o.map_check - 1);
      ModelSpec s = spec;
      s.width = o.map_check_width;
      s.residual = ResidualScale{ResidualScale::Kind::Constant, map.alphas[i]};
      torch::manual_seed(o.predict.seed);
      Transformer model(s);
      {
        torch::NoGradGuard no_grad;
        for (const auto& m : *model->blocks) m->as<BlockImpl>()->attn->w_q->weight.mul_(map.logits[j]);
      }
      const auto rows = probe_model(*model, batch);
      MapCheck c;
      c.alpha = map.alphas[i], c.logit = map.logits[j];
      c.predicted_cosine = map.cosine[i][j], c.measured_cosine = rows.back().cosine;
      c.predicted_log10_ratio = map.log10_ratio[i][j];
      double sum = 0;
      for (int l = 1; l <= L; ++l) sum += log10_ratio(rows[l].grad_q, rows[l].grad_v) / L;
      c.measured_log10_ratio = sum;
      map.checks.push_back(c);
    }
  map.check_seconds = since(check_start);
  return map;
}

}  // namespace

void validate(const PredictStudyOptions& o) {
  validate(o.predict);
  const auto need = [](bool ok, const std::string& what) {
    if (!ok) throw ConfigError("predict: " + what);
  };
  need(!o.specs.empty(), "no model to predict");
  need(o.seq >= 2, "--seq must be >= 2");
  need(o.batch >= 1, "--batch must be >= 1");
  need(o.seeds >= 1, "--seeds must be >= 1");
  for (int w : o.compare_widths) need(w >= 1, "--widths must be >= 1 each");
  need(o.map_size >= 2 && o.map_size <= 200, "--map-size must be in 2..200");
  need(o.map_seq >= 2, "--map-seq must be >= 2");
  need(o.map_paths >= 1, "--map-paths must be >= 1");
  need(o.alpha_min > 0 && o.alpha_max > o.alpha_min, "--alpha-range must be 0 < lo < hi");
  need(o.logit_min > 0 && o.logit_max > o.logit_min, "--logit-range must be 0 < lo < hi");
  need(o.map_check >= 0 && o.map_check <= o.map_size, "--map-check must be in 0..--map-size");
  need(o.map_check_width >= 1, "--map-check-width must be >= 1");
  for (const auto& spec : o.specs) {
    if (const auto why = unpredictable(spec); !why.empty()) throw ConfigError(why);
    if (o.map) check_mappable(spec, o);
  }
}

PredictStudy run_predict_study(const PredictStudyOptions& o,
                               const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  std::unique_ptr<CharCorpus> corpus;
  if (o.input == ProbeInput::KJV) corpus = std::make_unique<CharCorpus>(load_kjv());
  const int64_t vocab = corpus ? int64_t(corpus->vocab.size()) : 0;
  PredictStudy study;
  const auto widths = o.compare_widths.empty() ? std::vector<int>{0} : o.compare_widths;
  const int total = int(o.specs.size() * (widths.size() + (o.map ? 1 : 0)));
  int done = 0;
  for (const auto& base : o.specs) {
    for (int width : widths) {
      ModelSpec spec = base;
      if (width > 0) spec.width = width;
      spec = spec_for_probe_input(spec, o.input, o.seq, vocab);
      PredictCurve c;
      c.spec = spec.name, c.depth = spec.depth, c.width = spec.width;
      c.skips = spec.residual.kind != ResidualScale::Kind::None;
      auto start = Clock::now();
      const auto batches = seed_batches(o, spec, corpus.get());
      c.predicted = predict_layers(spec, kernel_input(spec, concatenated(batches)), o.predict);
      c.predict_seconds = since(start);
      if (width > 0) {
        start = Clock::now();
        c.measured = measure(spec, batches);
        c.probe_seconds = since(start);
      }
      study.curves.push_back(std::move(c));
      if (progress) progress(++done, total, fmt::format("{} width {}", spec.name, spec.width));
    }
    if (o.map) {
      study.maps.push_back(predict_map(base, o, corpus.get(), vocab));
      if (progress) progress(++done, total, fmt::format("{} map", base.name));
    }
  }
  return study;
}

}  // namespace sigprop
