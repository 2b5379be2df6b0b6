// Gnuplot scripts of the `sigprop theory` studies: prediction and measurement on one figure.
// Bodies for render_plot (report/gnuplot.h), data inline.
#pragma once

#include <string>

#include "theory/escalation_study.h"
#include "theory/gradient_study.h"
#include "theory/markov_spectra.h"
#include "theory/sde_study.h"
#include "theory/tat_study.h"

namespace sigprop {

// Left: histograms of the final ρ₀₁ (SDE with and without attention terms as lines; finite
// shaped and unshaped softmax networks as boxes). Right: mean correlation against t = layer/n.
std::string sde_plot_script(const SdeStudy& s);

// 2×2: bulk singular values of √T·A (÷ σ/m) against the quarter circle; eigenvalues against the
// unit disk; stable rank after one layer against T with fitted lines; stable rank across depth.
std::string markov_plot_script(const MarkovStudy& s);

// 2×2: C-maps; C^{∘N} with the solved slopes; the deep vanilla MLP's measured correlation per
// layer against C^{∘l}(c0); the vanilla transformer's mean token correlation against the kernel
// recursion.
std::string tat_plot_script(const TatStudy& s);

// Left: t_div against layer (log scale). Right: each block's t_div ratio (points) beside |λ₂|² of
// its attention (lines) and the fitted geometric rate (dashed), with and without the fix.
std::string escalation_plot_script(const EscalationStudy& s);

// Left: per-layer |∇W_Q| and |∇W_V| at the largest depth, measured (points) and predicted
// (lines), α = 1 and 1/√L. Right: the last block's |∇W_Q|/|∇W_V| against depth.
std::string gradients_plot_script(const GradientStudy& s);

}  // namespace sigprop
