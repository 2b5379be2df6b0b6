// Probing a model at initialisation: one forward and one backward of the training loss on one
// batch, then the metrics of probe/metrics.h for every layer and the per-layer gradient norms.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/model_spec.h"
#include "probe/probe_input.h"

namespace sigprop {

struct LayerMetrics {
  int layer = 0;  // 0 = the embedded input, l = output of block l
  double cosine = 0, t_sim = 0, res = 0, stable_rank = 0, gram_stable_rank = 0;
  double centred_stable_rank = 0;  // sr((I − Π) X)
  // Attention of block `layer` and gradient norms of its weights (NaN for layer 0).
  double attn_sigma1 = 0, attn_sigma2 = 0, attn_lambda2 = 0, attn_entropy = 0;
  double grad_q = 0, grad_k = 0, grad_v = 0, grad_o = 0, grad_mlp = 0;
  double loss = 0;  // the training loss of the whole model (same on every row)
  // 1 when the layer's tokens, attention and gradient norms are finite; 0 marks an
  // overflowed layer, whose metrics are NaN.
  double finite = 1;
};

// The per-layer columns of probe.csv after `layer`, in order, by name: grad_q_over_v is derived
// (grad_q / grad_v) and has no member.
struct LayerMetricField {
  const char* name;
  double LayerMetrics::*member;  // nullptr for grad_q_over_v
};
const std::vector<LayerMetricField>& layer_metric_fields();
double layer_metric(const LayerMetrics& m, const LayerMetricField& f);

struct TransformerImpl;

// What the probe needs of one block besides its output: the gradient norms of its weights (NaN
// where a model has no such weight), after one backward of the loss.
struct BlockGradients {
  double q = NAN, k = NAN, v = NAN, o = NAN, mlp = NAN;
};

// The metrics of every layer of any traced model: `hidden` holds L+1 tensors (B, T, d) (the
// input to block 1, then each block's output), `attn` L attention matrices (B, H, T, T), or
// undefined where a block's A cannot be reached (its spectrum is then NaN), `grads` L entries.
// sigprop's own models and the Python front's hooks on foreign ones both come here.
std::vector<LayerMetrics> trace_metrics(const std::vector<torch::Tensor>& hidden,
                                        const std::vector<torch::Tensor>& attn,
                                        const std::vector<BlockGradients>& grads, double loss);

// The gradient norms of each block of sigprop's own model, after a backward.
std::vector<BlockGradients> block_gradients(TransformerImpl& model);

// One forward and backward of the training loss of `model` on `batch`, then the metrics of every
// layer: L+1 rows. Leaves the model's gradients zeroed, so it can be called during training.
std::vector<LayerMetrics> probe_model(TransformerImpl& model, const ProbeBatch& batch);

// Builds the model with torch seed `seed` and probes it at initialisation.
std::vector<LayerMetrics> probe_at_init(const ModelSpec& spec, const ProbeBatch& batch,
                                        uint64_t seed, const torch::Device& device);

struct ProbeRow {
  std::string preset;     // the preset's name, with any --set overrides: "post-ln[norm=pre]"
  std::string config_id;  // config_id(spec): the configuration, whatever its label
  int depth = 0, width = 0;
  uint64_t seed = 0;
  LayerMetrics m;
};

struct ProbePlan {
  std::vector<ModelSpec> specs;  // one per preset, depth and width left to `depths`
  std::vector<int> depths;
  std::vector<std::pair<std::string, int>> skip;  // (preset, depth) pairs left out
  std::vector<uint64_t> seeds;
  ProbeInput input = ProbeInput::KJV;
  int64_t seq = 64, batch = 8;
  torch::Device device = torch::kCPU;
};

// Runs every (spec, depth, seed); `progress(done, total, what)` is called after each model.
std::vector<ProbeRow> run_probe_plan(
    const ProbePlan& plan,
    const std::function<void(int, int, const std::string&)>& progress = nullptr);

// CSV with the columns of issue 2 (plus grad_q_over_v and loss), one row per ProbeRow.
std::string probe_csv(const std::vector<ProbeRow>& rows);

}  // namespace sigprop
