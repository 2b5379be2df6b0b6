#include "studies/gradients/gradients_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"
#include "math/stats.h"
#include "studies/study_output.h"

namespace sigprop {

std::string gradients_csv(const GradientStudy& s) {
  std::string out = "depth,scaling,layer,measured_q,predicted_q,measured_v,predicted_v,spread\n";
  for (const auto& r : s.rows)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", r.depth, r.scaled ? "1/sqrt(L)" : "1", r.layer,
                       csv_number(r.measured_q), csv_number(r.predicted_q), csv_number(r.measured_v), csv_number(r.predicted_v),
                       csv_number(r.spread));
  return out;
}

std::string gradients_summary_text(const GradientStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "query/key vs value gradients under uniform attention (paper 002): {}, width {}, T = {}, "
      "batch {}, {} networks per setting\n",
      o.pre_ln ? "pre-LN" : "post-LN", o.width, o.seq, o.batch, o.networks);
  out += fmt::format("{:>6} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "depth", "alpha",
                     "|dWq| first", "|dWq| last", "pred last", "|dWv| last", "pred last");
  for (int L : o.depths)
    for (bool scaled : {false, true}) {
      const GradientRow* first = nullptr;
      const GradientRow* last = nullptr;
      for (const auto& r : s.rows)
        if (r.depth == L && r.scaled == scaled) {
          if (!first) first = &r;
          last = &r;
        }
      out += fmt::format("{:>6} {:<10} {:>12.3e} {:>12.3e} {:>12.3e} {:>12.3e} {:>12.3e}\n", L,
                         scaled ? "1/sqrt(L)" : "1", first->measured_q, last->measured_q,
                         last->predicted_q, last->measured_v, last->predicted_v);
    }
  for (const auto& a : s.agreement)
    out += fmt::format(
        "agreement ({}): median |log10(measured/predicted)| W_Q {:.3f}, W_V {:.3f} (max {:.3f}, "
        "{:.3f})\n",
        a.scaled ? "alpha = 1/sqrt(L)" : "alpha = 1", a.median_log10_q, a.median_log10_v,
        a.max_log10_q, a.max_log10_v);
  return out;
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

StudyOutput gradients_output(const GradientStudy& study, const GradientStudyOptions& o) {
  const nlohmann::json params = {{"depths", o.depths}, {"width", o.width}, {"seq", o.seq},
                                 {"batch", o.batch}, {"networks", o.networks},
                                 {"norm", o.pre_ln ? "pre" : "post"}, {"mlp", o.mlp}};
  StudyOutput out;
  out.command = "theory gradients";
  out.params = params;
  out.files = {{"gradients.csv", gradients_csv(study)}};
  out.plot_name = "gradients";
  out.plot_script = gradients_plot_script(study);
  out.summary = gradients_summary_text(study);
  return out;
}

}  // namespace sigprop
