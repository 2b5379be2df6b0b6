#include "math/stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace sigprop {
namespace {

void require_sample(const std::vector<double>& x, const char* what) {
  if (x.empty()) throw ConfigError(std::string(what) + ": the sample is empty");
}

}  // namespace

double ks_two_sample(std::vector<double> a, std::vector<double> b) {
  require_sample(a, "two-sample KS");
  require_sample(b, "two-sample KS");
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double na = double(a.size()), nb = double(b.size());
  size_t i = 0, j = 0;
  double d = 0;
  // Walk the merged order; evaluate both CDFs after all ties at the current value.
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    d = std::max(d, std::fabs(i / na - j / nb));
  }
  return d;  // once one sample is used up, |F_a − F_b| only shrinks
}

double ks_one_sample(std::vector<double> x, const std::function<double(double)>& cdf) {
  require_sample(x, "one-sample KS");
  std::sort(x.begin(), x.end());
  const double n = double(x.size());
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, std::fabs((i + 1) / n - f), std::fabs(f - i / n)});
  }
  return d;
}

double ks_critical(std::size_t n, std::size_t m, double alpha) {
  const double c = std::sqrt(-std::log(alpha / 2.0) / 2.0);
  if (m == 0) return c / std::sqrt(double(n));
  return c * std::sqrt(double(n + m) / (double(n) * double(m)));
}

double ks_pvalue(double d, std::size_t n, std::size_t m) {
  const double ne = m == 0 ? double(n) : double(n) * double(m) / double(n + m);
  const double lambda = (std::sqrt(ne) + 0.12 + 0.11 / std::sqrt(ne)) * d;
  if (lambda < 0.2) return 1.0;
  double sum = 0, sign = 1;
  for (int k = 1; k <= 100; ++k) {
    const double term = sign * std::exp(-2.0 * k * k * lambda * lambda);
    sum += term;
    if (std::fabs(term) < 1e-12) break;
    sign = -sign;
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

double quantile(std::vector<double> x, double p) {
  require_sample(x, "quantile");
  std::sort(x.begin(), x.end());
  const double h = (x.size() - 1) * std::clamp(p, 0.0, 1.0);
  const size_t lo = size_t(std::floor(h));
  const size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - lo) * (x[hi] - x[lo]);
}

SampleSummary summarize(const std::vector<double>& x) {
  SampleSummary s;
  s.n = x.size();
  if (x.empty()) {
    s.mean = s.sd = s.q10 = s.q50 = s.q90 = std::nan("");
    return s;
  }
  double sum = 0;
  for (double v : x) sum += v;
  s.mean = sum / x.size();
  double ss = 0;
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.sd = x.size() > 1 ? std::sqrt(ss / (x.size() - 1)) : 0.0;
  s.q10 = quantile(x, 0.1);
  s.q50 = quantile(x, 0.5);
  s.q90 = quantile(x, 0.9);
  return s;
}

std::vector<double> histogram_density(const std::vector<double>& x, double lo, double hi,
                                      int bins) {
  if (!(hi > lo) || bins < 1) throw ConfigError("histogram: need hi > lo and bins >= 1");
  std::vector<double> h(bins, 0.0);
  if (x.empty()) return h;
  const double width = (hi - lo) / bins;
  for (double v : x) {
    const int b = std::clamp(int(std::floor((v - lo) / width)), 0, bins - 1);
    h[b] += 1.0;
  }
  for (double& v : h) v /= x.size() * width;
  return h;
}

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2)
    throw ConfigError("line fit: need at least two (x, y) points of equal count");
  const double n = double(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0) throw ConfigError("line fit: all x values are equal");
  LineFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  const double sse = std::max(0.0, syy - f.slope * sxy);
  f.r2 = syy > 0 ? 1.0 - sse / syy : 1.0;
  f.slope_se = x.size() > 2 ? std::sqrt(sse / (n - 2) / sxx) : 0.0;
  return f;
}

double quarter_circle_density(double x, double radius) {
  if (x < 0 || x > radius) return 0.0;
  return 4.0 / (M_PI * radius * radius) * std::sqrt(radius * radius - x * x);
}

double quarter_circle_cdf(double x, double radius) {
  if (x <= 0) return 0.0;
  if (x >= radius) return 1.0;
  const double u = x / radius;
  return 2.0 / M_PI * (u * std::sqrt(1.0 - u * u) + std::asin(u));
}

double circular_law_modulus_cdf(double x, double radius) {
  if (x <= 0) return 0.0;
  if (x >= radius) return 1.0;
  return (x / radius) * (x / radius);
}

}  // namespace sigprop
