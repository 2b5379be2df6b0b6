#include "probe/probe.h"

#include <algorithm>

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/spec_io.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/kjv.h"
#include "model/transformer.h"
#include "probe/metrics.h"

namespace sigprop {
namespace {

double grad_norm(const Linear& lin) {
  auto g = lin->weight.grad();
  return g.defined() ? g.norm().item<double>() : 0.0;
}

}  // namespace

std::vector<LayerMetrics> probe_at_init(const ModelSpec& spec, const ProbeBatch& batch,
                                        uint64_t seed, const torch::Device& device) {
  torch::manual_seed(seed);
  Transformer model(spec);
  model->to(device);
  return probe_model(*model, batch);
}

std::vector<LayerMetrics> trace_metrics(const std::vector<torch::Tensor>& hidden,
                                        const std::vector<torch::Tensor>& attn,
                                        const std::vector<BlockGradients>& grads, double loss) {
  const int depth = int(hidden.size()) - 1;
  if (depth < 0 || attn.size() != size_t(depth) || grads.size() != size_t(depth))
    throw ConfigError(fmt::format("a probe trace needs L+1 hidden states and L attention matrices "
                                  "and gradients; got {}, {} and {}",
                                  hidden.size(), attn.size(), grads.size()));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<LayerMetrics> rows(depth + 1);
  // The layers' metrics are independent small linear-algebra problems (LAPACK runs each batch of
  // them serially): one layer per task keeps every core busy.
  for_each_chunk(depth + 1, 1, [&](int64_t layer, int64_t, int64_t) {
    const int l = int(layer);
    LayerMetrics& r = rows[l];
    r.layer = l;
    r.loss = loss;
    // An overflowed layer (inf or NaN in its tokens or attention) has no spectrum to take: its
    // metrics are NaN and the row says `finite = 0`, rather than the eigensolver failing.
    const auto finite = [](const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); };
    r.finite = finite(hidden[l]) ? 1.0 : 0.0;
    r.cosine = r.t_sim = r.res = r.stable_rank = r.gram_stable_rank = r.centred_stable_rank = nan;
    if (r.finite == 1.0) {
      const auto tokens = token_metrics(hidden[l]);
      r.cosine = tokens.cosine;
      r.t_sim = tokens.t_sim;
      r.res = tokens.res;
      r.stable_rank = tokens.stable_rank;
      r.gram_stable_rank = tokens.gram_stable_rank;
      r.centred_stable_rank = tokens.centred_stable_rank;
    }
    r.attn_sigma1 = r.attn_sigma2 = r.attn_lambda2 = r.attn_entropy = nan;
    if (l == 0) {
      r.grad_q = r.grad_k = r.grad_v = r.grad_o = r.grad_mlp = nan;
      return;
    }
    const auto& g = grads[l - 1];
    for (double v : {g.q, g.k, g.v, g.o, g.mlp})
      if (std::isinf(v)) r.finite = 0.0;  // NaN there means "no such weight"
    if (attn[l - 1].defined() && !finite(attn[l - 1])) r.finite = 0.0;
    else if (attn[l - 1].defined()) {
      const auto spectrum = attention_spectrum(attn[l - 1]);
      r.attn_sigma1 = spectrum.sigma1;
      r.attn_sigma2 = spectrum.sigma2;
      r.attn_lambda2 = spectrum.lambda2;
      r.attn_entropy = spectrum.entropy;
    }
    r.grad_q = g.q, r.grad_k = g.k, r.grad_v = g.v, r.grad_o = g.o, r.grad_mlp = g.mlp;
  });
  return rows;
}

std::vector<BlockGradients> block_gradients(TransformerImpl& model) {
  std::vector<BlockGradients> grads;
  for (const auto& m : *model.blocks) {
    auto* block = m->as<BlockImpl>();
    BlockGradients g;
    g.q = grad_norm(block->attn->w_q), g.k = grad_norm(block->attn->w_k);
    g.v = grad_norm(block->attn->w_v), g.o = grad_norm(block->attn->w_o);
    if (block->mlp) g.mlp = std::hypot(grad_norm(block->mlp->fc1), grad_norm(block->mlp->fc2));
    grads.push_back(g);
  }
  return grads;
}

