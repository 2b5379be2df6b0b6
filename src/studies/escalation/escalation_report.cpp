#include "studies/escalation/escalation_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "config/spec_io.h"
#include "core/gnuplot.h"
#include "math/stats.h"
#include "studies/study_output.h"

namespace sigprop {

std::string escalation_layers_csv(const EscalationStudy& s) {
  std::string out = "preset,layer,t_div,t_div_ratio,lambda2\n";
  for (const auto& l : s.layers)
    out += fmt::format("{},{},{},{},{}\n", l.preset, l.layer, csv_number(l.t_div), csv_number(l.ratio),
                       csv_number(l.lambda2));
  return out;
}

std::string escalation_fits_csv(const EscalationStudy& s) {
  std::string out = "preset,layers_fitted,rate,log_slope_se,lambda2_mean,lambda2_sq_mean\n";
  for (const auto& f : s.fits)
    out += fmt::format("{},{},{},{},{},{}\n", f.preset, f.layers_fitted, csv_number(f.rate),
                       csv_number(f.log_fit.slope_se), csv_number(f.lambda2_mean), csv_number(f.lambda2_sq_mean));
  return out;
}

std::string escalation_summary_text(const EscalationStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "token similarity escalation (paper 000): depth {}, T = {}, batch {}, {} inits (seeds {}..{}), "
      "input {}\n",
      o.depth, o.seq, o.batch, o.seeds, o.first_seed, o.first_seed + o.seeds - 1, to_string(o.input));
  out += fmt::format("{:<22} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12}\n", "preset", "layers",
                     "rate", "|l2| mean", "|l2|^2", "t_div(1)", "t_div(L)");
  for (const auto& f : s.fits) {
    double first = 0, last = 0;
    for (const auto& l : s.layers)
      if (l.preset == f.preset) {
        if (l.layer == 1) first = l.t_div;
        last = l.t_div;
      }
    out += fmt::format("{:<22} {:>7} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.3e} {:>12.3e}\n", f.preset,
                       f.layers_fitted, f.rate, f.lambda2_mean, f.lambda2_sq_mean, first, last);
  }
  out +=
      "rate: e^slope of log t_div against layer, over the layers with t_div > floor; |l2|: the\n"
      "attention's second eigenvalue modulus over the same blocks (A alone would contract t_div by "
      "|l2|^2)\n";
  for (const auto& f : s.fits)
    out += fmt::format(
        "agreement: {}: fitted t_div rate {:.4f} vs mean |lambda2|^2 {:.4f} (ratio {:.3f})\n",
        f.preset, f.rate, f.lambda2_sq_mean, f.rate / f.lambda2_sq_mean);
  return out;
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

StudyOutput escalation_output(const EscalationStudy& study, const EscalationOptions& o) {
  nlohmann::json params = {{"depth", o.depth}, {"seq", o.seq}, {"batch", o.batch},
                            {"inits", o.seeds}, {"input", to_string(o.input)}, {"floor", o.floor}};
  for (const auto& spec : o.specs) params["configs"].push_back(spec_to_json(spec));
  StudyOutput out;
  out.command = "theory escalation";
  out.params = params;
  out.files = {{"escalation_layers.csv", escalation_layers_csv(study)},
           {"escalation_fits.csv", escalation_fits_csv(study)}};
  out.plot_name = "escalation";
  out.plot_script = escalation_plot_script(study);
  out.summary = escalation_summary_text(study);
  return out;
}

}  // namespace sigprop
