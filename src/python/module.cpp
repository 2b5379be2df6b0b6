// The Python front: `import sigprop` binds the library's calls, as thinly as the CLI does. The
// probe of a foreign model collects tensors in Python (sigprop/probe.py) and hands them to
// trace_metrics, the same code that fills probe.csv; the TAT maps are math/tat.h.
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"
#include "core/version.h"
#include "math/tat.h"
#include "probe/probe.h"
#include "python/bindings.h"

namespace py = pybind11;
using namespace sigprop;

namespace {

py::dict metrics_to_dict(const LayerMetrics& m) {
  py::dict d;
  d["layer"] = m.layer;
  for (const auto& f : layer_metric_fields()) d[f.name] = layer_metric(m, f);
  return d;
}

double field(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return NAN;
  return d[key].cast<double>();
}

}  // namespace

LayerMetrics python::metrics_from_dict(const py::dict& d) {
  LayerMetrics m;
  m.layer = d["layer"].cast<int>();
  for (const auto& f : layer_metric_fields())
    if (f.member) m.*f.member = field(d, f.name);
  return m;
}

namespace {

std::vector<py::dict> layer_metrics(const std::vector<torch::Tensor>& hidden,
                                    const std::vector<std::optional<torch::Tensor>>& attn,
                                    const std::vector<py::dict>& grads, double loss) {
  std::vector<torch::Tensor> matrices;
  for (const auto& a : attn) matrices.push_back(a ? *a : torch::Tensor());
  std::vector<BlockGradients> g;
  for (const auto& d : grads)
    g.push_back({field(d, "q"), field(d, "k"), field(d, "v"), field(d, "o"), field(d, "mlp")});
  std::vector<LayerMetrics> rows;
  {
    // The layers' metrics run on every core for this call (a user's torch may be set to fewer
    // threads); the user's setting is restored, on error too.
    struct Threads {
      int before = at::get_num_threads();
      Threads() { at::set_num_threads(available_cores()); }
      ~Threads() { at::set_num_threads(before); }
    } threads;
    py::gil_scoped_release release;
    rows = trace_metrics(hidden, matrices, g, loss);
  }
  std::vector<py::dict> out;
  for (const auto& r : rows) out.push_back(metrics_to_dict(r));
  return out;
}

std::string rows_to_csv(const std::vector<py::dict>& rows) {
  std::vector<ProbeRow> out;
  for (const auto& d : rows) {
    ProbeRow r;
    r.preset = d["model"].cast<std::string>();
    r.depth = d["depth"].cast<int>();
    r.width = d["width"].cast<int>();
    r.seed = d["seed"].cast<uint64_t>();
    r.config_id = d.contains("config_id") ? d["config_id"].cast<std::string>() : "";
    r.m = python::metrics_from_dict(d);
    out.push_back(r);
  }
  return probe_csv(out);
}

}  // namespace

PYBIND11_MODULE(_sigprop, m) {
  m.doc() = "sigprop's C++ library (src/), bound for the Python front";
  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  static py::exception<DataError> data_error(m, "DataError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      py::set_error(config_error, e.what());
    } catch (const DataError& e) {
      py::set_error(data_error, e.what());
    }
  });
  m.def("version", [] { return std::string(sigprop_version()) + " (" + git_revision() + ")"; });

  std::vector<std::string> columns;
  for (const auto& f : layer_metric_fields()) columns.push_back(f.name);
  m.attr("METRIC_COLUMNS") = columns;
  m.def("layer_metrics", &layer_metrics, py::arg("hidden"), py::arg("attn"), py::arg("grads"),
        py::arg("loss"),
        "Metrics of every layer of a traced model (probe/probe.h trace_metrics): hidden is L+1 "
        "tensors (B, T, d), attn L tensors (B, H, T, T) or None, grads L dicts of q, k, v, o, mlp.");
  m.def("probe_csv", &rows_to_csv, py::arg("rows"), "probe.csv text of result rows");

  auto tat = m.def_submodule("tat", "TAT leaky ReLU (paper 001), math/tat.h");
  tat.def("slope", &tat_solve_slope, py::arg("eta"), py::arg("n"),
          "alpha with C_alpha^{oN}(0) = eta; ValueError naming the reachable eta when out of reach");
  tat.def("cmap", [](double slope, double c) { return tat_c_map(c, slope); }, py::arg("slope"),
          py::arg("c"), "C_alpha(c): the correlation after one nonlinearity");
  tat.def("cmap_iterate", [](double slope, double c0, int n) { return tat_c_map_iterate(c0, slope, n); },
          py::arg("slope"), py::arg("c0"), py::arg("n"), "C_alpha^{oN}(c0)");
  tat.def("gain", &tat_leaky_relu_gain, py::arg("slope"), "sqrt(2/(1+alpha^2))");

  python::bind_nn(m);
  python::bind_runs(m);
  python::bind_theory(m);
  python::bind_advise(m);
}
