// Every seed of tests/fuzz/corpus/<target>/ and every input a fuzzer once broke a reader with,
// kept in tests/fuzz/regressions/<target>/, through the same harness as the libFuzzer targets:
// the normal test suite holds the fixes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fuzz/harness.h"

namespace fs = std::filesystem;

TEST(Fuzz, SeedsAndRegressionsPassEveryHarness) {
  const fs::path root = fs::path(SIGPROP_TEST_DIR) / "fuzz";
  int inputs = 0;
  for (const auto& [name, harness] : sigprop::fuzz::harnesses()) {
    int seeds = 0;
    for (const char* kind : {"corpus", "regressions"}) {
      const fs::path dir = root / kind / name;
      if (!fs::is_directory(dir)) continue;
      for (const auto& e : fs::directory_iterator(dir)) {
        std::ifstream in(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        SCOPED_TRACE(e.path().string());
        EXPECT_NO_THROW(harness(bytes));
        ++inputs;
        seeds += std::string(kind) == "corpus";
      }
    }
    EXPECT_GT(seeds, 0) << "no seed corpus for " << name;
  }
  EXPECT_GT(inputs, 20);
}
