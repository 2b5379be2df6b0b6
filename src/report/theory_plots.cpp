#include "report/theory_plots.h"

#include <algorithm>

#include <fmt/format.h>

#include "report/gnuplot.h"
#include "theory/stats.h"

namespace sigprop {
namespace {

// A datablock of columns x, y1, y2, ... (same length), one row per x.
std::string columns_block(const std::string& name, const std::vector<double>& x,
                          const std::vector<std::vector<double>>& ys) {
  std::string rows;
  for (size_t i = 0; i < x.size(); ++i) {
    rows += fmt::format("{:.8g}", x[i]);
    for (const auto& y : ys) rows += fmt::format(" {:.8g}", y[i]);
    rows += '\n';
  }
  return gnuplot_datablock(name, rows);
}

}  // namespace

std::string sde_plot_script(const SdeStudy& s) {
  const int bins = 40;
  std::vector<double> centers;
  for (int b = 0; b < bins; ++b) centers.push_back(-1.0 + (b + 0.5) * 2.0 / bins);
  const std::string head = headline_series(s.options, s.options.widths.front());
  const std::string soft = fmt::format("softmax n={} gram", s.options.widths.front());
  const std::vector<std::string> names = {"sde", "sde-no-attention", head, soft};
  std::vector<std::vector<double>> dens;
  double ymax = 0;
  for (const auto& n : names) {
    dens.push_back(histogram_density(s.find(n).final_rho, -1.0, 1.0, bins));
    if (n != soft) ymax = std::max(ymax, *std::max_element(dens.back().begin(), dens.back().end()));
  }
  std::string script = columns_block("H", centers, dens);
  std::string depth_plot;
  for (size_t i = 0; i < s.series.size(); ++i) {
    const auto& c = s.series[i];
    script += columns_block(fmt::format("D{}", i), c.t, {c.mean_rho});
    const std::string style = c.kind == "sde"                ? "lw 3 lc rgb '#000000'"
                              : c.kind == "sde-no-attention" ? "lw 2 dt 2 lc rgb '#555555'"
                              : c.kind == "softmax"          ? "lw 2 lc rgb '#d62728'"
                                                             : fmt::format("lw 1.5 lc {}", i);
    depth_plot += fmt::format("{}$D{} using 1:2 with lines {} title '{}'", i ? ", " : "", i, style,
                              gnuplot_text(c.name));
  }
  const auto& o = s.options;
  script += "set multiplot layout 1,2\nset grid\nset key top left box opaque\n";
  script += fmt::format(
      "set title 'Final-layer correlation at t = {:.3g} (gamma {:.3g}, tau0 {:.3g}, rho0 {:.3g})'\n"
      "set xlabel 'rho_{{01}}'\nset ylabel 'density'\nset xrange [-1:1]\nset yrange [0:{:.4g}]\n"
      "set style fill transparent solid 0.35 noborder\nset boxwidth {:.6g}\n",
      o.horizon, o.params.gamma, o.params.tau0, o.rho0, 1.35 * ymax, 2.0 / bins);
  script += fmt::format(
      "plot $H using 1:4 with boxes lc rgb '#1f77b4' title '{}', "
      "$H using 1:5 with boxes lc rgb '#d62728' title '{} (mass at 1, clipped)', "
      "$H using 1:2 with histeps lw 3 lc rgb '#000000' title 'SDE', "
      "$H using 1:3 with histeps lw 2 dt 2 lc rgb '#555555' title 'SDE without attention terms'\n",
      gnuplot_text(head), gnuplot_text(soft));
  script +=
      "set title 'Mean pairwise correlation against depth'\nset xlabel 't = layer / width'\n"
      "set ylabel 'mean rho'\nset key center right\nset xrange [*:*]\nset yrange [*:1.05]\n";
  script += "plot " + depth_plot + "\nunset multiplot\n";
  return script;
}

std::string markov_plot_script(const MarkovStudy& s) {
  const int64_t T = s.options.seqs.back();
  std::string script, hist_plot, eig_plot, sr_plot, depth_plot;
  // (a) histograms of the first draw's bulk singular values at the largest T.
  const int bins = 30;
  const double hi = 3.0;
  std::vector<double> centers;
  for (int b = 0; b < bins; ++b) centers.push_back((b + 0.5) * hi / bins);
  std::vector<std::vector<double>> dens;
  std::vector<std::string> names;
  double outlier = 0;
  for (const auto& v : s.samples) {
    if (v.T != T) continue;
    if (v.gap_removed && v.kind != AttentionDraw::RandomMarkov) continue;
    std::vector<double> bulk(v.singular.begin() + (v.gap_removed ? 0 : 1),
                             v.singular.end() - (v.gap_removed ? 1 : 0));
    dens.push_back(histogram_density(bulk, 0.0, hi, bins));
    names.push_back(to_string(v.kind) + (v.gap_removed ? " A⊥" : " A"));
    if (v.kind == AttentionDraw::RandomMarkov && !v.gap_removed) outlier = v.singular.front();
  }
  script += columns_block("H", centers, dens);
  for (size_t i = 0; i < names.size(); ++i)
    hist_plot += fmt::format("$H using 1:{} with histeps lw 2 dt {} lc {} title '{}', ", i + 2,
                             i + 1, i + 1, gnuplot_text(names[i]));  // dashes: overlapping steps stay visible
  hist_plot +=
      "x <= 2 ? sqrt(4 - x*x) / pi : 0 with lines lw 3 dt 2 lc rgb '#000000' title 'quarter "
      "circle'";
  // (b) eigenvalues of the first random-Markov draw at the largest T.
  for (const auto& v : s.samples) {
    if (v.T != T || v.kind != AttentionDraw::RandomMarkov) continue;
    std::string rows;
    for (size_t i = 0; i < v.eig_re.size(); ++i)
      rows += fmt::format("{:.6g} {:.6g}\n", v.eig_re[i], v.eig_im[i]);
    const std::string name = v.gap_removed ? "EP" : "EA";
    script += gnuplot_datablock(name, rows);
    eig_plot += fmt::format("${} using 1:2 with points pt {} ps {} lc rgb '{}' title '{}', ", name,
                            v.gap_removed ? 6 : 7, v.gap_removed ? 0.9 : 0.4,
                            v.gap_removed ? "#d62728" : "#1f77b4",
                            v.gap_removed ? "A⊥ (outlier → 0)" : "A");
  }
  eig_plot += "cos(t), sin(t) with lines lw 2 lc rgb '#000000' title 'circular law |z| = 1'";
  // (c) stable rank after one layer against T.
  int idx = 0;
  for (auto kind : s.options.kinds)
    for (bool gap : {false, true}) {
      std::string rows;
      for (const auto& r : s.rows)
        if (r.kind == kind && r.gap_removed == gap)
          rows += fmt::format("{} {:.6g}\n", r.T, r.sr_layer);
      const std::string name = fmt::format("S{}", idx);
      script += gnuplot_datablock(name, rows);
      for (const auto& f : s.slopes)
        if (f.kind == kind && f.gap_removed == gap)
          sr_plot += fmt::format(
              "${} using 1:2 with points pt {} ps 1.2 lc {} title '{} {}: slope {:.3f}', "
              "{:.6g} + {:.6g}*x with lines lc {} notitle, ",
              name, gap ? 7 : 5, idx + 1, gnuplot_text(to_string(kind)), gap ? "A⊥" : "A",
              f.layer.slope, f.layer.intercept, f.layer.slope, idx + 1);
      ++idx;
    }
  sr_plot += "x/4 with lines dt 2 lw 2 lc rgb '#000000' title 'T/4'";
  // (d) stable rank across depth.
  idx = 0;
  for (const char* stack : {"plain", "skip", "ln", "skip+ln"})
    for (bool gap : {false, true}) {
      std::string rows;
      for (const auto& r : s.depth_rows)
        if (r.stack == stack && r.gap_removed == gap)
          rows += fmt::format("{} {:.6g}\n", r.layer, r.sr);
      if (rows.empty()) continue;
      const std::string name = fmt::format("L{}", idx++);
      script += gnuplot_datablock(name, rows);
      depth_plot +=
          fmt::format("{}${} using 1:2 with linespoints pt 7 ps 0.5 lw 2 dt {} lc {} title '{} {}'",
                      depth_plot.empty() ? "" : ", ", name, gap ? 2 : 1, (idx + 1) / 2, stack,
                      gap ? "A⊥" : "A");
    }
  script += "set multiplot layout 2,2\nset grid\nset key top right box opaque\n";
  script += fmt::format(
      "set title 'Singular values of sqrt(T) A / (sigma/m), T = {} (outlier {:.1f}, not shown)'\n"
      "set xlabel 's / (sigma/m)'\nset ylabel 'density'\nset xrange [0:{}]\nset yrange [0:*]\n"
      "plot {}\n",
      T, outlier, hi, hist_plot);
  script += fmt::format(
      "set title 'Eigenvalues of sqrt(T) A / (sigma/m), random Markov, T = {}'\nset xlabel 'Re'\n"
      "set ylabel 'Im'\nset xrange [-1.6:1.6]\nset yrange [-1.3:1.3]\nset parametric\nset trange "
      "[0:2*pi]\n"
      "plot {}\nunset parametric\n",
      T, eig_plot);
  script += fmt::format(
      "set title 'Stable rank after one layer, X1 = A X0 W_V (d = {:g}T)'\nset xlabel 'T'\n"
      "set ylabel 'sr(X1)'\nset xrange [0:*]\nset yrange [0:*]\nset key top left\nplot {}\n",
      s.options.aspect, sr_plot);
  if (!depth_plot.empty())
    script += fmt::format(
        "set title 'Stable rank across depth, T = {} (W_V from N(0,1/d), W_O = I)'\nset xlabel "
        "'layer'\n"
        "set ylabel 'sr(X)'\nset logscale y\nset yrange [*:*]\nset key top right\nplot {}\nunset "
        "logscale y\n",
        s.options.depth_seq, depth_plot);
  script += "unset multiplot\n";
  return script;
}

namespace {

// Curves on a shared grid: one datablock, one line each.
std::string curves_plot(const std::string& block, const std::vector<TatCurve>& curves,
                        std::string* script, const std::vector<double>& grid) {
  std::vector<std::vector<double>> ys;
  for (const auto& c : curves) ys.push_back(c.values);
  *script += columns_block(block, grid, ys);
  std::string plot;
  for (size_t i = 0; i < curves.size(); ++i)
    plot += fmt::format("${} using 1:{} with lines lw 2 lc {} title '{}', ", block, i + 2, i + 1,
                        gnuplot_text(curves[i].label));
  return plot + "x with lines dt 2 lc rgb '#888888' title 'identity'";
}

}  // namespace

std::string tat_plot_script(const TatStudy& s) {
  const auto& o = s.options;
  std::string script;
  const std::string cmap_plot = curves_plot("C", s.cmaps, &script, s.grid);
  const std::string iter_plot = curves_plot("I", s.iterates, &script, s.grid);
  std::string mlp_plot;
  for (size_t j = 0; j < o.c0s.size(); ++j) {
    std::string rows;
    for (const auto& r : s.mlp)
      if (r.c0 == o.c0s[j])
        rows += fmt::format("{} {:.6g} {:.6g} {:.6g}\n", r.layer, r.predicted, r.measured,
                            r.measured_sd);
    script += gnuplot_datablock(fmt::format("M{}", j), rows);
    mlp_plot += fmt::format(
        "{}$M{} using 1:2 with lines lw 2 lc {} title 'C^l({:g})', "
        "$M{} using 1:3:4 with yerrorbars pt 7 ps 0.6 lc {} title 'measured'",
        j ? ", " : "", j, j + 1, o.c0s[j], j, j + 1);
  }
  std::string rows;
  for (const auto& r : s.transformer)
    rows += fmt::format("{} {:.6g} {:.6g} {:.6g}\n", r.layer, r.predicted_mean_rho,
                        r.measured_mean_rho, r.mean_abs_error);
  script += gnuplot_datablock("K", rows);
  script += "set multiplot layout 2,2\nset grid\nset key top left box opaque\n";
  script +=
      "set title 'TAT leaky-ReLU correlation maps C_{alpha}(c)'\nset xlabel 'c'\nset ylabel "
      "'C(c)'\n"
      "set xrange [-1:1]\nset yrange [-1:1]\nplot " +
      cmap_plot + "\n";
  script += fmt::format(
      "set title 'C^N(c) with alpha solved for C^N(0) = {:g}'\nset yrange [*:1]\nplot {}\n", o.eta,
      iter_plot);
  script += fmt::format(
      "set title 'Deep vanilla MLP (N = {}, width {}, alpha = {:.3f}): input correlation'\n"
      "set xlabel 'layer l'\nset ylabel 'correlation'\nset xrange [0:{}]\nset yrange [-0.05:1.05]\n"
      "set key bottom right\nplot {}\n",
      o.depth, o.width, s.slope, o.depth, mlp_plot);
  script += fmt::format(
      "set title 'Vanilla transformer (vanilla-espa-tat, width {}, T = {}): mean token "
      "correlation'\n"
      "set ylabel 'mean rho_{{ij}}'\nset y2label 'mean |error|'\nset y2tics\nset yrange [*:*]\nset "
      "y2range [0:*]\n"
      "plot $K using 1:2 with lines lw 3 lc rgb '#000000' title 'kernel recursion', "
      "$K using 1:3 with points pt 7 lc rgb '#d62728' title 'measured', "
      "$K using 1:4 axes x1y2 with lines dt 2 lc rgb '#1f77b4' title 'mean |rho - predicted| "
      "(right)'\n",
      o.transformer_width, o.seq);
  script += "unset multiplot\n";
  return script;
}

std::string escalation_plot_script(const EscalationStudy& s) {
  std::string script, decay_plot, ratio_plot;
  for (size_t i = 0; i < s.fits.size(); ++i) {
    const auto& f = s.fits[i];
    std::string rows;
    for (const auto& l : s.layers)
      if (l.preset == f.preset)
        rows += fmt::format("{} {:.8g} {:.8g} {:.8g}\n", l.layer, l.t_div, l.ratio,
                            l.lambda2 * l.lambda2);
    script += gnuplot_datablock(fmt::format("E{}", i), rows);
    const std::string sep = i ? ", " : "";
    decay_plot += fmt::format("{}$E{} using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc {} title '{}'",
                              sep, i, i + 1, gnuplot_text(f.preset));
    ratio_plot += fmt::format(
        "{}$E{} using 1:3 with points pt 7 ps 0.8 lc {} title '{}: t_{{div}} ratio', "
        "$E{} using 1:4 with lines lw 2 lc {} title '{}: |lambda_2|^2', "
        "{:.8g} with lines dt 2 lw 2 lc {} title '{}: fitted rate {:.3f}'",
        sep, i, i + 1, gnuplot_text(f.preset), i, i + 1, gnuplot_text(f.preset), f.rate, i + 1, gnuplot_text(f.preset),
        f.rate);
  }
  script += "set multiplot layout 1,2\nset grid\nset key bottom left box opaque\n";
  script += fmt::format(
      "set title 't_{{div}} = 1 - t_{{sim}} at init (depth {}, T = {})'\nset xlabel 'layer'\n"
      "set ylabel 't_{{div}}'\nset logscale y\nset format y '10^{{%L}}'\nplot {}\n"
      "unset logscale y\nset format y '%g'\n",
      s.options.depth, s.options.seq, decay_plot);
  script +=
      "set title 'Per-block contraction of t_{div} beside |lambda_2(A)|^2'\nset xlabel 'block'\n"
      "set ylabel 'factor per block'\nset xrange [1:*]\nset yrange [0:1.15]\n"
      "set key outside right top box\n"
      "plot " +
      ratio_plot + "\nunset multiplot\n";
  return script;
}

std::string gradients_plot_script(const GradientStudy& s) {
  const int L = *std::max_element(s.options.depths.begin(), s.options.depths.end());
  std::string script, layer_plot, depth_plot;
  for (bool scaled : {false, true}) {
    std::string rows, by_depth;
    for (const auto& r : s.rows) {
      if (r.scaled != scaled) continue;
      if (r.depth == L)
        rows += fmt::format("{} {:.8g} {:.8g} {:.8g} {:.8g}\n", r.layer, r.measured_q,
                            r.predicted_q, r.measured_v, r.predicted_v);
      if (r.layer == r.depth)
        by_depth += fmt::format("{} {:.8g} {:.8g}\n", r.depth, r.measured_q / r.measured_v,
                                r.predicted_q / r.predicted_v);
    }
    const int k = scaled ? 1 : 0;
    const std::string name = scaled ? "alpha = 1/sqrt(L)" : "alpha = 1";
    script += gnuplot_datablock(fmt::format("G{}", k), rows) +
              gnuplot_datablock(fmt::format("R{}", k), by_depth);
    const std::string sep = scaled ? ", " : "";
    layer_plot += fmt::format(
        "{0}$G{1} using 1:2 with points pt 7 lc {2} title '|dW_Q| {3}', $G{1} using 1:3 with lines "
        "lw 2 lc {2} notitle, "
        "$G{1} using 1:4 with points pt 5 lc {4} title '|dW_V| {3}', $G{1} using 1:5 with lines lw "
        "2 lc {4} notitle",
        sep, k, 2 * k + 1, name, 2 * k + 2);
    depth_plot += fmt::format(
        "{0}$R{1} using 1:2 with points pt 7 ps 1.2 lc {2} title 'measured, {3}', "
        "$R{1} using 1:3 with lines lw 2 lc {2} title 'predicted, {3}'",
        sep, k, 2 * k + 1, name);
  }
  script +=
      "set multiplot layout 1,2\nset grid\nset key bottom left box opaque\nset logscale y\n"
      "set format y '10^{%L}'\n";
  script += fmt::format(
      "set title 'Gradient norms per block, depth {} (points measured, lines predicted)'\n"
      "set xlabel 'block'\nset ylabel '|grad|_F'\nplot {}\n",
      L, layer_plot);
  script +=
      "set title 'Last block: |dW_Q| / |dW_V| against depth'\nset xlabel 'depth L'\nset logscale x "
      "2\n"
      "set ylabel '|dW_Q| / |dW_V|'\nplot " +
      depth_plot + "\nunset multiplot\n";
  return script;
}

}  // namespace sigprop
