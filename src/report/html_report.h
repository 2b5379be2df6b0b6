// `sigprop report DIR`: one self-contained report.html for any run or sweep folder: every run
// found below DIR with its configuration, its figures (SVG, inline), and its tables (probe
// final-layer summary, race and sweep results, training summary). Opens from disk, no network.
#pragma once

#include <string>

namespace sigprop {

struct ReportStats {
  int runs = 0, figures = 0, tables = 0;
  std::string text() const;  // "1 run, 7 figures, 6 tables"
};

// Renders missing figures (training loss curves) as PNG + SVG beside their data, then writes
// DIR/report.html atomically. Throws DataError when DIR holds no run.
ReportStats write_html_report(const std::string& dir);

}  // namespace sigprop
