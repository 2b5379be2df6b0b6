#include "core/tensor_dict.h"

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {

void save_tensor_dict(const std::string& path, const TensorDict& dict) {
  const auto bytes = torch::pickle_save(dict);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

TensorDict load_tensor_dict(const std::string& path) {
  const std::string text = read_file(path);
  TensorDict out;
  try {
    const auto generic = torch::pickle_load(std::vector<char>(text.begin(), text.end())).toGenericDict();
    for (const auto& kv : generic) out.insert(kv.key().toStringRef(), kv.value().toTensor());
  } catch (const c10::Error& e) {
    throw DataError(path + " is not a dict of tensors saved by torch.save: " + e.what_without_backtrace());
  }
  return out;
}

}  // namespace sigprop
