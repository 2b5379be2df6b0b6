// `sigprop predict` as a user runs it: bad options exit 2 naming the option and write nothing; a
// small comparison with the probe and a small map write their tables, run.json and figure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "core/atomic_file.h"

using namespace sigprop::test;

TEST(PredictCli, BadOptionsAreRejectedAndNothingWritten) {
  const auto dir = temp_dir("predict_bad");
  const auto out = dir / "run";
  expect_rejected("predict --widths 64", "--compare-probe", out);
  expect_rejected("predict --paths 0", "--paths", out);
  expect_rejected("predict --map --alpha-range 1,0.5", "--alpha-range", out);
  expect_rejected("predict --preset shaped --map", "model.residual", out);
  expect_rejected("predict --preset pre-ln --set attention=sideways", "model.attention", out);
  expect_rejected("predict --preset pre-ln-qknorm --map --map-check 2", "QK-norm", out);
  fs::remove_all(dir);
}

TEST(PredictCli, ComparisonAndMapWriteTheirOutputs) {
  const auto dir = temp_dir("predict_run");
  const auto r = run_cli("predict --preset post-ln,pre-ln --depth 4 --compare-probe --widths 64 --seeds 1 "
                         "--batch 1 --seq 8 --map --map-size 4 --map-check 2 --map-check-width 32 --out " +
                         (dir / "run").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("map post-ln (depth 4): 4×4 cells"), std::string::npos) << r.output;
  for (const char* f : {"predict.csv", "predict_map.csv", "predict_map_depth.csv", "predict_map_check.csv",
                        "run.json", "summary.txt", "predict.png", "predict.svg"})
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  // One row per layer and spec: 2 specs × 5 layers, and the probe's columns filled.
  const auto csv = sigprop::read_file(dir / "run" / "predict.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 5);
  EXPECT_EQ(csv.find(",,"), std::string::npos) << csv;
  const auto check = sigprop::read_file(dir / "run" / "predict_map_check.csv");
  EXPECT_EQ(std::count(check.begin(), check.end(), '\n'), 1 + 2 * 4);  // 2×2 cells, 2 specs
  fs::remove_all(dir);
}
