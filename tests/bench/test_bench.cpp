// The benchmark harness: its FLOP count, and the smoke run CI does (it must run both sides and
// produce its table; tests never time anything).
#include <gtest/gtest.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "bench/bench_case.h"
#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"

using namespace sigprop;
namespace fs = std::filesystem;
using sigprop::test::run_cli;
using sigprop::test::temp_dir;

TEST(Bench, FlopsCountEveryMatrixProductAndTheAttentionProducts) {
  ModelSpec s;
  s.depth = 2, s.width = 8, s.heads = 2, s.mlp_width = 32, s.vocab_size = 10;
  // Per block: W_Q, W_K, W_V, W_O 4*64 + MLP 2*8*32 = 768; two blocks 1536; head 80 -> N = 1616.
  EXPECT_DOUBLE_EQ(training_flops_per_token(s, 16), 6.0 * 1616 + 12.0 * 2 * 16 * 8);
}

TEST(Bench, CasesMatchTheIssue) {
  const auto cases = bench_cases(false);
  const auto& c = find_bench_case(cases, "c");
  EXPECT_EQ(c.spec.depth, 6);
  EXPECT_EQ(c.spec.width, 384);
  EXPECT_EQ(c.spec.heads, 6);
  EXPECT_EQ(c.seq, 256);
  EXPECT_EQ(c.batch, 16);
  EXPECT_EQ(find_bench_case(cases, "b").spec.depth, 48);
  EXPECT_THROW(find_bench_case(cases, "z"), ConfigError);
}

TEST(Bench, QuickModeRunsBothSidesAndWritesTheTable) {
  const fs::path out = temp_dir("bench") / "out";
  const auto r = run_cli("bench --quick --repeats 1 --cases a,d,e --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string csv = read_file((out / "bench.csv").string());
  for (const char* row : {"\na,", "\nd,", "\ne,"}) EXPECT_NE(csv.find(row), std::string::npos) << csv;
  EXPECT_NE(r.output.find("ratio"), std::string::npos) << r.output;
  // The seeded jobs report how far the two sides agree (same law, not the same digits).
  EXPECT_NE(r.output.find("max |d final cosine|"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("final mean rho"), std::string::npos) << r.output;
  // Each side reports its own peak memory: a real amount, more than the interpreter or the bare
  // binary alone and less than this test machine holds.
  const auto run = nlohmann::json::parse(read_file((out / "run.json").string()));
  for (const auto& row : run.at("rows"))
    for (const char* side : {"sigprop_rss_mib", "pytorch_rss_mib"}) {
      const double mib = row.at(side).get<double>();
      EXPECT_TRUE(mib > 10 && mib < 24 * 1024) << row.at("case") << " " << side << " " << mib;
    }
  EXPECT_GT(run.at("rows").at(0).at("sgemm_gflops").get<double>(), 0.0);
  // A training case races sigprop against both PyTorch 2.x peers (eager with SDPA and fused AdamW,
  // and torch.compile), all from the same weights and batch: their losses agree, first step and
  // last (rounding apart), so the SDPA path computes the model the parity tests hold sigprop to.
  const auto& a = run.at("rows").at(0);
  EXPECT_GT(a.at("ratio_compiled").get<double>(), 0.0);
  EXPECT_GT(a.at("compiled_rss_mib").get<double>(), 10.0);
  double l[6];
  ASSERT_EQ(std::sscanf(a.at("agreement").get<std::string>().c_str(),
                        "loss first/last: sigprop %lf/%lf, eager %lf/%lf, compiled %lf/%lf", &l[0], &l[1],
                        &l[2], &l[3], &l[4], &l[5]), 6) << a.at("agreement");
  for (int side : {2, 4}) {
    EXPECT_NEAR(l[side], l[0], 1e-4 * std::abs(l[0])) << a.at("agreement");
    EXPECT_NEAR(l[side + 1], l[1], 1e-3 * std::abs(l[1])) << a.at("agreement");
  }
}

TEST(Bench, PythonFrontCasesRunBothSides) {
  const fs::path out = temp_dir("bench_python") / "out";
  const auto r = run_cli("bench --quick --repeats 1 --cases nn-espa,py-probe --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string csv = read_file((out / "bench.csv").string());
  for (const char* row : {"\nnn-espa,", "\npy-probe,"}) EXPECT_NE(csv.find(row), std::string::npos) << csv;
  // The probe's multiple of a forward+backward, and the two sides' final cosine.
  EXPECT_NE(r.output.find("x one fwd+bwd"), std::string::npos) << r.output;
  const auto run = nlohmann::json::parse(read_file((out / "run.json").string()));
  for (const auto& row : run.at("rows")) EXPECT_GT(row.at("ratio").get<double>(), 0.0) << row;
}

TEST(Bench, UnknownCaseIsRejectedBeforeAnythingIsWritten) {
  const fs::path out = temp_dir("bench_bad") / "out";
  const auto r = run_cli("bench --cases a,z --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'z' is not allowed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
}
