// The tables, printed summary and figure of the gradients study (studies/gradients/gradient_study.h): what
// `sigprop theory gradients` writes, as text, for the fronts to save or print.
#pragma once

#include <string>

#include "studies/study_output.h"

#include "studies/gradients/gradient_study.h"

namespace sigprop {

// gradients.csv: depth,scaling,layer,measured_q,predicted_q,measured_v,predicted_v,spread
std::string gradients_csv(const GradientStudy& s);
std::string gradients_summary_text(const GradientStudy& s);

// Left: per-layer |∇W_Q| and |∇W_V| at the largest depth, measured (points) and predicted
// (lines), α = 1 and 1/√L. Right: the last block's |∇W_Q|/|∇W_V| against depth.
std::string gradients_plot_script(const GradientStudy& s);

// Everything `sigprop theory gradients` saves: the tables above, the figure, the summary, and the
// options as run.json's params.
StudyOutput gradients_output(const GradientStudy& study, const GradientStudyOptions& o);

}  // namespace sigprop
