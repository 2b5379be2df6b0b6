// The files tests/parity/reference.py and bench/probe_peer.py --parity read: DIR/spec.json (the
// model spec) and DIR/inputs.safetensors (every parameter and buffer by sigprop's name, "input", "target").
#pragma once

#include <torch/torch.h>

#include <filesystem>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/tensor_dict.h"
#include "model/transformer.h"

namespace sigprop::test {

inline void write_parity_inputs(const std::filesystem::path& dir, TransformerImpl& model,
                                const torch::Tensor& input, const torch::Tensor& target) {
  std::filesystem::create_directories(dir);
  c10::Dict<std::string, torch::Tensor> inputs;
  for (const auto& p : model.named_parameters()) inputs.insert(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) inputs.insert(b.key(), b.value().detach());
  inputs.insert("input", input);
  inputs.insert("target", target);
  save_tensor_dict(dir / "inputs.safetensors", inputs);
  write_file_atomic(dir / "spec.json", spec_to_json(model.spec).dump());
}

}  // namespace sigprop::test