std::vector<LayerMetrics> probe_model(TransformerImpl& model, const ProbeBatch& batch) {
  const ModelSpec& spec = model.spec;
  const auto device = model.parameters().front().device();
  model.zero_grad();
  ForwardTrace trace;
  auto out = model.forward(batch.input.to(device), &trace);
  auto loss = training_loss(spec, out, batch.target.to(device));
  loss.backward();
  auto rows = trace_metrics(trace.hidden, trace.attn, block_gradients(model), loss.item<double>());
  model.zero_grad();
  return rows;
}

std::vector<ProbeRow> run_probe_plan(
    const ProbePlan& plan, const std::function<void(int, int, const std::string&)>& progress) {
  std::unique_ptr<CharCorpus> corpus;
  if (plan.input == ProbeInput::KJV) corpus = std::make_unique<CharCorpus>(load_kjv());
  const int64_t vocab = corpus ? static_cast<int64_t>(corpus->vocab.size()) : 0;

  std::vector<ProbeRow> rows;
  const int total = int((plan.specs.size() * plan.depths.size() - plan.skip.size()) * plan.seeds.size());
  int done = 0;
  for (uint64_t seed : plan.seeds) {
    for (const auto& base : plan.specs) {
      for (int depth : plan.depths) {
        if (std::find(plan.skip.begin(), plan.skip.end(), std::make_pair(base.name, depth)) != plan.skip.end())
          continue;
        ModelSpec spec = base;
        spec.depth = depth;
        spec = spec_for_probe_input(spec, plan.input, plan.seq, vocab);
        const auto batch =
            make_probe_batch(plan.input, spec.width, plan.batch, plan.seq, seed, corpus.get());
        for (const auto& m : probe_at_init(spec, batch, seed, plan.device))
          rows.push_back({spec.name, config_id(spec), depth, spec.width, seed, m});
        if (progress)
          progress(++done, total, fmt::format("{} depth {} seed {}", spec.name, depth, seed));
      }
    }
  }
  return rows;
}

const std::vector<LayerMetricField>& layer_metric_fields() {
  using M = LayerMetrics;
  static const std::vector<LayerMetricField> fields = {
      {"cosine", &M::cosine},
      {"t_sim", &M::t_sim},
      {"res", &M::res},
      {"stable_rank", &M::stable_rank},
      {"gram_stable_rank", &M::gram_stable_rank},
      {"centred_stable_rank", &M::centred_stable_rank},
      {"attn_sigma1", &M::attn_sigma1},
      {"attn_sigma2", &M::attn_sigma2},
      {"attn_lambda2", &M::attn_lambda2},
      {"attn_entropy", &M::attn_entropy},
      {"grad_q", &M::grad_q},
      {"grad_k", &M::grad_k},
      {"grad_v", &M::grad_v},
      {"grad_o", &M::grad_o},
      {"grad_mlp", &M::grad_mlp},
      {"grad_q_over_v", nullptr},
      {"loss", &M::loss},
      {"finite", &M::finite},
  };
  return fields;
}

double layer_metric(const LayerMetrics& m, const LayerMetricField& f) {
  return f.member ? m.*f.member : m.grad_q / m.grad_v;
}

std::string probe_csv(const std::vector<ProbeRow>& rows) {
  std::ostringstream out;
  out << "preset,depth,width,seed,layer";
  for (const auto& f : layer_metric_fields()) out << ',' << f.name;
  out << ",config_id\n";
  for (const auto& r : rows) {
    out << fmt::format("{},{},{},{},{}", r.preset, r.depth, r.width, r.seed, r.m.layer);
    for (const auto& f : layer_metric_fields()) {
      const double v = layer_metric(r.m, f);
      out << ',' << (std::isnan(v) ? std::string("nan") : fmt::format("{:.6g}", v));  // never "-nan"
    }
    out << ',' << r.config_id << '\n';
  }
  return out.str();
}

}  // namespace sigprop
