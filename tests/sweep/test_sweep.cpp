// Sweeps: grid parsing, cell naming by config hash, shards, and a real kill -9 mid-sweep after
// which a rerun runs only the unfinished cells.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "sweep/sweep.h"

using namespace sigprop;
namespace fs = std::filesystem;

namespace {

const char* kGrid = R"(command = "probe"
[fixed]
seeds = 1
seq = 8
batch = 2
input = "gaussian"
no-plot = true
[grid]
preset = ["post-ln", "pre-ln"]
depth = [1, 2, 3]
width = [16, 32]
norm_kind = ["layernorm", "rmsnorm"]
)";

fs::path fresh(const std::string& name) {
  auto d = fs::temp_directory_path() / ("sigprop_sweep_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

int run_sweep(const std::string& args) {
  const std::string cmd = std::string(SIGPROP_CLI) + " sweep " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::map<std::string, fs::file_time_type> done_markers(const fs::path& out) {
  std::map<std::string, fs::file_time_type> m;
  if (!fs::exists(out / "cells")) return m;
  for (const auto& e : fs::directory_iterator(out / "cells"))
    if (fs::exists(e.path() / "done.json"))
      m[e.path().filename().string()] = fs::last_write_time(e.path() / "done.json");
  return m;
}

}  // namespace

TEST(Sweep, GridIsTheCartesianProductNamedByHash) {
  const auto g = parse_sweep_grid(kGrid, "grid.toml");
  const auto cells = g.cells();
  ASSERT_EQ(cells.size(), 24u);
  std::set<std::string> hashes;
  for (const auto& c : cells) hashes.insert(c.hash);
  EXPECT_EQ(hashes.size(), 24u);
  // Last key varies fastest; model keys go through --set, others are flags.
  EXPECT_EQ(cells[1].values.back().second, "rmsnorm");
  const auto& a = cells[1].args;
  EXPECT_NE(std::find(a.begin(), a.end(), "norm_kind=rmsnorm"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--no-plot"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--depth"), a.end());
  // Changing one value changes only the cells that hold it.
  std::string edited = kGrid;
  edited.replace(edited.find("[1, 2, 3]"), 9, "[1, 2, 4]");
  const auto cells2 = parse_sweep_grid(edited, "grid.toml").cells();
  int same = 0;
  for (size_t i = 0; i < cells.size(); ++i) same += cells[i].hash == cells2[i].hash;
  EXPECT_EQ(same, 16);
}

TEST(Sweep, ExcludedCellsAreLeftOutAndTheRestKeepTheirNames) {
  const std::string base = "command = \"probe\"\n[grid]\npreset = [\"a\", \"b\", \"c\"]\ndepth = [8, 16]\n";
  const auto all = parse_sweep_grid(base, "g.toml").cells();
  const auto some = parse_sweep_grid(base + "[[exclude]]\ndepth = 8\npreset = [\"b\", \"c\"]\n"
                                            "[[exclude]]\npreset = \"a\"\ndepth = [16]\n", "g.toml").cells();
  ASSERT_EQ(all.size(), 6u);
  ASSERT_EQ(some.size(), 3u);  // a@8, b@16, c@16
  std::set<std::string> names;
  for (const auto& c : some) names.insert(c.values[0].second + "@" + c.values[1].second);
  EXPECT_EQ(names, (std::set<std::string>{"a@8", "b@16", "c@16"}));
  for (size_t i = 0; i < some.size(); ++i) {
    EXPECT_EQ(some[i].index, i);  // shards split what is left
    const bool named_alike = std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.hash == some[i].hash; });
    EXPECT_TRUE(named_alike) << "an exclusion renamed cell " << i;
  }
  // A key or value the grid does not have is a typo, not an exclusion of nothing.
  for (const char* bad : {"[[exclude]]\nwidth = 8\n", "[[exclude]]\ndepth = 9\n", "exclude = 3\n"})
    try {
      parse_sweep_grid(base + bad, "g.toml");
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("exclude"), std::string::npos) << e.what();
    }
}

TEST(Sweep, BadGridsAreRejected) {
  EXPECT_THROW(parse_sweep_grid("command = \"fly\"\n[grid]\ndepth=[1]\n", "g.toml"), ConfigError);
  EXPECT_THROW(parse_sweep_grid("command = \"probe\"\n[grid]\ndepth=3\n", "g.toml"), ConfigError);
  EXPECT_THROW(parse_sweep_grid("command = \"probe\"\n[grids]\ndepth=[3]\n", "g.toml"), ConfigError);
  EXPECT_THROW(parse_shard("3/3"), ConfigError);
  EXPECT_EQ(parse_shard("2/5"), (std::pair<size_t, size_t>{2, 5}));
}

TEST(Sweep, KilledSweepResumesWithoutLosingFinishedCells) {
  const auto dir = fresh("kill");
  std::ofstream(dir / "grid.toml") << kGrid;
  const auto out = dir / "out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = "exec " + std::string(SIGPROP_CLI) + " sweep " + (dir / "grid.toml").string() +
                            " --out " + out.string() + " --jobs 2 > /dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  for (int i = 0; i < 1200 && done_markers(out).size() < 3; ++i) ::usleep(50'000);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  const auto before = done_markers(out);
  ASSERT_GE(before.size(), 3u);
  ASSERT_LT(before.size(), 24u) << "the sweep finished before the kill";

  EXPECT_EQ(run_sweep((dir / "grid.toml").string() + " --out " + out.string() + " --jobs 2"), 0);
  const auto after = done_markers(out);
  EXPECT_EQ(after.size(), 24u);
  for (const auto& [cell, time] : before) EXPECT_EQ(after.at(cell), time) << cell << " was run again";
  const std::string csv = read_file((out / "results.csv").string());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 25);
  EXPECT_NE(csv.find("final_cosine"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Sweep, ShardsCoverTheGridAndMerge) {
  const auto dir = fresh("shard");
  const std::string grid = R"(command = "probe"
[fixed]
seeds = 1
seq = 8
batch = 2
input = "gaussian"
width = 16
no-plot = true
[grid]
preset = ["post-ln", "pre-ln", "post-ln-scaled"]
depth = [1, 2]
)";
  std::ofstream(dir / "grid.toml") << grid;
  const std::string base = (dir / "grid.toml").string() + " --out " + (dir / "out").string();
  EXPECT_EQ(run_sweep(base + " --shard 0/2"), 0);
  EXPECT_EQ(done_markers(dir / "out").size(), 3u);
  EXPECT_EQ(run_sweep(base + " --shard 1/2"), 0);
  EXPECT_EQ(run_sweep(base + " --merge"), 0);
  const std::string csv = read_file((dir / "out" / "results.csv").string());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
  EXPECT_EQ(csv.find(",0,-1"), std::string::npos) << "an unfinished cell:\n" << csv;
  fs::remove_all(dir);
}

TEST(Sweep, FailingCellStopsTheSweepWithItsMessage) {
  const auto dir = fresh("fail");
  std::ofstream(dir / "grid.toml") << "command = \"probe\"\n[grid]\nnorm = [\"sideways\"]\n";
  EXPECT_EQ(run_sweep((dir / "grid.toml").string() + " --out " + (dir / "out").string()), 2);
  EXPECT_TRUE(done_markers(dir / "out").empty());
  fs::remove_all(dir);
}
