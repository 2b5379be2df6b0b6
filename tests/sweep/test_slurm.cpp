// The Slurm array script of a sweep, and the errors before anything is submitted. The real
// submission through sbatch is tests/slurm/slurm_sweep.py (CTest slurm_sweep).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "core/error.h"
#include "sweep/slurm.h"

namespace fs = std::filesystem;
using namespace sigprop;

namespace {

SweepRunOptions sweep_in(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "grid.toml") << "command = \"probe\"\n[grid]\ndepth = [1, 2, 3]\n";
  SweepRunOptions o;
  o.grid = (dir / "grid.toml").string(), o.out = (dir / "it's here").string();
  o.sigprop = SIGPROP_CLI;
  return o;
}

}  // namespace

TEST(Slurm, ArrayScriptRunsOneCellPerTaskWithAbsolutePaths) {
  const auto dir = test::temp_dir("slurm_script");
  const auto o = sweep_in(dir);
  SlurmOptions s;
  s.partition = "cpu", s.time = "01:30:00", s.cpus_per_task = 4;
  const std::string script = slurm_array_script(o, 3, s);
  for (const char* line : {"#SBATCH --array=0-2\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --partition=cpu\n",
                           "#SBATCH --time=01:30:00\n", "SIGPROP_THREADS=${SLURM_CPUS_PER_TASK:-4}",
                           "--jobs 1 --shard ${SLURM_ARRAY_TASK_ID}/3\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " not in\n" << script;
  // The folder's name holds a quote: closed, escaped and reopened for bash.
  EXPECT_NE(script.find("'" + dir.string() + "/it'\\''s here/grid.toml'"), std::string::npos) << script;
  EXPECT_NE(script.find("exec '" + fs::canonical(SIGPROP_CLI).string() + "' sweep"), std::string::npos) << script;
  fs::remove_all(dir);
}

TEST(Slurm, BadOptionsAndAMissingSbatchAreNamed) {
  const auto dir = test::temp_dir("slurm_bad");
  const auto o = sweep_in(dir);
  SlurmOptions s;
  s.time = "1 hour";
  try {
    slurm_array_script(o, 3, s);
    FAIL() << "a time with a space was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--time '1 hour'"), std::string::npos) << e.what();
  }
  s = SlurmOptions{};
  const std::string path = std::getenv("PATH");
  ::setenv("PATH", dir.c_str(), 1);
  try {
    submit_sweep_to_slurm(o, s);
    ::setenv("PATH", path.c_str(), 1);
    FAIL() << "submitted without sbatch";
  } catch (const ConfigError& e) {
    ::setenv("PATH", path.c_str(), 1);
    EXPECT_NE(std::string(e.what()).find("needs sbatch on PATH"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(fs::path(o.out) / "slurm")) << "nothing is written before sbatch is found";
  fs::remove_all(dir);
}
