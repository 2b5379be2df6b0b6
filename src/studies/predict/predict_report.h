// The tables, summary and figure of `sigprop predict` (studies/predict/predict_study.h).
#pragma once

#include <string>

#include "studies/predict/predict_study.h"
#include "studies/study_output.h"

namespace sigprop {

// predict.csv: spec,width,depth,layer,attention,cosine,t_sim,entropy,lambda2,log10_grad_q_over_v,
// then the probe's mean and sd and the errors (empty without --compare-probe).
std::string predict_csv(const PredictStudy& s);
// predict_map.csv: spec,depth,alpha,logit,cosine,entropy_over_uniform,log10_grad_q_over_v;
// predict_map_depth.csv: spec,layer,alpha,cosine; predict_map_check.csv: the probed cells.
std::string predict_map_csv(const PredictStudy& s);
std::string predict_map_depth_csv(const PredictStudy& s);
std::string predict_map_check_csv(const PredictStudy& s);
std::string predict_summary_text(const PredictStudy& s);
std::string predict_plot_script(const PredictStudy& s);

StudyOutput predict_output(const PredictStudy& study, const PredictStudyOptions& o);

}  // namespace sigprop
