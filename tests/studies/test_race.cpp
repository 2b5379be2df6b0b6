// The race driver called directly, as the fronts call it: a best rate per model, the reach
// measure against the reference, the files it writes, a rerun that reuses the runs, and bad
// options refused before any training.
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "cli_run.h"
#include "config/presets.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "studies/race/race.h"

namespace fs = std::filesystem;
using namespace sigprop;

namespace {

RaceOptions tiny_race(const fs::path& out) {
  RaceOptions o;
  for (const char* name : {"pre-ln", "post-ln"}) {
    ModelSpec s = load_preset(name);
    s.depth = 2, s.width = 32, s.heads = 2, s.mlp_width = 64;
    o.specs.push_back(s);
  }
  o.config.data = "synthetic", o.config.steps = 20, o.config.batch = 4, o.config.seq = 16;
  o.config.warmup = 4, o.config.log_every = 5, o.config.eval_every = 10, o.config.eval_batches = 2;
  o.lr_grid = {1e-3, 3e-3};
  o.out = out.string();
  return o;
}

}  // namespace

TEST(RaceDriver, BestRatePerModelReachAndReuse) {
  const auto dir = test::temp_dir("race_driver");
  const RaceOptions o = tiny_race(dir / "race");
  std::vector<std::string> lines;
  const RaceResult r = run_race(o, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_FALSE(r.interrupted);
  ASSERT_EQ(r.best.size(), 2u);
  EXPECT_EQ(lines.size(), 2u * 2u * 2u);  // a start and an end line per run
  for (const auto& row : r.best) {
    EXPECT_EQ(row.status, "completed") << row.preset;
    EXPECT_TRUE(row.lr == 1e-3 || row.lr == 3e-3) << row.lr;
    EXPECT_TRUE(std::isfinite(row.val_loss)) << row.preset;
    EXPECT_FALSE(row.curve.step.empty()) << row.preset;
  }
  // The reference reaches its own loss at the reach step, by definition.
  EXPECT_TRUE(std::isfinite(r.target));
  EXPECT_EQ(r.best[0].preset, "pre-ln");
  EXPECT_GE(r.best[0].reach_step, 0);
  EXPECT_LE(r.best[0].reach_step, r.reach_step);
  for (const char* f : {"race.csv", "run.json", "race.png", "race.svg"})
    EXPECT_TRUE(fs::exists(dir / "race" / f)) << f;
  const std::string csv = read_file((dir / "race" / "race.csv").string());
  // A rerun trains nothing and gives the same table.
  const RaceResult again = run_race(o);
  EXPECT_EQ(read_file((dir / "race" / "race.csv").string()), csv);
  EXPECT_EQ(again.best[1].val_loss, r.best[1].val_loss);
  fs::remove_all(dir);
}

TEST(RaceDriver, ConfirmSeedsTrainTheChosenRateAloneAndJoinItsRow) {
  const auto dir = test::temp_dir("race_confirm");
  RaceOptions o = tiny_race(dir / "race");
  o.specs.resize(1);
  const RaceResult first = run_race(o);
  o.confirm_seeds = 2;
  std::vector<std::string> lines;
  const RaceResult r = run_race(o, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_EQ(r.best.size(), 1u);
  EXPECT_EQ(first.best[0].seeds, 1);
  EXPECT_EQ(r.best[0].seeds, 3);
  EXPECT_EQ(r.best[0].lr, first.best[0].lr);  // chosen on seed 0, as before
  const std::string lr = fmt::format("lr{:.3g}", r.best[0].lr);
  const std::string other = fmt::format("lr{:.3g}", r.best[0].lr == 1e-3 ? 3e-3 : 1e-3);
  for (int seed : {1, 2}) {
    EXPECT_TRUE(fs::exists(dir / "race" / "runs" / "pre-ln" / lr / fmt::format("seed{}", seed)));
    EXPECT_FALSE(fs::exists(dir / "race" / "runs" / "pre-ln" / other / fmt::format("seed{}", seed)));
  }
  EXPECT_NE(r.best[0].val_loss, first.best[0].val_loss);  // a mean over three seeds now
  EXPECT_EQ(lines.size(), 2u * 4u);  // 2 rates + 2 confirming seeds
  EXPECT_NE(read_file((dir / "race" / "race.csv").string()).find(",3\n"), std::string::npos);
  fs::remove_all(dir);
}

TEST(RaceDriver, BadOptionsAreRefusedBeforeTraining) {
  const auto dir = test::temp_dir("race_driver_bad");
  RaceOptions o = tiny_race(dir / "race");
  o.lr_grid = {1e-3, -1.0};
  EXPECT_THROW(run_race(o), ConfigError);
  o = tiny_race(dir / "race");
  o.seeds = 0;
  EXPECT_THROW(run_race(o), ConfigError);
  o = tiny_race(dir / "race");
  o.specs[1].activation = Activation::TatLeakyReLU;  // η = 0.9 is out of reach of 2 layers
  try {
    run_race(o);
    FAIL() << "accepted an unreachable TAT target";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("post-ln at depth 2"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "race"));
  fs::remove_all(dir);
}
