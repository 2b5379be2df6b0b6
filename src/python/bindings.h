// The parts of the `_sigprop` extension, one file each: module.cpp (the probe's metrics, TAT),
// nn.cpp (sigprop's modules as handles the Python classes of sigprop/nn.py wrap), runs.cpp
// (run folders, safetensors), theory.cpp (the studies' tables), ops.cpp (torch.ops.sigprop),
// advise.cpp (the advisor).
#pragma once

#include <torch/extension.h>

#include <functional>
#include <memory>
#include <vector>

#include "model/transformer.h"
#include "probe/probe.h"

namespace sigprop::python {

// One LibTorch module with its forward, for a Python class of sigprop/nn.py to wrap.
struct ModuleHandle {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const std::vector<torch::Tensor>&)> forward;
  std::function<torch::Tensor(const torch::Tensor&)> attention;  // A (B, H, T, T), when one
  std::shared_ptr<TransformerImpl> transformer;                  // sigprop's whole model
  size_t arity = 1;                                              // tensors forward takes
};
ModuleHandle transformer_handle(Transformer model);
TransformerImpl& model_of(const ModuleHandle& h);  // ConfigError when not a Transformer

void bind_nn(pybind11::module_& m);
void bind_runs(pybind11::module_& m);
void bind_theory(pybind11::module_& m);
void bind_advise(pybind11::module_& m);

// One probe row (a dict of probe.csv's columns, as sigprop.probe returns them) as LayerMetrics.
LayerMetrics metrics_from_dict(const pybind11::dict& d);

}  // namespace sigprop::python
