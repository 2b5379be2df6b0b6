// `sigprop report DIR`: a self-contained report.html for a run or sweep folder.
#include <fmt/format.h>

#include "cli/commands.h"
#include "report/html_report.h"

namespace sigprop::cli {

void add_report_command(CLI::App& app) {
  static std::string dir;
  auto* cmd = app.add_subcommand("report", "Write DIR/report.html: configs, figures and tables of every run in DIR");
  cmd->add_option("dir", dir, "a run, race or sweep folder")->required();
  cmd->callback([] {
    const ReportStats s = write_html_report(dir);
    fmt::print("wrote {}/report.html ({})\n", dir, s.text());
  });
}

}  // namespace sigprop::cli
