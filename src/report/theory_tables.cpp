#include "report/theory_tables.h"

#include <cmath>

#include <fmt/format.h>

namespace sigprop {
namespace {

std::string num(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

std::string sde_summary_csv(const SdeStudy& s) {
  std::string out = "series,kind,sampler,width,samples,mean,sd,q10,q50,q90,blown_up\n";
  for (const auto& c : s.series) {
    const auto& m = c.summary;
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", c.name, c.kind, c.sampler, c.width, m.n,
                       num(m.mean), num(m.sd), num(m.q10), num(m.q50), num(m.q90), c.blown_up);
  }
  return out;
}

std::string sde_ks_csv(const SdeStudy& s) {
  std::string out = "a,b,ks,critical_5pct,p_value,agree\n";
  for (const auto& k : s.ks)
    out += fmt::format("{},{},{},{},{},{}\n", k.a, k.b, num(k.d), num(k.critical), num(k.p_value),
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
      out += fmt::format("{},{:.6g},{}\n", c.name, c.t[i], num(c.mean_rho[i]));
  return out;
}

std::string sde_summary_text(const SdeStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "shaped transformer SDE (paper 004): gamma {:.4g}, tau0 {:.4g}, t {:.4g} (h {:.4g}), m {}, "
      "rho0 {:.4g}{}\n",
      o.params.gamma, o.params.tau0, o.horizon, o.step, o.tokens, o.rho0,
      o.params.mlp ? fmt::format(", shaped-ReLU MLP c+ {:.3g} c- {:.3g}", o.params.c_plus, o.params.c_minus)
                   : "");
  out += fmt::format("{:<26} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7}\n", "final rho_01", "samples", "mean",
                     "sd", "q10", "q50", "q90");
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
      if (k.a == head && k.b == "sde") with = k.d;
      else if (k.a == head && k.b == "sde-no-attention") without = k.d;
    out += fmt::format("n = {}: finite nets {} the SDE with attention terms (D = {:.4f}) than "
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

namespace {

const char* matrix_name(bool gap_removed) { return gap_removed ? "A_perp" : "A"; }

}  // namespace

std::string markov_spectra_csv(const MarkovStudy& s) {
  std::string out = "T,kind,matrix,sigma1,sigma2,top_eigenvalue,scale,scale_theory,ks_quarter_circle,"
                    "ks_circular,sr_matrix,sr_layer,gram_sr_layer\n";
  for (const auto& r : s.rows)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.T, to_string(r.kind),
                       matrix_name(r.gap_removed), num(r.sigma1), num(r.sigma2), num(r.top_eigenvalue),
                       num(r.scale), num(r.scale_theory), num(r.ks_quarter_circle), num(r.ks_circular),
                       num(r.sr_matrix), num(r.sr_layer), num(r.gram_sr_layer));
  return out;
}

std::string markov_slopes_csv(const MarkovStudy& s) {
  std::string out = "kind,matrix,slope_layer,slope_layer_se,intercept_layer,r2_layer,slope_matrix,"
                    "slope_matrix_se\n";
  for (const auto& f : s.slopes)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", to_string(f.kind), matrix_name(f.gap_removed),
                       num(f.layer.slope), num(f.layer.slope_se), num(f.layer.intercept),
                       num(f.layer.r2), num(f.matrix.slope), num(f.matrix.slope_se));
  return out;
}

std::string markov_values_csv(const MarkovStudy& s) {
  std::string out = "T,kind,matrix,what,re,im\n";
  for (const auto& v : s.samples) {
    const std::string key = fmt::format("{},{},{}", v.T, to_string(v.kind), matrix_name(v.gap_removed));
    for (double x : v.singular) out += fmt::format("{},singular,{:.7g},0\n", key, x);
    for (size_t i = 0; i < v.eig_re.size(); ++i)
      out += fmt::format("{},eigenvalue,{:.7g},{:.7g}\n", key, v.eig_re[i], v.eig_im[i]);
  }
  return out;
}

std::string markov_depth_csv(const MarkovStudy& s) {
  std::string out = "stack,matrix,layer,stable_rank,gram_stable_rank\n";
  for (const auto& r : s.depth_rows)
    out += fmt::format("{},{},{},{},{}\n", r.stack, matrix_name(r.gap_removed), r.layer, num(r.sr),
                       num(r.gram_sr));
  return out;
}

std::string markov_summary_text(const MarkovStudy& s) {
  const auto& o = s.options;
  std::string out = fmt::format(
      "attention spectra and rank collapse in width (paper 003): {} draws per (T, kind), d = {:g}T\n",
      o.draws, o.aspect);
  out += fmt::format("{:>5} {:<14} {:<7} {:>8} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8} {:>8}\n", "T",
                     "kind", "matrix", "s1(vTA)", "s2", "s/m", "theory", "KS(qc)", "KS(disk)",
                     "sr(A)", "sr(X1)");
  for (const auto& r : s.rows)
    out += fmt::format("{:>5} {:<14} {:<7} {:>8.2f} {:>6.2f} {:>6.3f} {:>6.3f} {:>7.4f} {:>7.4f} {:>8.2f} {:>8.2f}\n",
                       r.T, to_string(r.kind), matrix_name(r.gap_removed), r.sigma1, r.sigma2,
                       r.scale, r.scale_theory, r.ks_quarter_circle, r.ks_circular, r.sr_matrix,
                       r.sr_layer);
  out += "stable rank against T (fitted slope +- s.e.; theory 0 for A, 1/4 for A_perp as d/T -> inf):\n";
  for (const auto& f : s.slopes)
    out += fmt::format("  {:<14} {:<7} sr(X1): {:.4f} +- {:.4f}   sr(A): {:.4f} +- {:.4f}\n",
                       to_string(f.kind), matrix_name(f.gap_removed), f.layer.slope, f.layer.slope_se,
                       f.matrix.slope, f.matrix.slope_se);
  for (const auto& r : s.rows)
    if (r.kind == AttentionDraw::RandomMarkov && !r.gap_removed && r.T == o.seqs.back()) {
      double slope_a = 0, slope_p = 0;
      for (const auto& f : s.slopes)
        if (f.kind == AttentionDraw::RandomMarkov) (f.gap_removed ? slope_p : slope_a) = f.layer.slope;
      out += fmt::format(
          "agreement: random Markov T = {}: KS to the quarter circle {:.4f}, to the circular law "
          "{:.4f}; sigma1 = {:.2f} (sqrt T = {:.2f}); sr(X1) slope A {:.4f} (theory 0), A_perp {:.4f} "
          "(theory 1/4)\n",
          r.T, r.ks_quarter_circle, r.ks_circular, r.sigma1, std::sqrt(double(r.T)), slope_a, slope_p);
    }
  return out;
}

}  // namespace sigprop
