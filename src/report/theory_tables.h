// CSV tables and printed summaries of the `sigprop theory` studies (src/theory/*_study.h).
#pragma once

#include <string>

#include "theory/escalation_study.h"
#include "theory/gradient_study.h"
#include "theory/markov_spectra.h"
#include "theory/sde_study.h"
#include "theory/tat_study.h"

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

// tat_cmaps.csv: curve,kind,slope,n,c,value (C_α and C_α^{∘N} on the grid)
std::string tat_curves_csv(const TatStudy& s);
// tat_slopes.csv: n,eta,slope,reachable_eta
std::string tat_slopes_csv(const TatStudy& s);
// tat_mlp.csv: c0,layer,predicted,measured,measured_sd
std::string tat_mlp_csv(const TatStudy& s);
// tat_transformer.csv: layer,predicted_mean_rho,measured_mean_rho,mean_abs_error
std::string tat_transformer_csv(const TatStudy& s);
std::string tat_summary_text(const TatStudy& s);

// escalation_layers.csv: preset,layer,t_div,t_div_ratio,lambda2
std::string escalation_layers_csv(const EscalationStudy& s);
// escalation_fits.csv: preset,layers_fitted,rate,rate_log_slope_se,lambda2_mean,lambda2_sq_mean
std::string escalation_fits_csv(const EscalationStudy& s);
std::string escalation_summary_text(const EscalationStudy& s);

// gradients.csv: depth,scaling,layer,measured_q,predicted_q,measured_v,predicted_v,spread
std::string gradients_csv(const GradientStudy& s);
std::string gradients_summary_text(const GradientStudy& s);

}  // namespace sigprop
