// Tailored Activation Transformation for leaky ReLU (Zhang et al. 2022), as used for the MLPs of
// skipless transformers by He et al. 2023 (paper 001). Pure functions, one equation each.
#pragma once

namespace sigprop {

// TAT leaky ReLU, φ(x) = √(2/(1+α²)) · max(x, αx): unit second moment under N(0,1) input.
double tat_leaky_relu_gain(double slope);

// Correlation map of φ for unit-variance inputs with correlation c:
//   C(c) = c + (1−α)² / (π(1+α²)) · (√(1−c²) − c·arccos c).
double tat_c_map(double c, double slope);

// C^{∘N}(c0): the correlation after a chain of N nonlinearities.
double tat_c_map_iterate(double c0, double slope, int n);

// The slope α in [0, 1] with C_α^{∘N}(0) = η, by bisection (C^{∘N}(0) falls from its ReLU value
// at α = 0 to 0 at α = 1). Throws ConfigError naming the largest reachable η when η is above
// the ReLU chain's C^{∘N}(0), or η is outside (0, 1).
double tat_solve_slope(double eta, int n);

}  // namespace sigprop
