// The command line as a user runs it: bad input exits 2 with a message naming the key and
// writes nothing; a small probe writes its CSV, run.json and plots.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "core/atomic_file.h"

namespace fs = std::filesystem;

using namespace sigprop::test;

TEST(Cli, BadInputIsRejectedAndNothingWritten) {
  const auto dir = temp_dir("bad");
  const auto out = dir / "run";
  std::ofstream(dir / "bad_key.toml") << "[model]\ndepht = 4\n";
  std::ofstream(dir / "bad_heads.toml") << "[model]\nwidth = 100\nheads = 3\n";
  std::ofstream(dir / "bad_type.toml") << "[model]\nnorm = 3\n";
  expect_rejected("probe --config " + (dir / "bad_key.toml").string(), "model.depht", out);
  expect_rejected("probe --config " + (dir / "bad_heads.toml").string(), "model.heads", out);
  expect_rejected("probe --config " + (dir / "bad_type.toml").string(), "pre | post | none", out);
  expect_rejected("probe --config " + (dir / "missing.toml").string(), "missing.toml", out);
  expect_rejected("probe --preset post-lm", "known presets", out);
  expect_rejected("probe --preset post-ln --depth 0", "--depth 0", out);
  expect_rejected("probe --preset post-ln --set norm=sideways", "model.norm", out);
  expect_rejected("probe --preset post-ln --input images", "kjv | gaussian | isometric", out);
  expect_rejected("probe --preset post-ln --input isometric --seq 200 --width 64", "isometric", out);
  expect_rejected("probe --preset post-ln --device tpu", "--device tpu", out);
  expect_rejected("probe --preset post-ln --seq x", "--seq", out);
  fs::remove_all(dir);
}

TEST(Cli, ProbeWritesCsvRunJsonAndPlots) {
  const auto dir = temp_dir("probe");
  auto r = run_cli("probe --preset post-ln,pre-ln --depth 2,3 --width 32 --seq 16 --batch 2 "
                   "--seeds 2 --out " + (dir / "run").string());
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"probe.csv", "run.json", "probe.png", "probe.svg"})
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  const std::string csv = sigprop::read_file(dir / "run" / "probe.csv");
  EXPECT_EQ(csv.rfind("preset,depth,width,seed,layer,cosine,t_sim,res,stable_rank,gram_stable_rank,"
                      "attn_sigma1,attn_sigma2,attn_lambda2,attn_entropy,grad_q,grad_k,grad_v,grad_o,"
                      "grad_mlp", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2 * (3 + 4));
  auto meta = nlohmann::json::parse(sigprop::read_file(dir / "run" / "run.json"));
  EXPECT_EQ(meta["configs"].size(), 2u);
  EXPECT_EQ(meta["configs"][1]["model"]["norm"], "pre");
  EXPECT_EQ(meta["configs"][0]["model"]["width"], 32);
  EXPECT_TRUE(meta.contains("git") && meta.contains("libtorch"));
  EXPECT_NE(r.output.find("post-ln"), std::string::npos);  // the summary table

  // Same seed, same numbers: a rerun replaces the folder with an identical CSV.
  auto again = run_cli("probe --preset post-ln,pre-ln --depth 2,3 --width 32 --seq 16 --batch 2 "
                       "--seeds 2 --no-plot --out " + (dir / "run").string());
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(sigprop::read_file(dir / "run" / "probe.csv"), csv);
  fs::remove_all(dir);
}

TEST(Cli, PresetsAndEnv) {
  auto list = run_cli("presets");
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.output.find("post-ln-scaled"), std::string::npos);
  auto show = run_cli("presets --show post-ln-scaled");
  EXPECT_NE(show.output.find("residual = \"1/sqrt(L)\""), std::string::npos) << show.output;
  auto env = run_cli("env");
  EXPECT_EQ(env.code, 0);
  for (const char* key : {"libtorch:", "blas_library:", "threads:", "devices:", "sgemm_gflops:"})
    EXPECT_NE(env.output.find(key), std::string::npos) << key;
}
