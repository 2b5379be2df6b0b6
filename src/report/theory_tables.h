// CSV tables and printed summaries of the `sigprop theory` studies (src/theory/*_study.h).
#pragma once

#include <string>

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

}  // namespace sigprop
