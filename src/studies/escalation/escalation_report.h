// The tables, printed summary and figure of the escalation study (studies/escalation/escalation_study.h): what
// `sigprop theory escalation` writes, as text, for the fronts to save or print.
#pragma once

#include <string>

#include "studies/study_output.h"

#include "studies/escalation/escalation_study.h"

namespace sigprop {

// escalation_layers.csv: preset,layer,t_div,t_div_ratio,lambda2
std::string escalation_layers_csv(const EscalationStudy& s);
// escalation_fits.csv: preset,layers_fitted,rate,rate_log_slope_se,lambda2_mean,lambda2_sq_mean
std::string escalation_fits_csv(const EscalationStudy& s);
std::string escalation_summary_text(const EscalationStudy& s);

// Left: t_div against layer (log scale). Right: each block's t_div ratio (points) beside |λ₂|² of
// its attention (lines) and the fitted geometric rate (dashed), with and without the fix.
std::string escalation_plot_script(const EscalationStudy& s);

// Everything `sigprop theory escalation` saves: the tables above, the figure, the summary, and the
// options as run.json's params.
StudyOutput escalation_output(const EscalationStudy& study, const EscalationOptions& o);

}  // namespace sigprop
