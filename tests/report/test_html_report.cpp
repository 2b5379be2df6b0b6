// report.html written directly from a folder: a saved study's command, summary and figure appear
// in it (inline), the stats count them, and a folder without a run is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "report/html_report.h"
#include "studies/study_output.h"

namespace fs = std::filesystem;
using namespace sigprop;

TEST(HtmlReport, ShowsASavedStudy) {
  const auto dir = test::temp_dir("html_report");
  StudyOutput s;
  s.command = "theory demo";
  s.params = {{"depth", 3}};
  s.files = {{"demo.csv", "layer,value\n1,0.5\n2,0.25\n"}};
  s.plot_name = "demo";
  s.plot_script = "plot '-' with lines\n1 2\n2 3\ne\n";
  s.summary = "demo summary: the value halves per layer\n";
  const auto written = save_study(s, {(dir / "study").string(), false, true, 7, 1.5});
  EXPECT_EQ(written, (std::vector<std::string>{"demo.csv", "summary.txt", "run.json", "demo.png",
                                               "demo.svg"}));
  const ReportStats stats = write_html_report((dir / "study").string());
  EXPECT_EQ(stats.runs, 1);
  EXPECT_GE(stats.figures, 1);
  const std::string html = read_file((dir / "study" / "report.html").string());
  EXPECT_NE(html.find("theory demo"), std::string::npos);
  EXPECT_NE(html.find("the value halves per layer"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);  // the figure inline, no file links
  EXPECT_EQ(html.find("src=\"demo.png\""), std::string::npos);  // self-contained
  fs::remove_all(dir);
}

TEST(HtmlReport, AFolderWithoutARunIsRefused) {
  const auto dir = test::temp_dir("html_report_empty");
  fs::create_directories(dir);
  EXPECT_THROW(write_html_report(dir.string()), DataError);
  EXPECT_FALSE(fs::exists(dir / "report.html"));
  fs::remove_all(dir);
}
