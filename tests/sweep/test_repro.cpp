// Paper reproductions: plan parsing rejects what repro cannot run, every shipped plan parses, and a
// small plan runs end to end into one report, keeping finished steps on a rerun.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "sweep/repro.h"

using namespace sigprop;
namespace fs = std::filesystem;
using sigprop::test::run_cli;
using sigprop::test::temp_dir;

namespace {

std::string plan_with_step(const std::string& step) {
  return "paper = \"x\"\ntitle = \"t\"\nclaim = \"c\"\n[[step]]\n" + step;
}

void expect_plan_error(const std::string& text, const std::string& needle) {
  try {
    parse_repro_plan(text, "plan.toml");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Repro, PlanParsesStepsInOrder) {
  const ReproPlan p = parse_repro_plan(
      plan_with_step("name = \"a\"\nargs = \"theory tat --n 4\"\n[[step]]\nname = \"b\"\nargs = \"probe --preset pre-ln\"\n"),
      "plan.toml");
  ASSERT_EQ(p.steps.size(), 2u);
  EXPECT_EQ(p.steps[0].name, "a");
  EXPECT_EQ(p.steps[1].args, (std::vector<std::string>{"probe", "--preset", "pre-ln"}));
  EXPECT_EQ(p.steps[0].command_line(), "sigprop theory tat --n 4");
}

TEST(Repro, BadPlansNameTheKey) {
  expect_plan_error(plan_with_step("name = \"a\"\nargs = \"rm -rf /\"\n"), "must start with probe");
  expect_plan_error(plan_with_step("name = \"a\"\nargs = \"probe --out x\"\n"), "must not set --out");
  expect_plan_error(plan_with_step("name = \"a/b\"\nargs = \"probe\"\n"), "may hold only");
  expect_plan_error(plan_with_step("name = \"a\"\nargs = \"probe\"\ncolour = 1\n"), "unknown key 'colour'");
  expect_plan_error(plan_with_step("args = \"probe\"\n"), "missing key 'name'");
  expect_plan_error(plan_with_step("name = \"a\"\nargs = \"probe\"\n[[step]]\nname = \"a\"\nargs = \"probe\"\n"),
                    "used twice");
  expect_plan_error("paper = \"x\"\ntitle = \"t\"\nclaim = \"c\"\n", "at least one [[step]]");
  expect_plan_error("title = \"t\"\nclaim = \"c\"\n[[step]]\nname = \"a\"\nargs = \"probe\"\n", "missing key 'paper'");
}

TEST(Repro, ShippedPlansParse) {
  const fs::path root = fs::path(SIGPROP_TEST_DIR).parent_path() / "configs";
  for (const char* name : {"repro/000.toml", "repro/001.toml", "repro/002.toml", "repro/003.toml",
                           "repro/004.toml", "depth-study.toml"})
    EXPECT_NO_THROW(load_repro_plan((root / name).string())) << name;
}

TEST(Repro, RunsAPlanIntoOneReportAndKeepsFinishedSteps) {
  const fs::path dir = temp_dir("repro");
  const fs::path plan = dir / "plan.toml";
  std::ofstream(plan) << plan_with_step(
      "name = \"probe\"\nargs = \"probe --preset post-ln,pre-ln --depth 1,3 --width 16 --seq 8 --batch 2 "
      "--seeds 1 --input gaussian --no-plot\"\n[[step]]\nname = \"tat\"\nargs = \"theory tat --no-plot --width 32 --networks 2 --transformer-width 32 --transformers 1 --seq 8\"\n");
  const fs::path out = dir / "out";
  auto r = run_cli("repro " + plan.string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "probe" / "probe.csv"));
  EXPECT_TRUE(fs::exists(out / "tat" / "run.json"));
  const std::string html = read_file((out / "report.html").string());
  EXPECT_NE(html.find("Claim under test"), std::string::npos);
  const auto done = nlohmann::json::parse(read_file((out / "done.json").string()));
  EXPECT_EQ(done["probe"]["exit_code"], 0);

  const auto probe_time = fs::last_write_time(out / "probe" / "probe.csv");
  r = run_cli("repro " + plan.string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("probe: done before, kept"), std::string::npos) << r.output;
  EXPECT_EQ(fs::last_write_time(out / "probe" / "probe.csv"), probe_time);
}

TEST(Repro, UnknownPaperIsRejected) {
  auto r = run_cli("repro 042");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("000, 001, 002, 003, 004, all"), std::string::npos) << r.output;
}
