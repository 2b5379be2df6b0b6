// Human-facing views of probe results: the stdout table and the gnuplot figure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "probe/probe.h"

namespace sigprop {

// Mean over seeds of one (preset, depth, layer).
struct ProbeMean {
  std::string preset;
  int depth = 0, layer = 0;
  LayerMetrics m;  // seed means; NaN-aware
  int seeds = 0;
};
std::vector<ProbeMean> average_over_seeds(const std::vector<ProbeRow>& rows);

// Final-layer means over everything probed (for sweeps' results tables): cosine, t_sim, res,
// stable_rank, grad_q_over_v.
nlohmann::json probe_headline(const std::vector<ProbeRow>& rows);

// Final-layer metrics per (preset, depth): in the order probed, or by final-layer cosine.
std::string probe_summary_table(const std::vector<ProbeRow>& rows, bool by_cosine = false);

// Figure: (a) cosine vs layer and (b) |grad W_Q| / |grad W_V| vs layer at the largest depth,
// one curve per preset; (c) final-layer cosine vs depth when several depths were probed.
std::string probe_plot_script(const std::vector<ProbeRow>& rows);

}  // namespace sigprop
