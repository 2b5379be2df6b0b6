// What a theory study publishes, and the one way it is saved: its CSV tables, its printed
// summary, its figure and its run.json, written into a staged folder published whole
// (core/run_folder.h). Each study's <name>_report.h turns its result into a StudyOutput.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sigprop {

using StudyFiles = std::vector<std::pair<std::string, std::string>>;  // CSV name -> content

struct StudyOutput {
  std::string command;                                     // "theory sde": run.json's command
  nlohmann::json params;                                   // the study's options, for run.json
  nlohmann::json headline;  // run.json "headline", a sweep cell's numbers; null: none
  StudyFiles files;
  std::string plot_name, plot_script;                      // <plot_name>.png/.svg
  int plot_width = 1500, plot_height = 550;
  std::string summary;  // the printed summary, also saved as summary.txt
};

struct StudySave {
  std::string out;     // the study's folder (replaced whole when it is one of sigprop's)
  bool force = false;  // replace a non-empty folder that is not sigprop's
  bool plot = true;    // render the figure (gnuplot)
  uint64_t seed = 0;   // recorded in run.json
  double seconds = 0;  // the study's run time, recorded in run.json
};

// Writes the files, summary.txt, run.json (run_metadata + seed + params + seconds) and the
// figure, then publishes the folder. Returns the names written, in order.
std::vector<std::string> save_study(const StudyOutput& output, const StudySave& where);

// Helpers of the studies' tables and figures.
// A CSV number: 6 significant digits.
std::string csv_number(double v);
// A gnuplot datablock of columns x, y1, y2, ... (same length), one row per x.
std::string columns_block(const std::string& name, const std::vector<double>& x,
                          const std::vector<std::vector<double>>& ys);

}  // namespace sigprop
