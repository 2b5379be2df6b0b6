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

// gnuplot single-quoted string: underscores would start subscripts in enhanced text.
std::string label(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '_') out += "\\\\_";
    else if (c == '\'') out += "''";
    else out += c;
  }
  return out;
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
    const std::string style = c.kind == "sde" ? "lw 3 lc rgb '#000000'"
                              : c.kind == "sde-no-attention" ? "lw 2 dt 2 lc rgb '#555555'"
                              : c.kind == "softmax" ? "lw 2 lc rgb '#d62728'"
                                                    : fmt::format("lw 1.5 lc {}", i);
    depth_plot += fmt::format("{}$D{} using 1:2 with lines {} title '{}'", i ? ", " : "", i, style,
                              label(c.name));
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
      label(head), label(soft));
  script += "set title 'Mean pairwise correlation against depth'\nset xlabel 't = layer / width'\n"
            "set ylabel 'mean rho'\nset key center right\nset xrange [*:*]\nset yrange [*:1.05]\n";
  script += "plot " + depth_plot + "\nunset multiplot\n";
  return script;
}

}  // namespace sigprop
