// The tables, printed summary and figure of the markov study (studies/markov/markov_study.h): what
// `sigprop theory markov` writes, as text, for the fronts to save or print.
#pragma once

#include <string>

#include "studies/study_output.h"

#include "studies/markov/markov_study.h"

namespace sigprop {

// markov_spectra.csv: T,kind,matrix,sigma1,sigma2,top_eigenvalue,scale,scale_theory,
//   ks_quarter_circle,ks_circular,sr_matrix,sr_layer,gram_sr_layer
std::string markov_spectra_csv(const MarkovStudy& s);
// markov_slopes.csv: kind,matrix,slope_layer,slope_layer_se,intercept_layer,r2_layer,
//   slope_matrix,slope_matrix_se
std::string markov_slopes_csv(const MarkovStudy& s);
// markov_values.csv: T,kind,matrix,what,re,im (first draw; singular values and eigenvalues of
//   √T·A divided by the measured scale σ/m)
std::string markov_values_csv(const MarkovStudy& s);
// markov_depth.csv: stack,matrix,layer,stable_rank,gram_stable_rank
std::string markov_depth_csv(const MarkovStudy& s);
std::string markov_summary_text(const MarkovStudy& s);

// 2×2: bulk singular values of √T·A (÷ σ/m) against the quarter circle; eigenvalues against the
// unit disk; stable rank after one layer against T with fitted lines; stable rank across depth.
std::string markov_plot_script(const MarkovStudy& s);

// Everything `sigprop theory markov` saves: the tables above, the figure, the summary, and the
// options as run.json's params.
StudyOutput markov_output(const MarkovStudy& study, const MarkovStudyOptions& o);

}  // namespace sigprop
