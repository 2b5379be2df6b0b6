#include "studies/tat/tat_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"
#include "math/stats.h"
#include "studies/study_output.h"

namespace sigprop {

std::string tat_curves_csv(const TatStudy& s) {
  std::string out = "curve,kind,slope,n,c,value\n";
  for (const auto* group : {&s.cmaps, &s.iterates})
    for (const auto& c : *group)
      for (size_t i = 0; i < s.grid.size(); ++i)
        out +=
            fmt::format("{},{},{},{},{:.4g},{}\n", c.label, group == &s.cmaps ? "cmap" : "iterate",
                        csv_number(c.slope), c.n, s.grid[i], csv_number(c.values[i]));
  return out;
}

std::string tat_slopes_csv(const TatStudy& s) {
  std::string out = "n,eta,slope,reachable_eta\n";
  for (const auto& c : s.table)
    out += fmt::format("{},{},{},{}\n", c.n, csv_number(c.eta), csv_number(c.slope), csv_number(c.reachable));
  return out;
}

std::string tat_mlp_csv(const TatStudy& s) {
  std::string out = "c0,layer,predicted,measured,measured_sd\n";
  for (const auto& r : s.mlp)
    out += fmt::format("{},{},{},{},{}\n", csv_number(r.c0), r.layer, csv_number(r.predicted), csv_number(r.measured),
                       csv_number(r.measured_sd));
  return out;
}

std::string tat_transformer_csv(const TatStudy& s) {
  std::string out = "layer,predicted_mean_rho,measured_mean_rho,mean_abs_error\n";
  for (const auto& r : s.transformer)
    out += fmt::format("{},{},{},{}\n", r.layer, csv_number(r.predicted_mean_rho),
                       csv_number(r.measured_mean_rho), csv_number(r.mean_abs_error));
  return out;
}

std::string tat_summary_text(const TatStudy& s) {
  const auto& o = s.options;
  std::string out =
      "TAT leaky ReLU (paper 001): slope alpha with C_alpha^N(0) = eta "
      "(- : unreachable, eta above the ReLU chain's C^N(0))\n";
  out += fmt::format("{:>5}", "N");
  for (double e : o.etas) out += fmt::format(" {:>9}", fmt::format("eta={:g}", e));
  out += fmt::format(" {:>10}\n", "max eta");
  for (int n : o.nonlinearities) {
    out += fmt::format("{:>5}", n);
    double reach = 0;
    for (const auto& c : s.table)
      if (c.n == n) {
        out += std::isnan(c.slope) ? fmt::format(" {:>9}", "-") : fmt::format(" {:>9.4f}", c.slope);
        reach = c.reachable;
      }
    out += fmt::format(" {:>10.4f}\n", reach);
  }
  out += fmt::format("deep vanilla MLP: N = {}, width {}, {} networks, alpha = {:.4f} (eta {:g})\n",
                     o.depth, o.width, o.networks, s.slope, o.eta);
  for (double c0 : o.c0s)
    for (const auto& r : s.mlp)
      if (r.c0 == c0 && r.layer == o.depth)
        out += fmt::format("  c0 = {:<5g} C^N(c0) = {:.4f}  measured {:.4f} +- {:.4f}\n", c0,
                           r.predicted, r.measured, r.measured_sd);
  const auto& last = s.transformer.back();
  out += fmt::format(
      "vanilla transformer (vanilla-espa-tat, depth {}, width {}, T = {}): final mean rho "
      "predicted "
      "{:.4f}, measured {:.4f}\n",
      o.depth, o.transformer_width, o.seq, last.predicted_mean_rho, last.measured_mean_rho);
  out += fmt::format(
      "agreement: MLP max |measured - C^l(c0)| = {:.4f} over layers and c0; transformer max over "
      "layers of mean |rho - predicted| = {:.4f}\n",
      s.mlp_max_error, s.transformer_max_error);
  return out;
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

StudyOutput tat_output(const TatStudy& study, const TatStudyOptions& o) {
  const nlohmann::json params = {
      {"slopes", o.slopes}, {"n", o.nonlinearities}, {"etas", o.etas}, {"eta", o.eta},
      {"curve_n", o.curve_ns}, {"depth", o.depth}, {"width", o.width}, {"networks", o.networks},
      {"c0", o.c0s}, {"transformer_width", o.transformer_width}, {"seq", o.seq},
      {"batch", o.batch}, {"transformers", o.transformers}};
  StudyOutput out;
  out.command = "theory tat";
  out.params = params;
  out.files = {{"tat_curves.csv", tat_curves_csv(study)}, {"tat_slopes.csv", tat_slopes_csv(study)},
                 {"tat_mlp.csv", tat_mlp_csv(study)}, {"tat_transformer.csv", tat_transformer_csv(study)}};
  out.plot_name = "tat";
  out.plot_script = tat_plot_script(study);
  out.summary = tat_summary_text(study);
  out.plot_height = 1100;
  return out;
}

}  // namespace sigprop
