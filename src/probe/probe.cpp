#include "probe/probe.h"

#include <algorithm>

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/spec_io.h"
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

std::vector<LayerMetrics> probe_model(TransformerImpl& model, const ProbeBatch& batch) {
  const ModelSpec& spec = model.spec;
  const auto device = model.parameters().front().device();
  model.zero_grad();
  ForwardTrace trace;
  auto out = model.forward(batch.input.to(device), &trace);
  auto loss = training_loss(spec, out, batch.target.to(device));
  loss.backward();

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double loss_value = loss.item<double>();
  std::vector<LayerMetrics> rows(spec.depth + 1);
  // The layers' metrics are independent small linear-algebra problems (LAPACK runs each batch of
  // them serially): one layer per task keeps every core busy.
  for_each_chunk(spec.depth + 1, 1, [&](int64_t layer, int64_t, int64_t) {
    const int l = int(layer);
    LayerMetrics& r = rows[l];
    r.layer = l;
    r.loss = loss_value;
    const auto tokens = token_metrics(trace.hidden[l]);
    r.cosine = tokens.cosine;
    r.t_sim = tokens.t_sim;
    r.res = tokens.res;
    r.stable_rank = tokens.stable_rank;
    r.gram_stable_rank = tokens.gram_stable_rank;
    r.centred_stable_rank = tokens.centred_stable_rank;
    if (l == 0) {
      r.attn_sigma1 = r.attn_sigma2 = r.attn_lambda2 = r.attn_entropy = nan;
      r.grad_q = r.grad_k = r.grad_v = r.grad_o = r.grad_mlp = nan;
      return;
    }
    const auto spectrum = attention_spectrum(trace.attn[l - 1]);
    r.attn_sigma1 = spectrum.sigma1;
    r.attn_sigma2 = spectrum.sigma2;
    r.attn_lambda2 = spectrum.lambda2;
    r.attn_entropy = spectrum.entropy;
    auto* block = model.blocks[l - 1]->as<BlockImpl>();
    r.grad_q = grad_norm(block->attn->w_q);
    r.grad_k = grad_norm(block->attn->w_k);
    r.grad_v = grad_norm(block->attn->w_v);
    r.grad_o = grad_norm(block->attn->w_o);
    r.grad_mlp = block->mlp ? std::hypot(grad_norm(block->mlp->fc1), grad_norm(block->mlp->fc2))
                            : nan;
  });
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

std::string probe_csv(const std::vector<ProbeRow>& rows) {
  std::ostringstream out;
  out << "preset,depth,width,seed,layer,cosine,t_sim,res,stable_rank,gram_stable_rank,"
         "centred_stable_rank,attn_sigma1,attn_sigma2,attn_lambda2,attn_entropy,grad_q,grad_k,grad_v,grad_o,"
         "grad_mlp,grad_q_over_v,loss,config_id\n";
  for (const auto& r : rows) {
    const auto& m = r.m;
    out << fmt::format("{},{},{},{},{}", r.preset, r.depth, r.width, r.seed, m.layer);
    for (double v : {m.cosine, m.t_sim, m.res, m.stable_rank, m.gram_stable_rank,
                     m.centred_stable_rank, m.attn_sigma1,
                     m.attn_sigma2, m.attn_lambda2, m.attn_entropy, m.grad_q, m.grad_k, m.grad_v,
                     m.grad_o, m.grad_mlp, m.grad_q / m.grad_v, m.loss})
      out << ',' << fmt::format("{:.6g}", v);
    out << ',' << r.config_id << '\n';
  }
  return out.str();
}

}  // namespace sigprop
