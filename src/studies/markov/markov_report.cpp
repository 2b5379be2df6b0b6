#include "studies/markov/markov_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"
#include "math/stats.h"
#include "studies/study_output.h"

namespace sigprop {

namespace {

const char* matrix_name(bool gap_removed) { return gap_removed ? "A_perp" : "A"; }

}  // namespace

std::string markov_spectra_csv(const MarkovStudy& s) {
  std::string out =
      "T,kind,matrix,sigma1,sigma2,top_eigenvalue,scale,scale_theory,ks_quarter_circle,"
      "ks_circular,sr_matrix,sr_layer,gram_sr_layer\n";
  for (const auto& r : s.rows)
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.T, to_string(r.kind),
                    matrix_name(r.gap_removed), csv_number(r.sigma1), csv_number(r.sigma2), csv_number(r.top_eigenvalue),
                    csv_number(r.scale), csv_number(r.scale_theory), csv_number(r.ks_quarter_circle), csv_number(r.ks_circular),
                    csv_number(r.sr_matrix), csv_number(r.sr_layer), csv_number(r.gram_sr_layer));
  return out;
}

std::string markov_slopes_csv(const MarkovStudy& s) {
  std::string out =
      "kind,matrix,slope_layer,slope_layer_se,intercept_layer,r2_layer,slope_matrix,"
      "slope_matrix_se\n";
  for (const auto& f : s.slopes)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", to_string(f.kind), matrix_name(f.gap_removed),
                       csv_number(f.layer.slope), csv_number(f.layer.slope_se), csv_number(f.layer.intercept),
                       csv_number(f.layer.r2), csv_number(f.matrix.slope), csv_number(f.matrix.slope_se));
  return out;
}

std::string markov_values_csv(const MarkovStudy& s) {
  std::string out = "T,kind,matrix,what,re,im\n";
  for (const auto& v : s.samples) {
    const std::string key =
        fmt::format("{},{},{}", v.T, to_string(v.kind), matrix_name(v.gap_removed));
    for (double x : v.singular) out += fmt::format("{},singular,{:.7g},0\n", key, x);
    for (size_t i = 0; i < v.eig_re.size(); ++i)
      out += fmt::format("{},eigenvalue,{:.7g},{:.7g}\n", key, v.eig_re[i], v.eig_im[i]);
  }
  return out;
}

std::string markov_depth_csv(const MarkovStudy& s) {
  std::string out = "stack,matrix,layer,stable_rank,gram_stable_rank\n";
  for (const auto& r : s.depth_rows)
    out += fmt::format("{},{},{},{},{}\n", r.stack, matrix_name(r.gap_removed), r.layer, csv_number(r.sr),
                       csv_number(r.gram_sr));
  return out;
}

std::string markov_summary_text(const MarkovStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "attention spectra and rank collapse in width (paper 003): {} draws per (T, kind), d = "
      "{:g}T\n",
      o.draws, o.aspect);
  out += fmt::format("{:>5} {:<14} {:<7} {:>8} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8} {:>8}\n", "T",
                     "kind", "matrix", "s1(vTA)", "s2", "s/m", "theory", "KS(qc)", "KS(disk)",
                     "sr(A)", "sr(X1)");
  for (const auto& r : s.rows)
    out += fmt::format(
        "{:>5} {:<14} {:<7} {:>8.2f} {:>6.2f} {:>6.3f} {:>6.3f} {:>7.4f} {:>7.4f} {:>8.2f} "
        "{:>8.2f}\n",
        r.T, to_string(r.kind), matrix_name(r.gap_removed), r.sigma1, r.sigma2, r.scale,
        r.scale_theory, r.ks_quarter_circle, r.ks_circular, r.sr_matrix, r.sr_layer);
  out +=
      "stable rank against T (fitted slope +- s.e.; theory 0 for A, 1/4 for A_perp as d/T -> "
      "inf):\n";
  for (const auto& f : s.slopes)
    out += fmt::format("  {:<14} {:<7} sr(X1): {:.4f} +- {:.4f}   sr(A): {:.4f} +- {:.4f}\n",
                       to_string(f.kind), matrix_name(f.gap_removed), f.layer.slope,
                       f.layer.slope_se, f.matrix.slope, f.matrix.slope_se);
  for (const auto& r : s.rows)
    if (r.kind == AttentionDraw::RandomMarkov && !r.gap_removed && r.T == o.seqs.back()) {
      double slope_a = 0, slope_p = 0;
      for (const auto& f : s.slopes)
        if (f.kind == AttentionDraw::RandomMarkov)
          (f.gap_removed ? slope_p : slope_a) = f.layer.slope;
      out += fmt::format(
          "agreement: random Markov T = {}: KS to the quarter circle {:.4f}, to the circular law "
          "{:.4f}; sigma1 = {:.2f} (sqrt T = {:.2f}); sr(X1) slope A {:.4f} (theory 0), A_perp "
          "{:.4f} "
          "(theory 1/4)\n",
          r.T, r.ks_quarter_circle, r.ks_circular, r.sigma1, std::sqrt(double(r.T)), slope_a,
          slope_p);
    }
  return out;
}

