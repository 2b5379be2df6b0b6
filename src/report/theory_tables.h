// CSV tables and printed summaries of the `sigprop theory` studies (src/theory/*_study.h).
#pragma once

#include <string>

#include "theory/markov_spectra.h"
#include "theory/sde_study.h"

namespace sigprop {

// sde_summary.csv: series,kind,sampler,width,samples,mean,sd,q10,q50,q90,blown_up
std::string sde_summary_csv(const SdeStudy& s);
// sde_ks.csv: a,b,ks,critical_5pct,p_value,agree
std::string sde_ks_csv(const SdeStudy& s);
// sde_samples.csv: series,rho (the final-layer ρ₀₁ of every path and network)
std::string sde_samples_csv(const SdeStudy& s);
// sde_depth.csv: series,t,mean_rho
std::string sde_depth_csv(const SdeStudy& s);
// The printed summary, ending with the agreement figure.
std::string sde_summary_text(const SdeStudy& s);

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

}  // namespace sigprop
