// The command line as a user runs it: bad input exits 2 with a message naming the key and
// writes nothing; a small probe writes its CSV, run.json and plots.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

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
                      "centred_stable_rank,attn_sigma1,attn_sigma2,attn_lambda2,attn_entropy,grad_q,grad_k,grad_v,grad_o,"
                      "grad_mlp", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2 * (3 + 4));
  auto meta = nlohmann::json::parse(sigprop::read_file(dir / "run" / "run.json"));
  EXPECT_EQ(meta["configs"].size(), 2u);
  EXPECT_EQ(meta["configs"][1]["model"]["norm"], "pre");
  EXPECT_EQ(meta["configs"][0]["model"]["width"], 32);
  EXPECT_TRUE(meta.contains("git") && meta.contains("libtorch"));
  EXPECT_NE(r.output.find("post-ln"), std::string::npos);  // the summary table

  // The report embeds the figure and the final-layer table, self-contained.
  auto report = run_cli("report " + (dir / "run").string());
  ASSERT_EQ(report.code, 0) << report.output;
  const std::string html = sigprop::read_file(dir / "run" / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("final cosine"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"));  // no external resources
  EXPECT_EQ(run_cli("report " + (dir / "nothing").string()).code, 3);

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

TEST(Cli, TrainKilledWhileCheckpointingResumes) {
  // kill -9 at an arbitrary moment of a run that checkpoints every step: the checkpoint on disk
  // is always a whole one, and the run resumes from it.
  const auto dir = temp_dir("kill");
  const std::string args = "train --data synthetic --depth 2 --width 32 --heads 2 --seq 16 --batch 4 "
                           "--steps 100000 --checkpoint-every 1 --eval-every 0 --out " +
                           (dir / "run").string();
  const pid_t pid = spawn_cli(args, dir / "log");
  ASSERT_TRUE(wait_for(dir / "run" / "checkpoint.pt", 60)) << sigprop::read_file(dir / "log");
  ::usleep(700'000);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  auto r = run_cli("train --resume " + (dir / "run").string() + " --steps 1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("status: completed"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(Cli, TheSameTrainCommandFinishesAKilledRun) {
  // Killed before its first checkpoint, the run's folder holds run.json and a log, no weights:
  // the command that started it, run again, starts it over and ends it; once more, it reports
  // the finished run; with another configuration it is refused.
  const auto dir = temp_dir("same_command");
  const std::string args = "train --data synthetic --depth 2 --width 32 --heads 2 --seq 16 --batch 4 "
                           "--steps 120 --checkpoint-every 60 --eval-every 0 --out " +
                           (dir / "run").string();
  const pid_t pid = spawn_cli(args, dir / "log");
  ASSERT_TRUE(wait_for(dir / "run" / "run.json", 60)) << sigprop::read_file(dir / "log");
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("status: completed"), std::string::npos) << r.output;
  r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing to do"), std::string::npos) << r.output;
  r = run_cli(args + " --lr 0.01");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("another configuration"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(Cli, TwoProcessesOnOneRunOrSweepOneWinsTheOtherSaysSo) {
  const auto dir = temp_dir("concurrent");
  // Two trainers of one run folder.
  const std::string train = "train --data synthetic --depth 2 --width 32 --heads 2 --seq 16 --batch 4 "
                            "--steps 100000 --checkpoint-every 50 --eval-every 0 --out " +
                            (dir / "run").string();
  const pid_t pid = spawn_cli(train, dir / "log");
  ASSERT_TRUE(wait_for(dir / "run" / "checkpoint.pt", 60)) << sigprop::read_file(dir / "log");
  for (const std::string& second : {train, "train --resume " + (dir / "run").string()}) {
    const auto r = run_cli(second);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("in use by another sigprop process"), std::string::npos) << r.output;
  }
  ::kill(pid, SIGINT);  // the first ends as it would: checkpoint saved, resumable
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 130) << sigprop::read_file(dir / "log");
  // Two sweeps of one folder.
  const fs::path grid = dir / "grid.toml";
  sigprop::write_file_atomic(grid.string(),
                             "command = \"train\"\n[fixed]\ndata = \"synthetic\"\nsteps = 150\n"
                             "width = 32\nheads = 2\nseq = 16\nbatch = 4\neval-every = 0\n"
                             "[grid]\ndepth = [1, 2]\n");
  const std::string sweep = "sweep " + grid.string() + " --out " + (dir / "sweep").string();
  const pid_t first = spawn_cli(sweep, dir / "sweep-log");
  ASSERT_TRUE(wait_for(dir / "sweep" / ".sigprop-lock-shard-0-of-1", 60))
      << sigprop::read_file(dir / "sweep-log");
  const auto r = run_cli(sweep);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("in use by another sigprop process"), std::string::npos) << r.output;
  ::waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << sigprop::read_file(dir / "sweep-log");
  const auto merged = run_cli(sweep + " --merge");
  EXPECT_EQ(merged.code, 0) << merged.output;
  fs::remove_all(dir);
}

TEST(Cli, ProbeOfAnOverflowingModelMarksTheLayerInsteadOfCrashing) {
  const auto dir = temp_dir("overflow");
  const auto r = run_cli("probe --preset post-ln --set norm=none --set init=normal --set init_std=1e6 "
                         "--depth 8 --width 32 --seq 16 --batch 2 --seeds 1 --input gaussian --no-plot "
                         "--out " + (dir / "p").string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("not finite (inf or NaN) from layer 2 on"), std::string::npos) << r.output;
  const std::string csv = sigprop::read_file(dir / "p" / "probe.csv");
  EXPECT_NE(csv.find(",finite,"), std::string::npos);
  EXPECT_NE(csv.find(",nan,0,"), std::string::npos) << csv;  // loss NaN, finite = 0
  fs::remove_all(dir);
}

TEST(Cli, TrainCtrlCSavesAndExits130) {
  const auto dir = temp_dir("sigint");
  const pid_t pid = spawn_cli("train --data synthetic --depth 2 --width 32 --heads 2 --seq 16 "
                              "--batch 4 --steps 100000 --eval-every 0 --checkpoint-every 0 --out " +
                                  (dir / "run").string(),
                              dir / "log");
  ASSERT_TRUE(wait_for(dir / "run" / "train.jsonl", 60));
  ::usleep(500'000);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << sigprop::read_file(dir / "log");
  EXPECT_EQ(WEXITSTATUS(status), 130) << sigprop::read_file(dir / "log");
  auto summary = nlohmann::json::parse(sigprop::read_file(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["status"], "interrupted");
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint.pt"));
  fs::remove_all(dir);
}

TEST(Cli, TrainRejectsBadOptionsWithoutWriting) {
  const auto dir = temp_dir("trainbad");
  const auto out = dir / "run";
  expect_rejected("train --data synthetic --optimizer lamb", "adamw | adam | sgd", out);
  expect_rejected("train --data imagenet", "kjv | fashion-mnist | synthetic", out);
  expect_rejected("train --data synthetic --preset vanilla-espa-tat --depth 4", "unreachable", out);
  expect_rejected("train --data synthetic --steps 0", "--steps", out);
  fs::remove_all(dir);
}

TEST(Cli, RacePicksBestRatePerPresetAndResumes) {
  const auto dir = temp_dir("race");
  const std::string args = "race --data synthetic --preset pre-ln,post-ln --depth 2 --width 32 "
                           "--heads 2 --seq 16 --batch 4 --steps 30 --warmup 5 --log-every 5 "
                           "--eval-every 10 --eval-batches 2 --lr-grid 1e-3,3e-3 --out " +
                           (dir / "race").string();
  auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string csv = sigprop::read_file(dir / "race" / "race.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;  // header + one row per preset
  EXPECT_NE(csv.find("pre-ln"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "race" / "race.png"));
  for (const char* lr : {"lr0.001", "lr0.003"})
    EXPECT_TRUE(fs::exists(dir / "race" / "runs" / "post-ln" / lr / "seed0" / "summary.json")) << lr;
  EXPECT_NE(r.output.find("steps to pre-ln's training loss"), std::string::npos) << r.output;
  // A rerun reuses the finished runs and reproduces the table.
  auto again = run_cli(args);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(sigprop::read_file(dir / "race" / "race.csv"), csv);
  fs::remove_all(dir);
}

// --out never destroys a user's files: a file, a non-empty folder sigprop did not make, the root,
// the home folder, the working folder and those above it are refused (exit 2) before any work,
// the last four even with --force; sigprop's own folders are replaced.
TEST(Cli, OutNeverReplacesTheUsersFiles) {
  const auto dir = temp_dir("out_safety");
  const std::string probe = "probe --preset post-ln --depth 1 --width 16 --seq 8 --batch 1 "
                            "--seeds 1 --no-plot";
  std::ofstream(dir / "afile.txt") << "x\n";
  fs::create_directories(dir / "mydir");
  std::ofstream(dir / "mydir" / "notes.txt") << "notes\n";
  fs::create_directories(dir / "home" / "work");
  std::ofstream(dir / "home" / "work" / "mine.txt") << "mine\n";
  const auto refused = [&](const std::string& args, const std::string& needle,
                           const fs::path& cwd = {}) {
    const auto r = run_cli(args, cwd);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  };
  const std::string file = (dir / "afile.txt").string(), mine = (dir / "mydir").string();
  for (const std::string force : {"", " --force"}) {
    refused(probe + " --out " + file + force, "is a file");
    refused("train --preset post-ln --depth 1 --data synthetic --steps 2 --out " + file + force,
            "is a file");
    refused("theory tat --out " + file + force, "is a file");
    refused("bench --quick --out " + file + force, "is a file");
    refused(probe + " --out /" + force, "the root");
    refused(probe + " --out ." + force, "working folder", dir / "home" / "work");
    refused(probe + " --out .." + force, "above it", dir / "home" / "work");
  }
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("HOME", (dir / "home").c_str(), 1);
  refused(probe + " --out " + (dir / "home").string() + " --force", "home folder");
  ::setenv("HOME", home.c_str(), 1);
  refused(probe + " --out " + mine, "--force");
  refused("train --preset post-ln --depth 1 --data synthetic --steps 2 --out " + mine, "--force");
  refused("theory tat --out " + mine, "did not make");
  EXPECT_EQ(sigprop::read_file(dir / "afile.txt"), "x\n");
  EXPECT_EQ(sigprop::read_file(dir / "mydir" / "notes.txt"), "notes\n");
  EXPECT_EQ(sigprop::read_file(dir / "home" / "work" / "mine.txt"), "mine\n");

  // sigprop's own folder, and an empty one, are replaced; --force replaces a user's folder.
  const std::string run = (dir / "run").string();
  EXPECT_EQ(run_cli(probe + " --out " + run).code, 0);
  EXPECT_TRUE(fs::exists(dir / "run" / ".sigprop-run"));
  EXPECT_EQ(run_cli(probe + " --out " + run).code, 0);
  fs::create_directories(dir / "empty");
  EXPECT_EQ(run_cli(probe + " --out " + (dir / "empty").string()).code, 0);
  EXPECT_EQ(run_cli(probe + " --out " + mine + " --force").code, 0);
  EXPECT_TRUE(fs::exists(dir / "mydir" / "probe.csv"));
  fs::remove_all(dir);
}

// What ran is what the files say: overrides in the label and config_id, depths in the report,
// a depth given twice refused, option errors in words with a suggestion for a misspelling.
TEST(Cli, RecordsNameTheOverridesAndErrorsTeach) {
  const auto dir = temp_dir("records");
  const std::string run = (dir / "run").string();
  auto r = run_cli("probe --preset post-ln --set norm=pre --set residual=0.5 --depth 2,3 --width 16 "
                   "--seq 8 --batch 1 --seeds 1 --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string csv = sigprop::read_file(dir / "run" / "probe.csv");
  EXPECT_NE(csv.find("\npost-ln[norm=pre residual=0.5],2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",config_id\n"), std::string::npos);
  // One configuration, one id at every depth; a different override, another id.
  std::set<std::string> ids;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) ids.insert(line.substr(line.rfind(',') + 1));
  EXPECT_EQ(ids.size(), 1u);
  ASSERT_EQ(run_cli("probe --preset post-ln --set norm=pre --depth 2 --width 16 --seq 8 --batch 1 "
                    "--seeds 1 --no-plot --out " + (dir / "other").string()).code, 0);
  const std::string other = sigprop::read_file(dir / "other" / "probe.csv");
  EXPECT_EQ(other.find(*ids.begin()), std::string::npos);
  ASSERT_EQ(run_cli("report " + run).code, 0);
  const std::string html = sigprop::read_file(dir / "run" / "report.html");
  EXPECT_NE(html.find("<td>2, 3</td>"), std::string::npos);  // the depths probed, not the preset's
  EXPECT_NE(html.find(*ids.begin()), std::string::npos);
  EXPECT_NE(html.find("1 run,"), std::string::npos);

  auto twice = run_cli("probe --preset post-ln --set depth=10 --depth 4 --out " + run);
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.output.find("both set the depth"), std::string::npos) << twice.output;
  auto zero = run_cli("train --depth 0 --data synthetic --out " + (dir / "t").string());
  EXPECT_EQ(zero.code, 2);
  EXPECT_NE(zero.output.find("--depth: '0' is not allowed: expected an integer >= 1"),
            std::string::npos) << zero.output;
  EXPECT_LT(zero.output.size(), 300u);
  auto nan_lr = run_cli("train --lr abc --data synthetic --out " + (dir / "t").string());
  EXPECT_EQ(nan_lr.code, 2);
  EXPECT_NE(nan_lr.output.find("--lr: 'abc' is not allowed: expected a number"), std::string::npos)
      << nan_lr.output;
  auto typo = run_cli("probe --dept 8 --out " + run);
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.output.find("did you mean --depth"), std::string::npos) << typo.output;
  auto notarun = run_cli("train --resume " + (dir / "nothing").string());
  EXPECT_EQ(notarun.code, 2);
  EXPECT_NE(notarun.output.find("is not a run folder"), std::string::npos) << notarun.output;
  auto show = run_cli("presets --show shaped");
  for (const char* key : {"shaped_tau0", "residual_gamma", "shaped_c_plus", "shaped_c_minus"})
    EXPECT_NE(show.output.find(key), std::string::npos) << key;
  fs::remove_all(dir);
}

// --compare leaves out, and says so, a preset that cannot be built at some depth (TAT's η = 0.9
// is out of reach of one layer) and probes it where it can be: the depth study's first step.
TEST(Cli, CompareSkipsWhatCannotBeBuiltAtADepth) {
  const auto dir = temp_dir("probe_compare");
  auto r = run_cli("probe --compare --depth 1,16 --width 16 --seq 8 --batch 1 --seeds 1 "
                   "--input gaussian --no-plot --out " + (dir / "run").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("[probe] skipped vanilla-espa-tat at depth 1: model.tat_eta"),
            std::string::npos) << r.output;
  const std::string csv = sigprop::read_file(dir / "run" / "probe.csv");
  EXPECT_EQ(csv.find("\nvanilla-espa-tat,1,"), std::string::npos);
  EXPECT_NE(csv.find("\nvanilla-espa-tat,16,"), std::string::npos);
  EXPECT_NE(csv.find("\npost-ln,1,"), std::string::npos);
  const auto meta = nlohmann::json::parse(sigprop::read_file(dir / "run" / "run.json"));
  EXPECT_FALSE(meta.at("skipped").empty());
  fs::remove_all(dir);
}
