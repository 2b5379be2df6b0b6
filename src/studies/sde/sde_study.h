// `sigprop theory sde`: the shaped transformer's covariance SDE beside finite networks at the
// same (γ, τ₀, n, depth = t·n, ρ₀), paper 004 (Noci, Li, Li, He, Hofmann, Maddison & Roy 2023).
// Runs the SDE with and without its attention terms, finite shaped networks by the samplers of
// studies/sde/shaped_finite.h, and the unshaped softmax control; compares the final-layer
// correlation ρ₀₁ by two-sample Kolmogorov–Smirnov distances.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "studies/sde/shaped_finite.h"
#include "math/shaped_sde.h"
#include "math/stats.h"

namespace sigprop {

struct SdeStudyOptions {
  ShapedParams params;    // params.attention is ignored: both SDEs are run
  int64_t tokens = 2;     // m
  double rho0 = 0.2;      // initial pairwise correlation
  double horizon = 0.75;  // t = depth/width
  double step = 0.01;     // Euler–Maruyama h
  int64_t paths = 4096;   // SDE paths (each SDE)
  std::vector<int64_t> widths{200};
  int64_t key_width = 0;        // n_k; 0 = n
  int64_t networks = 4096;      // finite networks per width and sampler (reduced, gram)
  int64_t full_networks = 128;  // full-weight networks at the first width; 0 = none
  bool reduced = true;          // run the chol(V)·Z sampler at every width
  uint64_t seed = 0;
};
// Throws ConfigError naming the option.
void validate(const SdeStudyOptions& o);

// One sample of final-layer correlations and its mean-correlation path.
struct CorrelationSeries {
  std::string name;     // "sde", "sde-no-attention", "shaped n=200 reduced", "softmax n=200 gram"
  std::string kind;     // sde | sde-no-attention | shaped | softmax
  std::string sampler;  // "" for the SDEs
  int64_t width = 0;    // 0 for the SDEs
  std::vector<double> final_rho;    // ρ₀₁ at t, one per path or network
  std::vector<double> t, mean_rho;  // mean off-diagonal correlation against t = layer/n
  SampleSummary summary;
  int64_t blown_up = 0;  // SDE paths stopped before t
};

struct KsComparison {
  std::string a, b;
  double d = 0, critical = 0, p_value = 0;  // D, its 5% critical value, asymptotic p
  bool agree() const { return d < critical; }
};

struct SdeStudy {
  SdeStudyOptions options;
  std::vector<CorrelationSeries> series;
  std::vector<KsComparison> ks;
  const CorrelationSeries& find(const std::string& name) const;  // throws std::out_of_range
};

// progress(done, total, what) after each simulation.
SdeStudy run_sde_study(const SdeStudyOptions& o,
                       const std::function<void(int, int, const std::string&)>& progress = nullptr);

// The name of the finite shaped series that carries the agreement figure: the reduced sampler
// (docs/methods.md's chol(V)·Z) at width n when it was run, else the Gram chain.
std::string headline_series(const SdeStudyOptions& o, int64_t width);

}  // namespace sigprop
