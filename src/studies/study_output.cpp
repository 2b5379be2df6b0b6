#include "studies/study_output.h"

#include <fmt/format.h>

#include "core/gnuplot.h"
#include "core/run_folder.h"

namespace sigprop {

std::vector<std::string> save_study(const StudyOutput& output, const StudySave& where) {
  RunFolder folder(where.out, where.force);
  nlohmann::json meta = run_metadata(output.command);
  meta["seed"] = where.seed;
  meta["params"] = output.params;
  meta["seconds"] = where.seconds;
  if (!output.headline.is_null()) meta["headline"] = output.headline;
  std::vector<std::string> written;
  for (const auto& [name, content] : output.files) {
    folder.write(name, content);
    written.push_back(name);
  }
  folder.write("summary.txt", output.summary);
  folder.write("run.json", meta.dump(2) + "\n");
  written.insert(written.end(), {"summary.txt", "run.json"});
  if (where.plot && !output.plot_script.empty()) {
    render_plot(output.plot_script, folder.path(output.plot_name), output.plot_width,
                output.plot_height);
    written.insert(written.end(), {output.plot_name + ".png", output.plot_name + ".svg"});
  }
  folder.commit();
  return written;
}

std::string csv_number(double v) { return fmt::format("{:.6g}", v); }

std::string columns_block(const std::string& name, const std::vector<double>& x,
                          const std::vector<std::vector<double>>& ys) {
  std::string rows;
  for (size_t i = 0; i < x.size(); ++i) {
    rows += fmt::format("{:.8g}", x[i]);
    for (const auto& y : ys) rows += fmt::format(" {:.8g}", y[i]);
    rows += '\n';
  }
  return gnuplot_datablock(name, rows);
}

}  // namespace sigprop