namespace {

// One panel of the figure: its datablocks and the body of its `plot` command.
struct Panel {
  std::string data, plot;
};

// (a) Histograms of the first draw's bulk singular values at the largest T; `outlier` receives
// random Markov A's top singular value, which the panel leaves out.
Panel singular_value_panel(const MarkovStudy& s, int64_t T, double hi, double& outlier) {
  const int bins = 30;
  std::vector<double> centers;
  for (int b = 0; b < bins; ++b) centers.push_back((b + 0.5) * hi / bins);
  std::vector<std::vector<double>> dens;
  std::vector<std::string> names;
  for (const auto& v : s.samples) {
    if (v.T != T) continue;
    if (v.gap_removed && v.kind != AttentionDraw::RandomMarkov) continue;
    std::vector<double> bulk(v.singular.begin() + (v.gap_removed ? 0 : 1),
                             v.singular.end() - (v.gap_removed ? 1 : 0));
    dens.push_back(histogram_density(bulk, 0.0, hi, bins));
    names.push_back(to_string(v.kind) + (v.gap_removed ? " A⊥" : " A"));
    if (v.kind == AttentionDraw::RandomMarkov && !v.gap_removed) outlier = v.singular.front();
  }
  Panel p{columns_block("H", centers, dens), ""};
  for (size_t i = 0; i < names.size(); ++i)
    p.plot += fmt::format("$H using 1:{} with histeps lw 2 dt {} lc {} title '{}', ", i + 2,
                          i + 1, i + 1, gnuplot_text(names[i]));  // dashes: overlapping steps stay visible
  p.plot +=
      "x <= 2 ? sqrt(4 - x*x) / pi : 0 with lines lw 3 dt 2 lc rgb '#000000' title 'quarter "
      "circle'";
  return p;
}

// (b) Eigenvalues of the first random-Markov draw at the largest T, against the unit circle.
Panel eigenvalue_panel(const MarkovStudy& s, int64_t T) {
  Panel p;
  for (const auto& v : s.samples) {
    if (v.T != T || v.kind != AttentionDraw::RandomMarkov) continue;
    std::string rows;
    for (size_t i = 0; i < v.eig_re.size(); ++i)
      rows += fmt::format("{:.6g} {:.6g}\n", v.eig_re[i], v.eig_im[i]);
    const std::string name = v.gap_removed ? "EP" : "EA";
    p.data += gnuplot_datablock(name, rows);
    p.plot += fmt::format("${} using 1:2 with points pt {} ps {} lc rgb '{}' title '{}', ", name,
                          v.gap_removed ? 6 : 7, v.gap_removed ? 0.9 : 0.4,
                          v.gap_removed ? "#d62728" : "#1f77b4",
                          v.gap_removed ? "A⊥ (outlier → 0)" : "A");
  }
  p.plot += "cos(t), sin(t) with lines lw 2 lc rgb '#000000' title 'circular law |z| = 1'";
  return p;
}

// (c) Stable rank after one layer against T, with the fitted lines.
Panel stable_rank_panel(const MarkovStudy& s) {
  Panel p;
  int idx = 0;
  for (auto kind : s.options.kinds)
    for (bool gap : {false, true}) {
      std::string rows;
      for (const auto& r : s.rows)
        if (r.kind == kind && r.gap_removed == gap)
          rows += fmt::format("{} {:.6g}\n", r.T, r.sr_layer);
      const std::string name = fmt::format("S{}", idx);
      p.data += gnuplot_datablock(name, rows);
      for (const auto& f : s.slopes)
        if (f.kind == kind && f.gap_removed == gap)
          p.plot += fmt::format(
              "${} using 1:2 with points pt {} ps 1.2 lc {} title '{} {}: slope {:.3f}', "
              "{:.6g} + {:.6g}*x with lines lc {} notitle, ",
              name, gap ? 7 : 5, idx + 1, gnuplot_text(to_string(kind)), gap ? "A⊥" : "A",
              f.layer.slope, f.layer.intercept, f.layer.slope, idx + 1);
      ++idx;
    }
  p.plot += "x/4 with lines dt 2 lw 2 lc rgb '#000000' title 'T/4'";
  return p;
}

// (d) Stable rank across depth, per stack, with and without the gap removed; empty plot when
// the depth study was skipped.
Panel depth_panel(const MarkovStudy& s) {
  Panel p;
  int idx = 0;
  for (const char* stack : {"plain", "skip", "ln", "skip+ln"})
    for (bool gap : {false, true}) {
      std::string rows;
      for (const auto& r : s.depth_rows)
        if (r.stack == stack && r.gap_removed == gap)
          rows += fmt::format("{} {:.6g}\n", r.layer, r.sr);
      if (rows.empty()) continue;
      const std::string name = fmt::format("L{}", idx++);
      p.data += gnuplot_datablock(name, rows);
      p.plot +=
          fmt::format("{}${} using 1:2 with linespoints pt 7 ps 0.5 lw 2 dt {} lc {} title '{} {}'",
                      p.plot.empty() ? "" : ", ", name, gap ? 2 : 1, (idx + 1) / 2, stack,
                      gap ? "A⊥" : "A");
    }
  return p;
}

}  // namespace

