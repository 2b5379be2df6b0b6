// Named tensors in PyTorch's pickle format (torch.save / torch.load on the Python side): how
// sigprop hands weights and batches to its PyTorch references and peers.
#pragma once

#include <string>

#include <torch/torch.h>

namespace sigprop {

using TensorDict = c10::Dict<std::string, torch::Tensor>;

// Written atomically. A one-entry dict pickles with SETITEM, which LibTorch 1.13 cannot read
// back; sigprop's dicts always hold several entries.
void save_tensor_dict(const std::string& path, const TensorDict& dict);
TensorDict load_tensor_dict(const std::string& path);  // throws DataError naming the file

}  // namespace sigprop
