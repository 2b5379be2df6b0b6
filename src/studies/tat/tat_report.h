// The tables, printed summary and figure of the tat study (studies/tat/tat_study.h): what
// `sigprop theory tat` writes, as text, for the fronts to save or print.
#pragma once

#include <string>

#include "studies/study_output.h"

#include "studies/tat/tat_study.h"

namespace sigprop {

// tat_cmaps.csv: curve,kind,slope,n,c,value (C_α and C_α^{∘N} on the grid)
std::string tat_curves_csv(const TatStudy& s);
// tat_slopes.csv: n,eta,slope,reachable_eta
std::string tat_slopes_csv(const TatStudy& s);
// tat_mlp.csv: c0,layer,predicted,measured,measured_sd
std::string tat_mlp_csv(const TatStudy& s);
// tat_transformer.csv: layer,predicted_mean_rho,measured_mean_rho,mean_abs_error
std::string tat_transformer_csv(const TatStudy& s);
std::string tat_summary_text(const TatStudy& s);

// 2×2: C-maps; C^{∘N} with the solved slopes; the deep vanilla MLP's measured correlation per
// layer against C^{∘l}(c0); the vanilla transformer's mean token correlation against the kernel
// recursion.
std::string tat_plot_script(const TatStudy& s);

// Everything `sigprop theory tat` saves: the tables above, the figure, the summary, and the
// options as run.json's params.
StudyOutput tat_output(const TatStudy& study, const TatStudyOptions& o);

}  // namespace sigprop
