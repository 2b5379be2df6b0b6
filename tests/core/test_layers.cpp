// The layer check the build runs (scripts/check_layers.py): the tree as it is passes, and an
// upward include, which the build must refuse, is caught and named.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "core/atomic_file.h"

namespace fs = std::filesystem;

namespace {

int check(const fs::path& map, const fs::path& src, const fs::path& log) {
  const std::string script = (fs::path(SIGPROP_TEST_DIR).parent_path() / "scripts/check_layers.py").string();
  const std::string cmd = std::string(SIGPROP_PYTHON) + " " + script + " --map " + map.string() +
                          " --src " + src.string() + " 2> " + log.string();
  return WEXITSTATUS(std::system(cmd.c_str()));
}

}  // namespace

TEST(Layers, TheTreeIncludesOnlyDownward) {
  const auto dir = sigprop::test::temp_dir("layers");
  fs::create_directories(dir);
  const fs::path src = fs::path(SIGPROP_TEST_DIR).parent_path() / "src";
  EXPECT_EQ(check(SIGPROP_LAYER_MAP, src, dir / "log"), 0) << sigprop::read_file((dir / "log").string());
  fs::remove_all(dir);
}

TEST(Layers, AnUpwardIncludeIsNamed) {
  const auto dir = sigprop::test::temp_dir("layers_up");
  fs::create_directories(dir / "src/core");
  fs::create_directories(dir / "src/model");
  std::ofstream(dir / "map") << "core:\nmodel:core\n";
  std::ofstream(dir / "src/model/ok.h") << "#include \"core/error.h\"\n";
  std::ofstream(dir / "src/core/bad.cpp") << "#include <vector>\n\n#include \"model/ok.h\"\n";
  EXPECT_EQ(check(dir / "map", dir / "src", dir / "log"), 1);
  const std::string log = sigprop::read_file((dir / "log").string());
  EXPECT_NE(log.find("bad.cpp:3: layer 'core' includes 'model/'"), std::string::npos) << log;
  fs::remove_all(dir);
}
