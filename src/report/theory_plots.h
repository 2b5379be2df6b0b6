// Gnuplot scripts of the `sigprop theory` studies: prediction and measurement on one figure.
// Bodies for render_plot (report/gnuplot.h), data inline.
#pragma once

#include <string>

#include "theory/markov_spectra.h"
#include "theory/sde_study.h"

namespace sigprop {

// Left: histograms of the final ρ₀₁ (SDE with and without attention terms as lines; finite
// shaped and unshaped softmax networks as boxes). Right: mean correlation against t = layer/n.
std::string sde_plot_script(const SdeStudy& s);

// 2×2: bulk singular values of √T·A (÷ σ/m) against the quarter circle; eigenvalues against the
// unit disk; stable rank after one layer against T with fitted lines; stable rank across depth.
std::string markov_plot_script(const MarkovStudy& s);

}  // namespace sigprop
