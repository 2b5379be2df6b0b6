// Gnuplot scripts of the `sigprop theory` studies: prediction and measurement on one figure.
// Bodies for render_plot (report/gnuplot.h), data inline.
#pragma once

#include <string>

#include "theory/sde_study.h"

namespace sigprop {

// Left: histograms of the final ρ₀₁ (SDE with and without attention terms as lines; finite
// shaped and unshaped softmax networks as boxes). Right: mean correlation against t = layer/n.
std::string sde_plot_script(const SdeStudy& s);

}  // namespace sigprop
