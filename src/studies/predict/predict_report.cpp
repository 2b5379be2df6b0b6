#include "studies/predict/predict_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"

namespace sigprop {
namespace {

std::string num(double v) { return csv_number(v); }

double log10_or_nan(double r) { return r > 0 && std::isfinite(r) ? std::log10(r) : NAN; }

// The largest |predicted − measured| over layers (finite pairs only), and at the last layer.
struct Agreement {
  double cos_max = 0, cos_final = 0, ratio_max = NAN, ratio_final = NAN;
};
Agreement agreement(const PredictCurve& c) {
  Agreement a;
  for (size_t l = 0; l < c.predicted.size(); ++l) {
    const double dc = std::abs(c.predicted[l].cosine - c.measured[l].cosine);
    a.cos_max = std::max(a.cos_max, dc);
    if (l + 1 == c.predicted.size()) a.cos_final = dc;
    const double dr = std::abs(log10_or_nan(c.predicted[l].grad_q_over_v) - c.measured[l].log10_ratio);
    if (std::isfinite(dr)) {
      a.ratio_max = std::isnan(a.ratio_max) ? dr : std::max(a.ratio_max, dr);
      if (l + 1 == c.predicted.size()) a.ratio_final = dr;
    }
  }
  return a;
}

bool exact(const PredictCurve& c) {
  return std::all_of(c.predicted.begin(), c.predicted.end(), [](const auto& r) { return r.exact; });
}

}  // namespace

std::string predict_csv(const PredictStudy& s) {
  std::string out =
      "spec,width,depth,layer,attention,cosine,t_sim,entropy,lambda2,log10_grad_q_over_v,"
      "probe_cosine,probe_cosine_sd,probe_t_sim,probe_entropy,probe_lambda2,"
      "probe_log10_grad_q_over_v,probe_log10_grad_q_over_v_sd,cosine_error,log10_ratio_error\n";
  for (const auto& c : s.curves)
    for (size_t l = 0; l < c.predicted.size(); ++l) {
      const auto& p = c.predicted[l];
      out += fmt::format("{},{},{},{},{},{},{},{},{},{}", c.spec, c.width, c.depth, p.layer,
                         l == 0 ? "input" : p.exact ? "exact" : "monte-carlo", num(p.cosine),
                         num(p.t_sim), num(p.entropy), num(p.lambda2), num(log10_or_nan(p.grad_q_over_v)));
      if (c.measured.empty()) {
        out += ",,,,,,,,,\n";
        continue;
      }
      const auto& m = c.measured[l];
      out += fmt::format(",{},{},{},{},{},{},{},{},{}\n", num(m.cosine), num(m.cosine_sd), num(m.t_sim),
                         num(m.entropy), num(m.lambda2), num(m.log10_ratio), num(m.log10_ratio_sd),
                         num(p.cosine - m.cosine), num(log10_or_nan(p.grad_q_over_v) - m.log10_ratio));
    }
  return out;
}

std::string predict_map_csv(const PredictStudy& s) {
  std::string out = "spec,depth,alpha,logit,cosine,entropy_over_uniform,log10_grad_q_over_v\n";
  for (const auto& m : s.maps)
    for (size_t i = 0; i < m.alphas.size(); ++i)
      for (size_t j = 0; j < m.logits.size(); ++j)
        out += fmt::format("{},{},{},{},{},{},{}\n", m.spec, m.depth, num(m.alphas[i]), num(m.logits[j]),
                           num(m.cosine[i][j]), num(m.entropy[i][j]), num(m.log10_ratio[i][j]));
  return out;
}

std::string predict_map_depth_csv(const PredictStudy& s) {
  std::string out = "spec,layer,alpha,cosine\n";
  for (const auto& m : s.maps)
    for (size_t l = 0; l < m.depth_cosine.size(); ++l)
      for (size_t i = 0; i < m.alphas.size(); ++i)
        out += fmt::format("{},{},{},{}\n", m.spec, l, num(m.alphas[i]), num(m.depth_cosine[l][i]));
  return out;
}

std::string predict_map_check_csv(const PredictStudy& s) {
  std::string out =
      "spec,alpha,logit,predicted_cosine,probe_cosine,predicted_log10_grad_q_over_v,"
      "probe_log10_grad_q_over_v\n";
  for (const auto& m : s.maps)
    for (const auto& c : m.checks)
      out += fmt::format("{},{},{},{},{},{},{}\n", m.spec, num(c.alpha), num(c.logit), num(c.predicted_cosine),
                         num(c.measured_cosine), num(c.predicted_log10_ratio), num(c.measured_log10_ratio));
  return out;
}

std::string predict_summary_text(const PredictStudy& s) {
  std::string out = fmt::format("{:<28} {:>6} {:>5} {:>9} {:>9} {:>12} {:>9} {:>9}\n", "spec", "width",
                                "depth", "cos(L)", "probe", "log10 q/v(L)", "max|dcos|", "max|dlog|");
  for (const auto& c : s.curves) {
    const auto& p = c.predicted.back();
    std::string probe = "-", dcos = "-", dlog = "-";
    if (!c.measured.empty()) {
      const auto a = agreement(c);
      probe = fmt::format("{:.4f}", c.measured.back().cosine);
      dcos = fmt::format("{:.4f}", a.cos_max);
      dlog = std::isnan(a.ratio_max) ? "n/a" : fmt::format("{:.3f}", a.ratio_max);
    }
    out += fmt::format("{:<28} {:>6} {:>5} {:>9.4f} {:>9} {:>12.3f} {:>9} {:>9}{}\n", c.spec, c.width,
                       c.depth, p.cosine, probe, log10_or_nan(p.grad_q_over_v), dcos, dlog,
                       exact(c) ? "" : "  (attention by Monte Carlo)");
  }
  // Where prediction and probe part, which assumption is the likely cause (docs/theory.md).
  for (const auto& c : s.curves) {
    if (c.measured.empty()) continue;
    const auto a = agreement(c);
    if (a.cos_max > 0.03)
      out += fmt::format("note: {} d={}: cosine off by up to {:.3f}; {}\n", c.spec, c.width, a.cos_max,
                         c.width < 256 ? "finite width (the recursion is the infinite-width limit: compare --widths)"
                                       : "compare probe_cosine_sd in predict.csv (the probe's scatter over seeds)");
    if (a.ratio_max > 0.3) {
      double floor = 0;
      for (const auto& p : c.predicted) floor = std::min(floor, log10_or_nan(p.grad_q_over_v));
      out += fmt::format(
          "note: {} d={}: log10 |grad W_Q|/|grad W_V| off by up to {:.2f} decades; {}\n", c.spec, c.width,
          a.ratio_max,
          floor < -6   ? "a collapsed stack: the probe's float32 gradients reach their rounding floor"
          : !c.skips   ? "without skips the gradient-independence assumption (E[g·v] = 0) fails near the output"
                       : "the gradient-independence assumption and the logits' backward path left out");
    }
  }
  for (const auto& m : s.maps) {
    out += fmt::format("map {} (depth {}): {}×{} cells in {:.2f}s", m.spec, m.depth, m.alphas.size(),
                       m.logits.size(), m.seconds);
    if (!m.checks.empty()) {
      double dmax = 0;
      for (const auto& c : m.checks) dmax = std::max(dmax, std::abs(c.predicted_cosine - c.measured_cosine));
      out += fmt::format("; {} cells probed in {:.1f}s ({:.2f}s each; the whole map by probing would take "
                         "about {:.0f}s), max |dcos| {:.3f}",
                         m.checks.size(), m.check_seconds, m.check_seconds / m.checks.size(),
                         m.check_seconds / m.checks.size() * m.alphas.size() * m.logits.size(), dmax);
    }
    out += "\n";
  }
  return out;
}

std::string predict_plot_script(const PredictStudy& s) {
  std::string script, cos_plot, ratio_plot;
  int k = 0;
  for (const auto& c : s.curves) {
    std::string rows;
    for (size_t l = 0; l < c.predicted.size(); ++l) {
      const auto& p = c.predicted[l];
      const MeasuredLayer m = c.measured.empty() ? MeasuredLayer{NAN, NAN, NAN, NAN, NAN} : c.measured[l];
      rows += fmt::format("{} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g}\n", p.layer, p.cosine, m.cosine,
                          m.cosine_sd, log10_or_nan(p.grad_q_over_v), m.log10_ratio);
    }
    script += gnuplot_datablock(fmt::format("P{}", k), rows);
    const std::string title = fmt::format("{} d={}", c.spec, c.width);
    cos_plot += fmt::format("{}$P{} using 1:2 with lines lw 2 lc {} title '{} predicted'", k ? ", " : "", k,
                            k + 1, title);
    ratio_plot += fmt::format("{}$P{} using 1:5 with lines lw 2 lc {} title '{} predicted'", k ? ", " : "", k,
                              k + 1, title);
    if (!c.measured.empty()) {
      cos_plot += fmt::format(", $P{} using 1:3:4 with yerrorbars pt 7 ps 0.5 lc {} title 'probe'", k, k + 1);
      ratio_plot += fmt::format(", $P{} using 1:6 with points pt 7 ps 0.5 lc {} title 'probe'", k, k + 1);
    }
    ++k;
  }
  const bool maps = !s.maps.empty();
  script += fmt::format("set multiplot layout {},2\nset grid\nset key top left box opaque font ',8'\n",
                        maps ? 2 : 1);
  script += "set title 'Token cosine per layer: kernel recursion (lines) and probe (points)'\n"
            "set xlabel 'layer l'\nset ylabel 'mean cosine'\nset yrange [*:1.02]\nset key bottom right\nplot " +
            cos_plot + "\n";
  script += "set title 'log10 |grad W_Q| / |grad W_V| per block'\nset ylabel 'log10 ratio'\n"
            "set yrange [*:*]\nset key bottom left\nplot " + ratio_plot + "\n";
  if (maps) {
    const auto& m = s.maps.front();
    std::string rows;
    for (size_t i = 0; i < m.alphas.size(); ++i) {
      for (size_t j = 0; j < m.logits.size(); ++j)
        rows += fmt::format("{:.6g} {:.6g} {:.6g} {:.6g}\n", std::log10(m.alphas[i]), std::log10(m.logits[j]),
                            m.cosine[i][j], m.entropy[i][j]);
      rows += "\n";
    }
    script += gnuplot_datablock("M", rows);
    std::string probed;
    for (const auto& c : m.checks) probed += fmt::format("{:.6g} {:.6g}\n", std::log10(c.alpha), std::log10(c.logit));
    script += gnuplot_datablock("C", probed.empty() ? "NaN NaN\n" : probed);
    const double ax = std::log10(m.alphas.front()), bx = std::log10(m.alphas.back());
    const double ay = std::log10(m.logits.front()), by = std::log10(m.logits.back());
    script += fmt::format("set xrange [{:.4g}:{:.4g}]\nset yrange [{:.4g}:{:.4g}]\n", ax, bx, ay, by);
    script += "set xlabel 'log10 residual scale alpha'\nset ylabel 'log10 logit scale'\nset grid front\n"
              "set palette defined (0 '#313695', 0.5 '#ffffbf', 1 '#a50026')\nset cbrange [0:1]\n"
              "set view map\nset key off\n";
    script += fmt::format(
        "set title '{} depth {}: final-layer cosine (rank collapse = red; circles: probed)'\n"
        "plot $M using 1:2:3 with image, $C using 1:2 with points pt 6 ps 1.5 lc rgb 'black'\n"
        "set title 'last block attention entropy / uniform attention''s (entropy collapse = blue)'\n"
        "plot $M using 1:2:4 with image, $C using 1:2 with points pt 6 ps 1.5 lc rgb 'black'\n",
        m.spec, m.depth);
  }
  script += "unset multiplot\n";
  return script;
}

StudyOutput predict_output(const PredictStudy& study, const PredictStudyOptions& o) {
  StudyOutput out;
  out.command = "predict";
  std::vector<std::string> specs;
  for (const auto& s : o.specs) specs.push_back(s.name);
  out.params = {{"specs", specs},       {"input", to_string(o.input)}, {"seq", o.seq},
                {"batch", o.batch},     {"paths", o.predict.paths},   {"quadrature", o.predict.quadrature},
                {"widths", o.compare_widths}, {"seeds", o.seeds},     {"map", o.map}};
  if (o.map)
    out.params["map_options"] = {{"size", o.map_size},          {"seq", o.map_seq},
                                 {"paths", o.map_paths},        {"alpha", {o.alpha_min, o.alpha_max}},
                                 {"logit", {o.logit_min, o.logit_max}}, {"check", o.map_check},
                                 {"check_width", o.map_check_width}};
  out.files = {{"predict.csv", predict_csv(study)}};
  if (o.map) {
    out.files.push_back({"predict_map.csv", predict_map_csv(study)});
    out.files.push_back({"predict_map_depth.csv", predict_map_depth_csv(study)});
    if (o.map_check > 0) out.files.push_back({"predict_map_check.csv", predict_map_check_csv(study)});
  }
  out.plot_name = "predict";
  out.plot_script = predict_plot_script(study);
  out.plot_height = o.map ? 1100 : 550;
  out.summary = predict_summary_text(study);
  return out;
}

}  // namespace sigprop
