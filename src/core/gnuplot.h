// Plots through gnuplot: one script body (no terminal or output lines), rendered to
// `base.png` and `base.svg`, each written atomically.
#pragma once

#include <string>

namespace sigprop {

// Data blocks for a script: "$name << EOD\n...\nEOD\n".
std::string gnuplot_datablock(const std::string& name, const std::string& rows);

// Text for a single-quoted gnuplot string in enhanced mode: underscores (which would start
// subscripts), braces and quotes escaped, so "mlp_width=256" prints as written.
std::string gnuplot_text(const std::string& s);

// Line colour and dash of the i-th series: 12 colours ordered so that neighbours differ in hue
// and lightness (no pale yellow), then dashed repeats, so a dozen presets stay distinguishable.
std::string series_style(size_t i);
// Point type of the i-th series: 12 distinct markers, so series differ without colour too.
std::string series_marker(size_t i);

// Throws std::runtime_error when gnuplot is missing or fails (message says which).
void render_plot(const std::string& script, const std::string& base, int width_px = 1500,
                 int height_px = 500);

}  // namespace sigprop
