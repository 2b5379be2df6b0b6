// libFuzzer's entry point for one harness of harness.h, chosen at compile time
// (-DSIGPROP_FUZZ_TARGET=model_config). Built by tests/fuzz/CMakeLists.txt via scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);  // one fuzzing process per core
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sigprop::fuzz::SIGPROP_FUZZ_TARGET(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
