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
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", c.name, c.kind, c.sampler, c.width,
                       m.n, num(m.mean), num(m.sd), num(m.q10), num(m.q50), num(m.q90), c.blown_up);
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
                    matrix_name(r.gap_removed), num(r.sigma1), num(r.sigma2), num(r.top_eigenvalue),
                    num(r.scale), num(r.scale_theory), num(r.ks_quarter_circle), num(r.ks_circular),
                    num(r.sr_matrix), num(r.sr_layer), num(r.gram_sr_layer));
  return out;
}

std::string markov_slopes_csv(const MarkovStudy& s) {
  std::string out =
      "kind,matrix,slope_layer,slope_layer_se,intercept_layer,r2_layer,slope_matrix,"
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
    out += fmt::format("{},{},{},{},{}\n", r.stack, matrix_name(r.gap_removed), r.layer, num(r.sr),
                       num(r.gram_sr));
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

std::string tat_curves_csv(const TatStudy& s) {
  std::string out = "curve,kind,slope,n,c,value\n";
  for (const auto* group : {&s.cmaps, &s.iterates})
    for (const auto& c : *group)
      for (size_t i = 0; i < s.grid.size(); ++i)
        out +=
            fmt::format("{},{},{},{},{:.4g},{}\n", c.label, group == &s.cmaps ? "cmap" : "iterate",
                        num(c.slope), c.n, s.grid[i], num(c.values[i]));
  return out;
}

std::string tat_slopes_csv(const TatStudy& s) {
  std::string out = "n,eta,slope,reachable_eta\n";
  for (const auto& c : s.table)
    out += fmt::format("{},{},{},{}\n", c.n, num(c.eta), num(c.slope), num(c.reachable));
  return out;
}

std::string tat_mlp_csv(const TatStudy& s) {
  std::string out = "c0,layer,predicted,measured,measured_sd\n";
  for (const auto& r : s.mlp)
    out += fmt::format("{},{},{},{},{}\n", num(r.c0), r.layer, num(r.predicted), num(r.measured),
                       num(r.measured_sd));
  return out;
}

std::string tat_transformer_csv(const TatStudy& s) {
  std::string out = "layer,predicted_mean_rho,measured_mean_rho,mean_abs_error\n";
  for (const auto& r : s.transformer)
    out += fmt::format("{},{},{},{}\n", r.layer, num(r.predicted_mean_rho),
                       num(r.measured_mean_rho), num(r.mean_abs_error));
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

std::string escalation_layers_csv(const EscalationStudy& s) {
  std::string out = "preset,layer,t_div,t_div_ratio,lambda2\n";
  for (const auto& l : s.layers)
    out += fmt::format("{},{},{},{},{}\n", l.preset, l.layer, num(l.t_div), num(l.ratio),
                       num(l.lambda2));
  return out;
}

std::string escalation_fits_csv(const EscalationStudy& s) {
  std::string out = "preset,layers_fitted,rate,log_slope_se,lambda2_mean,lambda2_sq_mean\n";
  for (const auto& f : s.fits)
    out += fmt::format("{},{},{},{},{},{}\n", f.preset, f.layers_fitted, num(f.rate),
                       num(f.log_fit.slope_se), num(f.lambda2_mean), num(f.lambda2_sq_mean));
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

std::string gradients_csv(const GradientStudy& s) {
  std::string out = "depth,scaling,layer,measured_q,predicted_q,measured_v,predicted_v,spread\n";
  for (const auto& r : s.rows)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", r.depth, r.scaled ? "1/sqrt(L)" : "1", r.layer,
                       num(r.measured_q), num(r.predicted_q), num(r.measured_v), num(r.predicted_v),
                       num(r.spread));
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

}  // namespace sigprop
