// The tables, printed summary and figure of the sde study (studies/sde/sde_study.h): what
// `sigprop theory sde` writes, as text, for the fronts to save or print.
#pragma once

#include <string>

#include "studies/study_output.h"

#include "studies/sde/sde_study.h"

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

// Left: histograms of the final ρ₀₁ (SDE with and without attention terms as lines; finite
// shaped and unshaped softmax networks as boxes). Right: mean correlation against t = layer/n.
std::string sde_plot_script(const SdeStudy& s);

// Everything `sigprop theory sde` saves: the tables above, the figure, the summary, and the
// options as run.json's params.
StudyOutput sde_output(const SdeStudy& study, const SdeStudyOptions& o);

}  // namespace sigprop
