// The benchmark's workloads (issue 7): training steps of named presets at fixed sizes, run once by
// sigprop and once by the PyTorch peer (bench/peer.py) on the same weights and batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model_spec.h"

namespace sigprop {

// What a case times: training steps (a-c), a whole `probe --compare` (d), the finite shaped
// networks of `theory sde` (e); and the Python front (bench/python_front.py): forward + backward
// of one sigprop.nn attention module against the same module in eager PyTorch (nn-*), and
// sigprop.probe of an nn.TransformerEncoder against the metrics by their definitions (py-probe).
enum class BenchKind { Train, Probe, Sde, PythonAttention, PythonProbe };

struct BenchCase {
  std::string id;           // a .. e
  std::string description;  // what a reader of the table needs
  BenchKind kind = BenchKind::Train;
  ModelSpec spec;            // Train: the model; Probe: width and depth of every preset
  int64_t batch = 0, seq = 0;
  int warmup = 0, steps = 0;  // Train: untimed, then timed training steps per process
  int seeds = 0;              // Probe: seeds 0 .. seeds-1 of every preset
  int64_t networks = 0;       // Sde: finite networks of width spec.width, depth spec.depth
  std::string variant;        // PythonAttention: the attention variant
};

// The cases of issue 7; `quick` (CI smoke mode) shrinks the timed steps of a-c and the work of d
// and e, so that the harness runs end to end in seconds.
std::vector<BenchCase> bench_cases(bool quick);
const BenchCase& find_bench_case(const std::vector<BenchCase>& cases, const std::string& id);
// The cases `ids` names (comma-separated ids; "nn" stands for every nn-* case).
std::vector<BenchCase> select_bench_cases(const std::vector<BenchCase>& cases, const std::string& ids);

// Model FLOPs of one training step per token: 6 N (N = weights of every matrix product, the
// embeddings excluded) + 12 L T d for the two T x T attention products, forward and backward
// (Kaplan et al. 2020 / PaLM's accounting; the causal mask is materialised, so no halving).
double training_flops_per_token(const ModelSpec& spec, int64_t seq);

}  // namespace sigprop
