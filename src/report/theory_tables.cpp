#include "report/theory_tables.h"

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

}  // namespace sigprop
