// The safetensors format (Hugging Face's weight files), read and written here because Debian
// packages no library for it. A file is
//   8 bytes: N, the header's length, unsigned little-endian;
//   N bytes: a JSON object, name -> {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//            plus an optional "__metadata__" object of strings; padded with spaces;
//   the data: every tensor's raw little-endian bytes, row-major, at [begin, end) of this buffer,
//            the tensors back to back with no gap and no overlap.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace sigprop {

struct SafeTensors {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // in file order
  std::map<std::string, std::string> metadata;
};

// The file's bytes; tensors are written contiguous, on the CPU, in their own dtype (F64, F32,
// F16, BF16, I64, I32, I16, I8, U8, BOOL). Throws ConfigError for another dtype or a repeated or
// reserved name.
std::string safetensors_bytes(const SafeTensors& st);
// Written atomically (core/atomic_file.h).
void save_safetensors(const std::string& path, const SafeTensors& st);

// Parses the bytes of a file; `what` names it in errors. Throws DataError saying what is wrong:
// too short, a header length past the end, a header that is not a JSON object, an unknown dtype,
// a shape whose size disagrees with its offsets, offsets out of range, overlapping or leaving gaps.
SafeTensors parse_safetensors(const std::string& bytes, const std::string& what);
SafeTensors load_safetensors(const std::string& path);

}  // namespace sigprop
