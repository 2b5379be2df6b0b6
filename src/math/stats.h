// The statistics that turn a prediction and a measurement into one number: two-sample and
// one-sample Kolmogorov–Smirnov distances with their 5% critical values, quantiles, histograms,
// least-squares lines, and the random-matrix laws of paper 003 (quarter circle, circular law).
// Pure functions on plain vectors; NaNs are the caller's to remove.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace sigprop {

// D = sup_x |F_a(x) − F_b(x)| of the two empirical CDFs. Throws ConfigError on an empty sample.
double ks_two_sample(std::vector<double> a, std::vector<double> b);

// D = sup_x |F_n(x) − F(x)| against a continuous CDF F.
double ks_one_sample(std::vector<double> x, const std::function<double(double)>& cdf);

// Asymptotic critical value of D at level α: c(α)·√((n+m)/(n·m)), c(α) = √(−ln(α/2)/2)
// (1.358 at α = 0.05). For a one-sample test pass m = 0: c(α)/√n.
double ks_critical(std::size_t n, std::size_t m, double alpha = 0.05);

// P(D ≥ d) under the null, Kolmogorov's limit law with Stephens' small-sample correction:
// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, λ = (√n_e + 0.12 + 0.11/√n_e)·d, n_e = nm/(n+m)
// (n_e = n for one sample, m = 0).
double ks_pvalue(double d, std::size_t n, std::size_t m);

// The p-quantile, linear interpolation between order statistics (R's type 7).
double quantile(std::vector<double> x, double p);

struct SampleSummary {
  std::size_t n = 0;
  double mean = 0, sd = 0, q10 = 0, q50 = 0, q90 = 0;
};
SampleSummary summarize(const std::vector<double>& x);

// Density histogram: `bins` equal bins on [lo, hi] (values outside are clamped into the end
// bins); returns the density of each bin (integrates to 1 over [lo, hi]).
std::vector<double> histogram_density(const std::vector<double>& x, double lo, double hi, int bins);

// Ordinary least squares y = intercept + slope·x, with the slope's standard error and R².
struct LineFit {
  double slope = 0, intercept = 0, slope_se = 0, r2 = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

// Quarter-circle law of the singular values of an n×n matrix with i.i.d. entries of variance
// s²/n (Marchenko–Pastur at ratio 1): support [0, r] with r = 2s, density (4/(πr²))·√(r² − x²);
// for r = 2: (1/π)√(4 − x²). CDF, with u = x/r: F = (2/π)(u√(1 − u²) + arcsin u).
double quarter_circle_density(double x, double radius);
double quarter_circle_cdf(double x, double radius);

// Circular law: eigenvalues uniform on the disk of radius r, so |λ| has CDF (x/r)² on [0, r].
double circular_law_modulus_cdf(double x, double radius);

}  // namespace sigprop
