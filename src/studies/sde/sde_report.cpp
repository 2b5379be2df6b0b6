#include "studies/sde/sde_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"
#include "math/stats.h"
#include "studies/study_output.h"

namespace sigprop {

std::string sde_summary_csv(const SdeStudy& s) {
  std::string out = "series,kind,sampler,width,samples,mean,sd,q10,q50,q90,blown_up\n";
  for (const auto& c : s.series) {
    const auto& m = c.summary;
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", c.name, c.kind, c.sampler, c.width,
                       m.n, csv_number(m.mean), csv_number(m.sd), csv_number(m.q10), csv_number(m.q50), csv_number(m.q90), c.blown_up);
  }
  return out;
}

std::string sde_ks_csv(const SdeStudy& s) {
  std::string out = "a,b,ks,critical_5pct,p_value,agree\n";
  for (const auto& k : s.ks)
    out += fmt::format("{},{},{},{},{},{}\n", k.a, k.b, csv_number(k.d), csv_number(k.critical), csv_number(k.p_value),
                       k.agree() ? 1 : 0);
  return out;
}

std::string sde_samples_csv(const SdeStudy& s) {
  std::string out = "series,rho\n";
  for (const auto& c : s.series)
    for (double r : c.final_rho) out += fmt::format("{},{:.7g}\n", c.name, r);
  return out;
}

std::string sde_depth_csv(const SdeStudy& s) {
  std::string out = "series,t,mean_rho\n";
  for (const auto& c : s.series)
    for (size_t i = 0; i < c.t.size(); ++i)
      out += fmt::format("{},{:.6g},{}\n", c.name, c.t[i], csv_number(c.mean_rho[i]));
  return out;
}

std::string sde_summary_text(const SdeStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "shaped transformer SDE (paper 004): gamma {:.4g}, tau0 {:.4g}, t {:.4g} (h {:.4g}), m {}, "
      "rho0 {:.4g}{}\n",
      o.params.gamma, o.params.tau0, o.horizon, o.step, o.tokens, o.rho0,
      o.params.mlp
          ? fmt::format(", shaped-ReLU MLP c+ {:.3g} c- {:.3g}", o.params.c_plus, o.params.c_minus)
          : "");
  out += fmt::format("{:<26} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7}\n", "final rho_01", "samples",
                     "mean", "sd", "q10", "q50", "q90");
  for (const auto& c : s.series) {
    const auto& m = c.summary;
    out += fmt::format("{:<26} {:>7} {:>7.3f} {:>6.3f} {:>7.3f} {:>7.3f} {:>7.3f}{}\n", c.name, m.n,
                       m.mean, m.sd, m.q10, m.q50, m.q90,
                       c.blown_up ? fmt::format("  ({} paths blew up)", c.blown_up) : "");
  }
  out += "two-sample KS (5% critical value):\n";
  for (const auto& k : s.ks)
    out += fmt::format("  {:<24} vs {:<24} D = {:.4f} ({:.4f}) {}\n", k.a, k.b, k.d, k.critical,
                       k.agree() ? "agree" : "differ");
  for (int64_t n : o.widths) {
    const std::string head = headline_series(o, n);
    double with = 0, without = 0;
    for (const auto& k : s.ks)
      if (k.a == head && k.b == "sde")
        with = k.d;
      else if (k.a == head && k.b == "sde-no-attention")
        without = k.d;
    out += fmt::format(
        "n = {}: finite nets {} the SDE with attention terms (D = {:.4f}) than "
        "without (D = {:.4f})\n",
        n, with < without ? "are closer to" : "are NOT closer to", with, without);
  }
  for (const auto& k : s.ks)
    if (k.a == headline_series(o, o.widths.front()) && k.b == "sde") {
      out += fmt::format("agreement: KS({}, sde) = {:.4f} {} {:.4f} (5% critical): {}\n", k.a, k.d,
                         k.agree() ? "<" : ">=", k.critical, k.agree() ? "agree" : "DIFFER");
      break;
    }
  return out;
}

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

StudyOutput sde_output(const SdeStudy& study, const SdeStudyOptions& o) {
  const nlohmann::json params = {
      {"gamma", o.params.gamma}, {"tau0", o.params.tau0}, {"t", o.horizon}, {"h", o.step},
      {"rho0", o.rho0}, {"tokens", o.tokens}, {"paths", o.paths}, {"widths", o.widths},
      {"key_width", o.key_width}, {"networks", o.networks}, {"full_networks", o.full_networks},
      {"reduced", o.reduced}, {"mlp", o.params.mlp}, {"c_plus", o.params.c_plus},
      {"c_minus", o.params.c_minus}};
  StudyOutput out;
  out.command = "theory sde";
  out.params = params;
  out.files = {{"sde_summary.csv", sde_summary_csv(study)}, {"sde_ks.csv", sde_ks_csv(study)},
                 {"sde_depth.csv", sde_depth_csv(study)}, {"sde_samples.csv", sde_samples_csv(study)}};
  out.plot_name = "sde";
  out.plot_script = sde_plot_script(study);
  out.summary = sde_summary_text(study);
  return out;
}

}  // namespace sigprop
