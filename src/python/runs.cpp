// Run folders both ways (train/run_files.h), safetensors files (core/safetensors.h) and the
// probe's batches (probe/probe_input.h), for sigprop/runs.py and sigprop/probe.py.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/safetensors.h"
#include "data/kjv.h"
#include "probe/probe_input.h"
#include "python/bindings.h"
#include "train/run_files.h"

namespace py = pybind11;

namespace sigprop::python {

void bind_runs(py::module_& m) {
  m.def("load_run",
        [](const std::string& dir) {
          int64_t step = 0;
          auto model = load_run_model(dir, &step);
          return py::make_tuple(transformer_handle(model), step);
        },
        py::arg("dir"), "(handle, step) of the run's last checkpoint");
  m.def("evaluate_run",
        [](const ModuleHandle& h, const std::string& dir) {
          Evaluation e;
          {
            py::gil_scoped_release release;
            e = evaluate_run(model_of(h), dir);
          }
          py::dict d;
          d["val_loss"] = e.loss, d["val_bpc"] = e.bpc, d["val_accuracy"] = e.accuracy;
          return d;
        },
        py::arg("model"), py::arg("dir"));
  m.def("save_run",
        [](const ModuleHandle& h, const std::string& dir, const std::string& train_json) {
          const auto config = train_config_with(nlohmann::json::parse(train_json));
          py::gil_scoped_release release;
          save_run(model_of(h), config, dir);
        },
        py::arg("model"), py::arg("dir"), py::arg("train_json"));
  m.def("export_run", &export_run, py::arg("dir"), py::arg("format"), py::arg("out"));
  m.def("load_safetensors",
        [](const std::string& path) {
          auto st = load_safetensors(path);
          return py::make_tuple(st.tensors, st.metadata);
        },
        py::arg("path"));
  m.def("save_safetensors",
        [](const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
           const std::map<std::string, std::string>& metadata) {
          save_safetensors(path, SafeTensors{tensors, metadata});
        },
        py::arg("path"), py::arg("tensors"), py::arg("metadata"));
  m.def("probe_batch",
        [](const std::string& input, int64_t width, int64_t batch, int64_t seq, uint64_t seed) {
          const auto kind = parse_probe_input(input);
          std::unique_ptr<CharCorpus> corpus;
          if (kind == ProbeInput::KJV) corpus = std::make_unique<CharCorpus>(load_kjv());
          const auto b = make_probe_batch(kind, width, batch, seq, seed, corpus.get());
          return py::make_tuple(b.input, b.target);
        },
        py::arg("input"), py::arg("width"), py::arg("batch"), py::arg("seq"), py::arg("seed"));
}

}  // namespace sigprop::python
