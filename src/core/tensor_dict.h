// Named tensors handed between sigprop and its PyTorch references and peers, as safetensors files
// (core/safetensors.h): read on the Python side by safetensors.torch.load_file, which runs no
// pickle, so no torch.load(weights_only=...) policy of any torch version can refuse or misread them.
#pragma once

#include <string>

#include <torch/torch.h>

namespace sigprop {

using TensorDict = c10::Dict<std::string, torch::Tensor>;

// Written atomically; the tensors are copied to the CPU, contiguous.
void save_tensor_dict(const std::string& path, const TensorDict& dict);
TensorDict load_tensor_dict(const std::string& path);  // throws DataError naming the file

}  // namespace sigprop
