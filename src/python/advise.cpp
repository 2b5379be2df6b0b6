// The advisor for Python (studies/advise/advise.h): the diagnosis of probe rows from any model
// (sigprop/advise.py probes foreign models with sigprop.probe), the full advice with ranked fixes
// for sigprop's own models, and the terminal summary of either, from advice.json's layout.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/error.h"
#include "core/runtime.h"
#include "python/bindings.h"
#include "studies/advise/advise.h"

namespace py = pybind11;
using Json = nlohmann::json;

namespace sigprop::python {
namespace {

AdviseThresholds thresholds_from(const py::dict& d) {
  AdviseThresholds t;
  const std::vector<std::pair<const char*, double*>> keys = {
      {"collapse_cosine", &t.collapse_cosine}, {"qk_ratio", &t.qk_ratio}, {"spectral_gap", &t.spectral_gap},
      {"gradient_spread", &t.gradient_spread}, {"loss_excess", &t.loss_excess}};
  for (const auto& [k, v] : d) {
    const auto name = k.cast<std::string>();
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& p) { return name == p.first; });
    if (it == keys.end())
      throw ConfigError(fmt::format("thresholds: unknown key '{}'; keys: collapse_cosine, qk_ratio, "
                                    "spectral_gap, gradient_spread, loss_excess", name));
    *it->second = v.cast<double>();
  }
  return t;
}

AdviseWeights weights_from(const py::dict& d) {
  AdviseWeights w;
  const std::vector<std::pair<const char*, double*>> keys = {
      {"collapse", &w.collapse}, {"qk", &w.qk}, {"gap", &w.gap}, {"spread", &w.spread}, {"loss", &w.loss}};
  for (const auto& [k, v] : d) {
    const auto name = k.cast<std::string>();
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& p) { return name == p.first; });
    if (it == keys.end())
      throw ConfigError(fmt::format("weights: unknown key '{}'; keys: collapse, qk, gap, spread, loss", name));
    *it->second = v.cast<double>();
  }
  return w;
}

std::string diagnose_rows(const std::vector<std::vector<py::dict>>& seeds, double chance,
                          const py::dict& thresholds, const py::dict& weights) {
  std::vector<std::vector<LayerMetrics>> rows;
  for (const auto& seed : seeds) {
    rows.emplace_back();
    for (const auto& d : seed) rows.back().push_back(metrics_from_dict(d));
  }
  return diagnosis_to_json(diagnose(rows, chance, thresholds_from(thresholds), weights_from(weights))).dump();
}

std::string advise_spec(const std::string& spec_json, int seeds, int64_t seq, int64_t batch,
                        const std::string& input, const std::vector<std::string>& fixes, bool rank_fixes,
                        const py::dict& thresholds, const py::dict& weights, const std::string& tie_break,
                        int64_t train_steps,
                        int confirm_top, const std::string& data, const std::vector<double>& lr_grid,
                        const std::string& race_out, const std::string& device) {
  AdviseOptions o;
  o.spec = spec_from_json(Json::parse(spec_json));
  o.seeds = seeds, o.seq = seq, o.batch = batch;
  o.input = parse_probe_input(input);
  o.fixes = fixes, o.rank_fixes = rank_fixes;
  o.thresholds = thresholds_from(thresholds), o.weights = weights_from(weights);
  o.tie_break = parse_tie_break(tie_break);
  o.train_steps = train_steps, o.confirm_top = confirm_top;
  o.race.config.data = data, o.race.lr_grid = lr_grid, o.race.out = race_out;
  o.device = o.race.device = parse_device(device);
  validate(o);
  Advice a;
  {
    py::gil_scoped_release release;
    a = advise(o, [](int, int, const std::string&) {
      py::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    });
  }
  return advice_to_json(a, o).dump();
}

}  // namespace

void bind_advise(py::module_& m) {
  auto a = m.def_submodule("advise", "the advisor (studies/advise/advise.h)");
  a.def("diagnose", &diagnose_rows, py::arg("seeds"), py::arg("chance_loss"), py::arg("thresholds"),
        py::arg("weights"), "diagnosis JSON of per-seed probe rows");
  a.def("advise_spec", &advise_spec, py::arg("spec_json"), py::arg("seeds"), py::arg("seq"), py::arg("batch"),
        py::arg("input"), py::arg("fixes"), py::arg("rank_fixes"), py::arg("thresholds"), py::arg("weights"),
        py::arg("tie_break"), py::arg("train_steps"), py::arg("confirm_top"), py::arg("data"), py::arg("lr_grid"), py::arg("race_out"),
        py::arg("device"), "advice.json of one of sigprop's own models");
  a.def(
      "ranks_before",
      [](const std::string& a, const std::string& b, const std::string& tie_break) {
        return ranks_before(diagnosis_from_json(Json::parse(a)), diagnosis_from_json(Json::parse(b)),
                            parse_tie_break(tie_break));
      },
      py::arg("a"), py::arg("b"), py::arg("tie_break"),
      "whether diagnosis a (JSON) ranks before b: higher score, then the tie-break");
  a.def("text", [](const std::string& advice_json) { return advice_text(Json::parse(advice_json)); },
        py::arg("advice_json"), "the terminal summary of advice in advice.json's layout");
  a.def("penalty", &finding_penalty, py::arg("name"), py::arg("value"), py::arg("threshold"),
        "the penalty of one finding at a value against a threshold (docs/advise.md)");
  a.def("fix_names", &fix_names);
  a.def("fix_recipe", &fix_recipe, py::arg("name"));
}

}  // namespace sigprop::python
