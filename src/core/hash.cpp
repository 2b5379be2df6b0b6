#include "core/hash.h"

#include <cstdint>

#include <fmt/format.h>

namespace sigprop {

std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return fmt::format("{:016x}", h);
}

}  // namespace sigprop
