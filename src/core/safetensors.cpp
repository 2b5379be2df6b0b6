#include "core/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/error.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian data; this reader copies bytes as they are");

namespace sigprop {
namespace {

using Json = nlohmann::json;

const std::vector<std::pair<std::string, torch::ScalarType>>& dtypes() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> table = {
      {"F64", torch::kDouble}, {"F32", torch::kFloat},  {"F16", torch::kHalf},
      {"BF16", torch::kBFloat16}, {"I64", torch::kLong}, {"I32", torch::kInt},
      {"I16", torch::kShort},  {"I8", torch::kChar},    {"U8", torch::kByte},
      {"BOOL", torch::kBool}};
  return table;
}

std::string dtype_name(torch::ScalarType t) {
  for (const auto& [name, type] : dtypes())
    if (type == t) return name;
  throw ConfigError(std::string("safetensors cannot hold a tensor of dtype ") + c10::toString(t) +
                    "; allowed: float64, float32, float16, bfloat16, int64, int32, int16, int8, "
                    "uint8, bool");
}

std::string known_dtypes() {
  std::string out;
  for (const auto& [name, type] : dtypes()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

std::string safetensors_bytes(const SafeTensors& st) {
  Json header = Json::object();
  std::vector<torch::Tensor> data;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : st.tensors) {
    if (name == "__metadata__" || !names.insert(name).second)
      throw ConfigError("safetensors: the tensor name '" + name + "' is " +
                        (name == "__metadata__" ? "reserved" : "given twice"));
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t size = uint64_t(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    data.push_back(t);
  }
  if (!st.metadata.empty()) header["__metadata__"] = st.metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& t : data)
    out.append(static_cast<const char*>(t.data_ptr()), size_t(t.numel()) * t.element_size());
  return out;
}

void save_safetensors(const std::string& path, const SafeTensors& st) {
  write_file_atomic(path, safetensors_bytes(st));
}

SafeTensors parse_safetensors(const std::string& bytes, const std::string& what) {
  auto fail = [&](const std::string& why) { return DataError(what + " is not a safetensors file: " + why); };
  if (bytes.size() < 8)
    throw fail("it has " + std::to_string(bytes.size()) + " bytes, fewer than the 8 of the header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    throw fail("the header length " + std::to_string(n) + " runs past the end of the file (" +
               std::to_string(bytes.size() - 8) + " bytes follow it)");
  Json header;
  try {
    header = Json::parse(bytes.substr(8, n));
  } catch (const Json::exception& e) {
    throw fail(std::string("its header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("its header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  struct Entry {
    std::string name;
    torch::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  SafeTensors out;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) throw fail("__metadata__ is not an object of strings");
      for (const auto& [key, value] : v.items()) {
        if (!value.is_string()) throw fail("__metadata__." + key + " is not a string");
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw fail(where + " needs dtype, shape and data_offsets");
    const auto& dt = v["dtype"];
    auto found = std::find_if(dtypes().begin(), dtypes().end(),
                              [&](const auto& d) { return dt.is_string() && d.first == dt.get<std::string>(); });
    if (found == dtypes().end())
      throw fail(where + " has dtype " + dt.dump() + "; known: " + known_dtypes());
    Entry e{name, found->second, {}, 0, 0};
    const auto& shape = v["shape"];
    const auto& off = v["data_offsets"];
    if (!shape.is_array()) throw fail(where + ": shape is not a list");
    uint64_t count = 1;
    for (const auto& s : shape) {
      if (!s.is_number_unsigned() || s.get<uint64_t>() > (uint64_t(1) << 40))
        throw fail(where + ": shape " + shape.dump() + " is not a list of sizes");
      e.shape.push_back(s.get<int64_t>());
      const uint64_t size = s.get<uint64_t>();
      if (size && count > data_size / size) {  // more elements than bytes: refused below, unwrapped
        count = data_size + 1;
        break;
      }
      count *= size;
    }
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(where + ": data_offsets is not [begin, end]");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
      throw fail(where + ": data_offsets " + off.dump() + " lie outside the " +
                 std::to_string(data_size) + " data bytes");
    const uint64_t element = c10::elementSize(e.dtype);
    if (count > data_size || count * element != e.end - e.begin)
      throw fail(where + ": shape " + shape.dump() + " of " + dt.get<std::string>() + " needs " +
                 (count > data_size ? std::string("more") : std::to_string(count * element)) +
                 " bytes, its offsets hold " + std::to_string(e.end - e.begin));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t expected = 0;
  for (const auto& e : entries) {
    if (e.begin != expected)
      throw fail("tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + " of the data, " +
                 (e.begin < expected ? "inside the tensor before it" : "leaving a gap after the one before"));
    expected = e.end;
  }
  if (expected != data_size)
    throw fail("its tensors hold " + std::to_string(expected) + " bytes, the file " +
               std::to_string(data_size) + " (truncated, or bytes after the last tensor)");
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
    out.tensors.emplace_back(e.name, t);
  }
  return out;
}

SafeTensors load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

}  // namespace sigprop
