#include "core/tensor_dict.h"

#include "core/safetensors.h"

namespace sigprop {

void save_tensor_dict(const std::string& path, const TensorDict& dict) {
  SafeTensors st;
  for (const auto& kv : dict) st.tensors.emplace_back(kv.key(), kv.value().detach().cpu().contiguous());
  save_safetensors(path, st);
}

TensorDict load_tensor_dict(const std::string& path) {
  TensorDict out;
  for (auto& [name, tensor] : load_safetensors(path).tensors) out.insert(name, tensor);
  return out;
}

}  // namespace sigprop