std::string markov_plot_script(const MarkovStudy& s) {
  const int64_t T = s.options.seqs.back();
  const double hi = 3.0;
  double outlier = 0;
  const Panel hist = singular_value_panel(s, T, hi, outlier), eig = eigenvalue_panel(s, T),
              sr = stable_rank_panel(s), depth = depth_panel(s);
  std::string script = hist.data + eig.data + sr.data + depth.data;
  script += "set multiplot layout 2,2\nset grid\nset key top right box opaque\n";
  script += fmt::format(
      "set title 'Singular values of sqrt(T) A / (sigma/m), T = {} (outlier {:.1f}, not shown)'\n"
      "set xlabel 's / (sigma/m)'\nset ylabel 'density'\nset xrange [0:{}]\nset yrange [0:*]\n"
      "plot {}\n",
      T, outlier, hi, hist.plot);
  script += fmt::format(
      "set title 'Eigenvalues of sqrt(T) A / (sigma/m), random Markov, T = {}'\nset xlabel 'Re'\n"
      "set ylabel 'Im'\nset xrange [-1.6:1.6]\nset yrange [-1.3:1.3]\nset parametric\nset trange "
      "[0:2*pi]\n"
      "plot {}\nunset parametric\n",
      T, eig.plot);
  script += fmt::format(
      "set title 'Stable rank after one layer, X1 = A X0 W_V (d = {:g}T)'\nset xlabel 'T'\n"
      "set ylabel 'sr(X1)'\nset xrange [0:*]\nset yrange [0:*]\nset key top left\nplot {}\n",
      s.options.aspect, sr.plot);
  if (!depth.plot.empty())
    script += fmt::format(
        "set title 'Stable rank across depth, T = {} (W_V from N(0,1/d), W_O = I)'\nset xlabel "
        "'layer'\n"
        "set ylabel 'sr(X)'\nset logscale y\nset yrange [*:*]\nset key top right\nplot {}\nunset "
        "logscale y\n",
        s.options.depth_seq, depth.plot);
  script += "unset multiplot\n";
  return script;
}

StudyOutput markov_output(const MarkovStudy& study, const MarkovStudyOptions& o) {
  std::vector<std::string> kinds;
  for (auto k : o.kinds) kinds.push_back(to_string(k));
  const nlohmann::json params = {{"seqs", o.seqs},   {"draws", o.draws}, {"aspect", o.aspect},
                                 {"kinds", kinds},   {"depth", o.depth}, {"depth_seq", o.depth_seq}};
  StudyOutput out;
  out.command = "theory markov";
  out.params = params;
  out.files = {{"markov_spectra.csv", markov_spectra_csv(study)},
                 {"markov_slopes.csv", markov_slopes_csv(study)},
                 {"markov_values.csv", markov_values_csv(study)},
                 {"markov_depth.csv", markov_depth_csv(study)}};
  out.plot_name = "markov";
  out.plot_script = markov_plot_script(study);
  out.summary = markov_summary_text(study);
  out.plot_height = 1100;
  return out;
}

}  // namespace sigprop
