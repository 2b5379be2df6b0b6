#include "probe/probe_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/gnuplot.h"

namespace sigprop {
namespace {

// Presets in order of first appearance, so tables and legends follow the user's order.
std::vector<std::string> preset_order(const std::vector<ProbeRow>& rows) {
  std::vector<std::string> order;
  for (const auto& r : rows)
    if (std::find(order.begin(), order.end(), r.preset) == order.end()) order.push_back(r.preset);
  return order;
}

std::vector<double*> fields_of(LayerMetrics& m) {
  return {&m.cosine, &m.t_sim, &m.res, &m.stable_rank, &m.gram_stable_rank, &m.centred_stable_rank,
          &m.attn_sigma1, &m.attn_sigma2, &m.attn_lambda2, &m.attn_entropy,
          &m.grad_q, &m.grad_k, &m.grad_v, &m.grad_o, &m.grad_mlp, &m.loss};
}

double ratio(double a, double b) { return b > 0 ? a / b : std::nan(""); }

}  // namespace

std::vector<ProbeMean> average_over_seeds(const std::vector<ProbeRow>& rows) {
  const auto order = preset_order(rows);
  auto rank = [&](const std::string& p) { return std::find(order.begin(), order.end(), p) - order.begin(); };
  std::map<std::tuple<long, int, int>, ProbeMean> groups;
  for (const auto& r : rows) {
    auto& g = groups[{rank(r.preset), r.depth, r.m.layer}];
    if (g.seeds == 0) {
      g.preset = r.preset, g.depth = r.depth, g.layer = r.m.layer, g.m.layer = r.m.layer;
      for (double* f : fields_of(g.m)) *f = 0.0;
    }
    LayerMetrics m = r.m;
    auto src = fields_of(m), dst = fields_of(g.m);
    for (size_t i = 0; i < src.size(); ++i) *dst[i] += *src[i];  // NaN stays NaN
    ++g.seeds;
  }
  std::vector<ProbeMean> out;
  for (auto& [key, g] : groups) {
    for (double* f : fields_of(g.m)) *f /= g.seeds;
    out.push_back(g);
  }
  return out;
}

nlohmann::json probe_headline(const std::vector<ProbeRow>& rows) {
  double cosine = 0, t_sim = 0, res = 0, sr = 0, log_ratio = 0;
  int n = 0, n_ratio = 0;
  for (const auto& r : rows) {
    if (r.m.layer != r.depth) continue;
    cosine += r.m.cosine, t_sim += r.m.t_sim, res += r.m.res, sr += r.m.stable_rank, ++n;
    const double q = ratio(r.m.grad_q, r.m.grad_v);
    if (q > 0 && std::isfinite(q)) log_ratio += std::log(q), ++n_ratio;
  }
  if (n == 0) return nlohmann::json::object();
  return {{"final_cosine", cosine / n},
          {"final_t_sim", t_sim / n},
          {"final_res", res / n},
          {"final_stable_rank", sr / n},
          {"final_grad_q_over_v", n_ratio ? std::exp(log_ratio / n_ratio) : 0.0}};
}

std::string probe_summary_table(const std::vector<ProbeRow>& rows, bool by_cosine) {
  std::vector<ProbeMean> finals;
  for (const auto& g : average_over_seeds(rows))
    if (g.layer == g.depth) finals.push_back(g);
  if (by_cosine)
    std::stable_sort(finals.begin(), finals.end(),
                     [](const ProbeMean& a, const ProbeMean& b) { return a.m.cosine < b.m.cosine; });
  size_t w = 22;  // labels with overrides are longer than preset names
  for (const auto& g : finals) w = std::max(w, g.preset.size());
  std::string out =
      fmt::format("{:<{}} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>12} {:>8}\n", "preset", w, "depth",
                  "cosine", "t_sim", "res", "sr(X)", "sr(X-x̄)", "gq/gv last", "loss");
  for (const auto& g : finals) {
    out += fmt::format("{:<{}} {:>5} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.2f} {:>9.2f} {:>12.3e} {:>8.3f}\n",
                       g.preset, w, g.depth, g.m.cosine, g.m.t_sim, g.m.res, g.m.stable_rank,
                       g.m.centred_stable_rank, ratio(g.m.grad_q, g.m.grad_v), g.m.loss);
  }
  // An overflowed model is a result, named where it starts, not a silent NaN in the table.
  std::map<std::pair<std::string, int>, std::pair<int, uint64_t>> first;  // (preset, depth) -> (layer, seed)
  for (const auto& r : rows)
    if (r.m.finite == 0.0) {
      auto [it, fresh] = first.try_emplace({r.preset, r.depth}, r.m.layer, r.seed);
      if (!fresh && r.m.layer < it->second.first) it->second = {r.m.layer, r.seed};
    }
  for (const auto& [key, at] : first)
    out += fmt::format("warning: {} depth {}: not finite (inf or NaN) from layer {} on (seed {}); "
                       "its metrics from there are NaN (finite = 0 in probe.csv)\n",
                       key.first, key.second, at.first, at.second);
  return out;
}

std::string probe_plot_script(const std::vector<ProbeRow>& rows) {
  const auto order = preset_order(rows);
  const auto means = average_over_seeds(rows);
  int max_depth = 0;
  std::vector<int> depths;
  for (const auto& g : means) {
    max_depth = std::max(max_depth, g.depth);
    if (std::find(depths.begin(), depths.end(), g.depth) == depths.end()) depths.push_back(g.depth);
  }
  const bool by_depth = depths.size() > 1;

  std::string script, layer_plot, ratio_plot, depth_plot;
  for (size_t i = 0; i < order.size(); ++i) {
    std::string by_layer, final_by_depth;
    for (const auto& g : means) {
      if (g.preset != order[i]) continue;
      if (g.depth == max_depth)
        by_layer += fmt::format("{} {:.8g} {:.8g}\n", g.layer, g.m.cosine, ratio(g.m.grad_q, g.m.grad_v));
      if (g.layer == g.depth) final_by_depth += fmt::format("{} {:.8g}\n", g.depth, g.m.cosine);
    }
    script += gnuplot_datablock(fmt::format("L{}", i), by_layer);
    script += gnuplot_datablock(fmt::format("D{}", i), final_by_depth);
    const std::string sep = i ? ", " : "";
    const std::string style = fmt::format("title '{}' with linespoints lw 2 {} {}", gnuplot_text(order[i]),
                                          series_style(i), series_marker(i));
    layer_plot += fmt::format("{}$L{} using 1:2 {}", sep, i, style);
    ratio_plot += fmt::format("{}$L{} using 1:3 {}", sep, i, style);
    depth_plot += fmt::format("{}$D{} using 1:2 {}", sep, i, style);
  }
  script += fmt::format("set multiplot layout 1,{}\n", by_depth ? 3 : 2);
  // Many series: one legend, outside on the right of the last panel; few: inside each panel.
  const bool many = order.size() > 4;
  script += many ? "set grid\nunset key\n" : "set grid\nset key bottom right box opaque\n";
  script += fmt::format(
      "set title 'Token cosine similarity at init (depth {})'\nset xlabel 'layer'\n"
      "set ylabel 'mean pairwise cosine'\nset yrange [-0.05:1.05]\nplot {}\n",
      max_depth, layer_plot);
  script += fmt::format(
      "set title 'Query vs value gradient (depth {})'\nset ylabel '|grad W_Q| / |grad W_V|'\n"
      "set logscale y\nset format y '10^{{%L}}'\nset autoscale y\nset xrange [1:*]\n"
      "{}plot {}\n"
      "unset logscale y\nset format y '%g'\nset xrange [*:*]\n{}",
      max_depth, many ? (by_depth ? "" : "set key outside right top box\n") : "set key bottom left\n",
      ratio_plot, many ? "" : "set key bottom right\n");
  if (by_depth)
    script += fmt::format(
        "set title 'Final-layer cosine against depth'\nset xlabel 'depth L'\nset logscale x 2\n"
        "set ylabel 'mean pairwise cosine at layer L'\nset yrange [-0.05:1.05]\n{}plot {}\n",
        many ? "set key outside right top box\n" : "", depth_plot);
  script += "unset multiplot\n";
  return script;
}

}  // namespace sigprop
