// The sweep scheduler called directly: cells run as child processes of the given executable,
// a rerun skips finished cells, a merge counts them, a failing cell is reported with its log and
// stays in the merged table with its message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/exit_codes.h"
#include "sweep/scheduler.h"

namespace fs = std::filesystem;
using namespace sigprop;

TEST(Scheduler, RunsSkipsAndMerges) {
  const auto dir = test::temp_dir("scheduler");
  fs::create_directories(dir);
  std::ofstream(dir / "grid.toml") << "command = \"probe\"\n[fixed]\nwidth = 16\nseq = 8\nbatch = 1\n"
                                      "seeds = 1\nno-plot = true\n[grid]\npreset = [\"post-ln\", \"pre-ln\"]\n"
                                      "depth = [1, 2]\n";
  SweepRunOptions o;
  o.grid = (dir / "grid.toml").string(), o.out = (dir / "sweep").string(), o.jobs = 2;
  o.sigprop = SIGPROP_CLI;
  std::vector<std::string> lines;
  const auto r = run_sweep(o, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(r.cells, 4u);
  EXPECT_EQ(r.finished, 4u);
  EXPECT_EQ(r.skipped, 0u);
  EXPECT_EQ(r.failure, 0) << r.failure_text;
  EXPECT_EQ(lines.size(), 1u + 4u);  // the plan, then one line per cell
  const std::string results = read_file((dir / "sweep" / "results.csv").string());
  EXPECT_EQ(std::count(results.begin(), results.end(), '\n'), 5) << results;

  const auto again = run_sweep(o);
  EXPECT_EQ(again.finished, 0u);
  EXPECT_EQ(again.skipped, 4u);
  o.merge = true;
  EXPECT_EQ(run_sweep(o).finished, 4u);
  fs::remove_all(dir);
}

TEST(Scheduler, AFailingCellIsReportedWithItsLog) {
  const auto dir = test::temp_dir("scheduler_fail");
  fs::create_directories(dir);
  // heads = 3 does not divide width 16: the cell exits 2 with the config error in its log.
  std::ofstream(dir / "grid.toml") << "command = \"probe\"\n[fixed]\nwidth = 16\nseq = 8\nbatch = 1\n"
                                      "seeds = 1\nno-plot = true\n[grid]\nheads = [3]\n";
  SweepRunOptions o;
  o.grid = (dir / "grid.toml").string(), o.out = (dir / "sweep").string();
  o.sigprop = SIGPROP_CLI;
  const auto r = run_sweep(o);
  EXPECT_EQ(r.failure, kExitConfig);
  EXPECT_NE(r.failure_text.find("model.heads"), std::string::npos) << r.failure_text;
  EXPECT_NE(r.failure_text.find("log.txt"), std::string::npos) << r.failure_text;
  // The merged table keeps the failed cell as a row with its message, not a missing one.
  o.merge = true;
  const auto merged = run_sweep(o);
  EXPECT_EQ(merged.finished, 0u);
  ASSERT_EQ(merged.failed.size(), 1u);
  EXPECT_NE(merged.failed[0].find("heads=3"), std::string::npos) << merged.failed[0];
  EXPECT_NE(merged.failed[0].find("model.heads"), std::string::npos) << merged.failed[0];
  const std::string csv = read_file((dir / "sweep" / "results.csv").string());
  EXPECT_NE(csv.find(",outcome,error"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",3,0,2,failed,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("model.heads"), std::string::npos) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2) << "one header, one row, commas kept out:\n" << csv;
  fs::remove_all(dir);
}
