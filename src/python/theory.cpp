// The theory studies for Python (studies/): each study's options as a class whose fields are
// the CLI's options, and a call that runs it and returns what `sigprop theory X` saves, its CSV
// tables and summary (sigprop/theory.py turns the tables into numpy arrays). The same code and
// the same seed give the CLI's numbers.
#include <string>
#include <utility>
#include <vector>

#include "config/presets.h"
#include "config/spec_io.h"
#include "probe/probe_input.h"
#include "python/bindings.h"
#include "studies/escalation/escalation_report.h"
#include "studies/escalation/escalation_study.h"
#include "studies/gradients/gradient_study.h"
#include "studies/gradients/gradients_report.h"
#include "studies/markov/markov_report.h"
#include "studies/markov/markov_study.h"
#include "studies/predict/predict_report.h"
#include "studies/predict/predict_study.h"
#include "studies/sde/sde_report.h"
#include "studies/sde/sde_study.h"
#include "studies/tat/tat_report.h"
#include "studies/tat/tat_study.h"

namespace py = pybind11;

namespace sigprop::python {
namespace {

// A study's run with its GIL released; Ctrl-C in Python stops it between simulations.
template <class Options, class Run, class Describe>
py::dict run_study(const Options& o, Run run, Describe describe) {
  validate(o);
  StudyOutput out;
  {
    py::gil_scoped_release release;
    const auto study = run(o, [](int, int, const std::string&) {
      py::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    });
    out = describe(study, o);
  }
  py::dict d;
  d["tables"] = out.files;
  d["summary"] = out.summary;
  d["params"] = out.params.dump();
  return d;
}

}  // namespace

void bind_theory(py::module_& m) {
  auto t = m.def_submodule("theory", "the theory studies (studies/)");

  py::class_<SdeStudyOptions>(t, "SdeOptions")
      .def(py::init<>())
      .def_property("gamma", [](const SdeStudyOptions& o) { return o.params.gamma; },
                    [](SdeStudyOptions& o, double v) { o.params.gamma = v; })
      .def_property("tau0", [](const SdeStudyOptions& o) { return o.params.tau0; },
                    [](SdeStudyOptions& o, double v) { o.params.tau0 = v; })
      .def_property("mlp", [](const SdeStudyOptions& o) { return o.params.mlp; },
                    [](SdeStudyOptions& o, bool v) { o.params.mlp = v; })
      .def_property("c_plus", [](const SdeStudyOptions& o) { return o.params.c_plus; },
                    [](SdeStudyOptions& o, double v) { o.params.c_plus = v; })
      .def_property("c_minus", [](const SdeStudyOptions& o) { return o.params.c_minus; },
                    [](SdeStudyOptions& o, double v) { o.params.c_minus = v; })
      .def_readwrite("tokens", &SdeStudyOptions::tokens)
      .def_readwrite("rho0", &SdeStudyOptions::rho0)
      .def_readwrite("horizon", &SdeStudyOptions::horizon)
      .def_readwrite("step", &SdeStudyOptions::step)
      .def_readwrite("paths", &SdeStudyOptions::paths)
      .def_readwrite("widths", &SdeStudyOptions::widths)
      .def_readwrite("key_width", &SdeStudyOptions::key_width)
      .def_readwrite("networks", &SdeStudyOptions::networks)
      .def_readwrite("full_networks", &SdeStudyOptions::full_networks)
      .def_readwrite("reduced", &SdeStudyOptions::reduced)
      .def_readwrite("seed", &SdeStudyOptions::seed);
  t.def("sde", [](const SdeStudyOptions& o) {
    return run_study(o, [](const auto& o, const auto& p) { return run_sde_study(o, p); }, sde_output);
  });

  py::class_<TatStudyOptions>(t, "TatOptions")
      .def(py::init<>())
      .def_readwrite("slopes", &TatStudyOptions::slopes)
      .def_readwrite("nonlinearities", &TatStudyOptions::nonlinearities)
      .def_readwrite("etas", &TatStudyOptions::etas)
      .def_readwrite("eta", &TatStudyOptions::eta)
      .def_readwrite("curve_ns", &TatStudyOptions::curve_ns)
      .def_readwrite("depth", &TatStudyOptions::depth)
      .def_readwrite("width", &TatStudyOptions::width)
      .def_readwrite("networks", &TatStudyOptions::networks)
      .def_readwrite("c0s", &TatStudyOptions::c0s)
      .def_readwrite("transformer_width", &TatStudyOptions::transformer_width)
      .def_readwrite("seq", &TatStudyOptions::seq)
      .def_readwrite("batch", &TatStudyOptions::batch)
      .def_readwrite("transformers", &TatStudyOptions::transformers)
      .def_readwrite("seed", &TatStudyOptions::seed);
  t.def("tat", [](const TatStudyOptions& o) {
    return run_study(o, [](const auto& o, const auto& p) { return run_tat_study(o, p); }, tat_output);
  });

  py::class_<MarkovStudyOptions>(t, "MarkovOptions")
      .def(py::init<>())
      .def_readwrite("seqs", &MarkovStudyOptions::seqs)
      .def_readwrite("draws", &MarkovStudyOptions::draws)
      .def_readwrite("aspect", &MarkovStudyOptions::aspect)
      .def_property("kinds",
                    [](const MarkovStudyOptions& o) {
                      std::vector<std::string> names;
                      for (auto k : o.kinds) names.push_back(to_string(k));
                      return names;
                    },
                    [](MarkovStudyOptions& o, const std::vector<std::string>& names) {
                      o.kinds.clear();
                      for (const auto& n : names) o.kinds.push_back(parse_attention_draw(n));
                    })
      .def_readwrite("depth", &MarkovStudyOptions::depth)
      .def_readwrite("depth_seq", &MarkovStudyOptions::depth_seq)
      .def_readwrite("seed", &MarkovStudyOptions::seed);
  t.def("markov", [](const MarkovStudyOptions& o) {
    return run_study(o, [](const auto& o, const auto& p) { return run_markov_study(o, p); }, markov_output);
  });

  py::class_<EscalationOptions>(t, "EscalationOptions")
      .def(py::init([] {
        EscalationOptions o;
        o.specs = {load_preset("post-ln"), load_preset("post-ln-simremove")};  // the CLI's default
        return o;
      }))
      .def_property("presets",
                    [](const EscalationOptions& o) {
                      std::vector<std::string> names;
                      for (const auto& s : o.specs) names.push_back(s.name);
                      return names;
                    },
                    [](EscalationOptions& o, const std::vector<std::string>& names) {
                      o.specs.clear();
                      for (const auto& n : names) o.specs.push_back(load_preset(n));
                    })
      .def_readwrite("depth", &EscalationOptions::depth)
      .def_readwrite("seq", &EscalationOptions::seq)
      .def_readwrite("batch", &EscalationOptions::batch)
      .def_readwrite("inits", &EscalationOptions::seeds)
      .def_readwrite("seed", &EscalationOptions::first_seed)
      .def_property("input", [](const EscalationOptions& o) { return to_string(o.input); },
                    [](EscalationOptions& o, const std::string& v) { o.input = parse_probe_input(v); })
      .def_readwrite("floor", &EscalationOptions::floor);
  t.def("escalation", [](const EscalationOptions& o) {
    return run_study(o, [](const auto& o, const auto& p) { return run_escalation_study(o, p); },
                     escalation_output);
  });

  py::class_<GradientStudyOptions>(t, "GradientsOptions")
      .def(py::init<>())
      .def_readwrite("depths", &GradientStudyOptions::depths)
      .def_readwrite("width", &GradientStudyOptions::width)
      .def_readwrite("seq", &GradientStudyOptions::seq)
      .def_readwrite("batch", &GradientStudyOptions::batch)
      .def_readwrite("networks", &GradientStudyOptions::networks)
      .def_readwrite("pre_ln", &GradientStudyOptions::pre_ln)
      .def_readwrite("mlp", &GradientStudyOptions::mlp)
      .def_readwrite("seed", &GradientStudyOptions::seed);
  // predict: the specs arrive as spec JSON (sigprop.nn.make_spec or a Transformer's spec_json).
  py::class_<PredictStudyOptions>(t, "PredictOptions")
      .def(py::init<>())
      .def_property("input", [](const PredictStudyOptions& o) { return to_string(o.input); },
                    [](PredictStudyOptions& o, const std::string& v) { o.input = parse_probe_input(v); })
      .def_readwrite("seq", &PredictStudyOptions::seq)
      .def_readwrite("batch", &PredictStudyOptions::batch)
      .def_property("paths", [](const PredictStudyOptions& o) { return o.predict.paths; },
                    [](PredictStudyOptions& o, int v) { o.predict.paths = v; })
      .def_property("quadrature", [](const PredictStudyOptions& o) { return o.predict.quadrature; },
                    [](PredictStudyOptions& o, int v) { o.predict.quadrature = v; })
      .def_property("seed", [](const PredictStudyOptions& o) { return o.predict.seed; },
                    [](PredictStudyOptions& o, uint64_t v) { o.predict.seed = v; })
      .def_readwrite("widths", &PredictStudyOptions::compare_widths)
      .def_readwrite("seeds", &PredictStudyOptions::seeds)
      .def_readwrite("map", &PredictStudyOptions::map)
      .def_readwrite("map_size", &PredictStudyOptions::map_size)
      .def_readwrite("map_seq", &PredictStudyOptions::map_seq)
      .def_readwrite("map_paths", &PredictStudyOptions::map_paths)
      .def_readwrite("alpha_min", &PredictStudyOptions::alpha_min)
      .def_readwrite("alpha_max", &PredictStudyOptions::alpha_max)
      .def_readwrite("logit_min", &PredictStudyOptions::logit_min)
      .def_readwrite("logit_max", &PredictStudyOptions::logit_max)
      .def_readwrite("map_check", &PredictStudyOptions::map_check)
      .def_readwrite("map_check_width", &PredictStudyOptions::map_check_width);
  t.def("predict", [](PredictStudyOptions o, const std::vector<std::string>& spec_jsons) {
    o.specs.clear();
    for (const auto& j : spec_jsons) o.specs.push_back(spec_from_json(nlohmann::json::parse(j)));
    return run_study(o, [](const auto& o, const auto& p) { return run_predict_study(o, p); }, predict_output);
  });

  t.def("gradients", [](const GradientStudyOptions& o) {
    return run_study(o, [](const auto& o, const auto& p) { return run_gradient_study(o, p); },
                     gradients_output);
  });
}

}  // namespace sigprop::python
