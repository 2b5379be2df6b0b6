// `sigprop theory ...` as a user runs it: bad options exit 2 naming the option and write nothing;
// small runs of every subcommand write their CSVs, run.json, summary and plots, and print the
// agreement figure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "core/atomic_file.h"

using namespace sigprop::test;

TEST(TheoryCli, BadOptionsAreRejectedAndNothingWritten) {
  const auto dir = temp_dir("theory_bad");
  const auto out = dir / "run";
  expect_rejected("theory sde --gamma 1.5", "--gamma", out);
  expect_rejected("theory sde --width 2", "--width 2", out);
  expect_rejected("theory sde --rho0 1", "--rho0", out);
  expect_rejected("theory sde --tokens 1", "--tokens", out);
  expect_rejected("theory markov --seq 100", "at least two", out);
  expect_rejected("theory markov --kinds softmax", "random_markov | kq_xavier | kq_normal", out);
  expect_rejected("theory tat --depth 8", "--eta 0.9 is unreachable with --depth 8", out);
  expect_rejected("theory tat --slopes 1.5", "--slopes", out);
  expect_rejected("theory escalation --preset post-lm", "known presets", out);
  expect_rejected("theory escalation --input images", "kjv | gaussian | isometric", out);
  expect_rejected("theory gradients --norm sideways", "post | pre", out);
  expect_rejected("theory gradients --depth 0", "--depth 0", out);
  EXPECT_EQ(run_cli("theory").code, 2);
  fs::remove_all(dir);
}

namespace {

void expect_run(const std::string& args, const std::string& dir_name,
                const std::vector<std::string>& files) {
  const auto dir = temp_dir(dir_name);
  auto r = run_cli(args + " --out " + (dir / "run").string());
  ASSERT_EQ(r.code, 0) << args << "\n" << r.output;
  EXPECT_NE(r.output.find("agreement"), std::string::npos) << r.output;
  for (const auto& f : files) EXPECT_TRUE(fs::exists(dir / "run" / f)) << args << ": " << f;
  for (const char* f : {"run.json", "summary.txt"}) EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  auto meta = nlohmann::json::parse(sigprop::read_file(dir / "run" / "run.json"));
  EXPECT_TRUE(meta.contains("params") && meta.contains("seconds") && meta.contains("git"));
  fs::remove_all(dir);
}

}  // namespace

TEST(TheoryCli, EverySubcommandWritesItsOutputs) {
  expect_run(
      "theory sde --paths 256 --networks 256 --full-networks 4 --width 16 --t 0.25", "theory_sde",
      {"sde_summary.csv", "sde_ks.csv", "sde_depth.csv", "sde_samples.csv", "sde.png", "sde.svg"});
  expect_run("theory markov --seq 16,32 --draws 1 --depth 2 --depth-seq 16", "theory_markov",
             {"markov_spectra.csv", "markov_slopes.csv", "markov_values.csv", "markov_depth.csv",
              "markov.png", "markov.svg"});
  expect_run(
      "theory tat --depth 13 --width 32 --networks 2 --transformer-width 32 --seq 8 "
      "--transformers 1 --no-plot",
      "theory_tat", {"tat_curves.csv", "tat_slopes.csv", "tat_mlp.csv", "tat_transformer.csv"});
  expect_run("theory escalation --depth 4 --width 32 --seq 8 --batch 2 --inits 1",
             "theory_escalation",
             {"escalation_layers.csv", "escalation_fits.csv", "escalation.png", "escalation.svg"});
  expect_run("theory gradients --depth 2,4 --width 16 --seq 8 --batch 1 --networks 2",
             "theory_gradients", {"gradients.csv", "gradients.png", "gradients.svg"});
}

TEST(TheoryCli, SameSeedSameNumbers) {
  const auto dir = temp_dir("theory_seed");
  const std::string args =
      "theory sde --paths 128 --networks 128 --full-networks 0 --width 12 --t 0.25 --no-plot";
  ASSERT_EQ(run_cli(args + " --out " + (dir / "a").string()).code, 0);
  ASSERT_EQ(run_cli(args + " --out " + (dir / "b").string()).code, 0);
  EXPECT_EQ(sigprop::read_file(dir / "a" / "sde_samples.csv"),
            sigprop::read_file(dir / "b" / "sde_samples.csv"));
  ASSERT_EQ(run_cli(args + " --seed 1 --out " + (dir / "c").string()).code, 0);
  EXPECT_NE(sigprop::read_file(dir / "a" / "sde_samples.csv"),
            sigprop::read_file(dir / "c" / "sde_samples.csv"));
  fs::remove_all(dir);
}
