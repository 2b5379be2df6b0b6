#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"
#include "core/gnuplot.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) cells.push_back(f);
    rows.push_back(cells);
  }
  return rows;
}

std::string html_table(const std::vector<std::vector<std::string>>& rows, size_t max_rows = 200) {
  if (rows.empty()) return "";
  std::string out = "<table><tr>";
  for (const auto& h : rows.front()) out += "<th>" + escape(h) + "</th>";
  out += "</tr>\n";
  for (size_t r = 1; r < rows.size() && r <= max_rows; ++r) {
    out += "<tr>";
    for (const auto& c : rows[r]) out += "<td>" + escape(c) + "</td>";
    out += "</tr>\n";
  }
  out += "</table>\n";
  if (rows.size() > max_rows + 1)
    out += fmt::format("<p class=note>{} more rows in the CSV.</p>\n", rows.size() - max_rows - 1);
  return out;
}

// probe.csv -> final-layer means per (preset, depth).
std::string probe_table(const std::string& csv_path) {
  const auto rows = parse_csv(read_file(csv_path));
  if (rows.size() < 2) return "";
  const auto& head = rows.front();
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(head.begin(), head.end(), name) - head.begin());
  };
  const size_t preset = col("preset"), depth = col("depth"), layer = col("layer");
  // centred_stable_rank: probe.csv files written before it existed lack the column.
  std::vector<std::string> metrics;
  for (const char* m : {"cosine", "t_sim", "res", "stable_rank", "centred_stable_rank", "grad_q_over_v"})
    if (col(m) < head.size()) metrics.push_back(m);
  std::map<std::pair<std::string, int>, std::pair<std::vector<double>, int>> sums;
  std::vector<std::pair<std::string, int>> order;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != head.size() || rows[r][layer] != rows[r][depth]) continue;
    const auto key = std::make_pair(rows[r][preset], std::stoi(rows[r][depth]));
    auto& [sum, n] = sums[key];
    if (n == 0) sum.assign(metrics.size(), 0.0), order.push_back(key);
    for (size_t m = 0; m < metrics.size(); ++m) sum[m] += std::stod(rows[r][col(metrics[m])]);
    ++n;
  }
  std::vector<std::vector<std::string>> table = {{"preset", "depth"}};
  for (const auto& m : metrics) table[0].push_back("final " + m);
  for (const auto& key : order) {
    const auto& [sum, n] = sums[key];
    std::vector<std::string> row = {key.first, std::to_string(key.second)};
    for (double s : sum) row.push_back(fmt::format("{:.4g}", s / n));
    table.push_back(row);
  }
  return "<h3>Final layer, seed means</h3>\n" + html_table(table);
}

// A training run's loss curves (train and validation) as loss.png / loss.svg.
void render_loss_plot(const fs::path& run, const std::vector<Json>& log) {
  std::string train, val;
  int64_t last = 1;
  for (const Json& j : log) {
    if (j.contains("step") && j["step"].is_number()) last = std::max(last, j["step"].get<int64_t>());
    if (j.contains("loss_mean") && j["loss_mean"].is_number())
      train += fmt::format("{} {}\n", j["step"].get<int64_t>(), j["loss_mean"].get<double>());
    if (j.contains("val_loss") && j["val_loss"].is_number())
      val += fmt::format("{} {}\n", j["step"].get<int64_t>(), j["val_loss"].get<double>());
  }
  if (train.empty()) return;
  std::string script = gnuplot_datablock("T", train);
  std::string plot = "$T using 1:2 title 'training loss (window mean)' with lines lw 2 " + series_style(0);
  if (!val.empty()) {
    script += gnuplot_datablock("V", val);
    plot += ", $V using 1:2 title 'validation loss' with linespoints lw 2 pt 7 " + series_style(1);
  }
  script += fmt::format(
      "set title 'Loss during training'\nset xlabel 'step'\nset ylabel 'loss (nats)'\n"
      "set logscale x\nset xrange [1:{}]\nset grid\nset key top right box opaque\nplot {}\n",
      last, plot);
  render_plot(script, (run / "loss").string(), 900, 550);
}

// Per-layer probes taken during training (--probe-every) as probe_during_training.png / .svg:
// cosine and |grad W_Q| / |grad W_V| against step, one curve per layer (at most five: the input,
// the quarters and the last block).
void render_training_probe_plot(const fs::path& run, const std::vector<Json>& log) {
  std::map<int, std::string> cosine, ratio;
  int64_t last_step = 1;
  for (const Json& j : log) {
    if (!j.contains("probe")) continue;
    const int64_t step = std::max<int64_t>(j["step"].get<int64_t>(), 1);  // the probe at step 0 is drawn at 1
    last_step = std::max(last_step, step);
    const int last = int(j["probe"].size()) - 1;
    for (const auto& layer : j["probe"]) {
      const int l = layer["layer"];
      if (l != 0 && l != last && l * 4 % std::max(last, 1) != 0) continue;  // 0, L/4, L/2, 3L/4, L
      if (layer["cosine"].is_number())
        cosine[l] += fmt::format("{} {:.6g}\n", step, layer["cosine"].get<double>());
      if (layer["grad_q_over_v"].is_number() && layer["grad_q_over_v"].get<double>() > 0)
        ratio[l] += fmt::format("{} {:.6g}\n", step, layer["grad_q_over_v"].get<double>());
    }
  }
  if (cosine.empty()) return;
  std::string script, cos_plot, ratio_plot;
  size_t i = 0;
  for (const auto& [l, data] : cosine) {
    const std::string style = fmt::format("title 'layer {}' with linespoints lw 2 {} {}", l,
                                          series_style(i), series_marker(i));
    script += gnuplot_datablock(fmt::format("C{}", l), data);
    cos_plot += fmt::format("{}$C{} using 1:2 {}", i ? ", " : "", l, style);
    if (ratio.count(l)) {
      script += gnuplot_datablock(fmt::format("R{}", l), ratio[l]);
      ratio_plot += fmt::format("{}$R{} using 1:2 {}", ratio_plot.empty() ? "" : ", ", l, style);
    }
    ++i;
  }
  script += "set multiplot layout 1,2\nset grid\nset key outside right top box\n"
            "set xlabel 'step (0 drawn at 1)'\nset logscale x\n" +
            fmt::format("set xrange [1:{}]\n", last_step) +
            "set title 'Token cosine during training'\nset ylabel 'mean pairwise cosine'\n"
            "set yrange [-0.05:1.05]\nplot " + cos_plot + "\n";
  if (!ratio_plot.empty())
    script += "set title 'Query vs value gradient during training'\nset autoscale y\n"
              "set ylabel '|grad W_Q| / |grad W_V|'\nset logscale y\nplot " + ratio_plot + "\n";
  script += "unset multiplot\n";
  render_plot(script, (run / "probe_during_training").string(), 1400, 500);
}

// config_id of a run.json config: as recorded, else computed; "" when it no longer parses (a
// run of an older sigprop).
std::string id_of(const Json& config) {
  if (config.contains("config_id")) return config["config_id"].get<std::string>();
  try {
    return config_id(spec_from_json(config));
  } catch (const std::exception&) {
    return "";
  }
}

// A number for reading: 6 significant digits, integers as they are.
std::string readable(const Json& v) {
  if (v.is_null()) return "n/a";
  if (v.is_number_float()) return fmt::format("{:.6g}", v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The sittings of a resumed training run, from train.jsonl's resume records.
std::string resume_table(const std::vector<Json>& log) {
  std::vector<std::vector<std::string>> table = {{"resumed at step", "after seconds", "time (UTC)"}};
  for (const Json& j : log) {
    if (j.value("event", "") != "resume") continue;
    table.push_back({readable(j["step"]), readable(j["elapsed_s"]), readable(j["time_utc"])});
  }
  return table.size() > 1 ? "<h3>Resumes</h3>\n" + html_table(table) : "";
}

std::string inline_svg(const fs::path& svg) {
  const std::string text = read_file(svg.string());
  const size_t start = text.find("<svg");
  return start == std::string::npos ? "" : text.substr(start);
}

std::string config_summary(const Json& run) {
  std::vector<Json> configs;
  if (run.contains("configs")) for (const auto& c : run["configs"]) configs.push_back(c);
  if (run.contains("config")) configs.push_back(run["config"]);
  if (configs.empty()) return "";
  std::vector<std::vector<std::string>> table = {
      {"name", "paper", "depth", "width", "heads", "norm", "residual", "attention", "activation",
       "init", "config_id"}};
  // A probe of several depths records them once, beside configs that carry the preset's own.
  std::string depths;
  if (run.contains("depths"))
    for (const auto& d : run["depths"]) depths += (depths.empty() ? "" : ", ") + d.dump();
  for (const auto& c : configs) {
    const Json& m = c["model"];
    table.push_back({readable(c["name"]), readable(c["paper"]),
                     depths.empty() ? readable(m["depth"]) : depths, readable(m["width"]),
                     readable(m["heads"]), readable(m["norm"]), readable(m["residual"]),
                     readable(m["attention"]), readable(m["activation"]), readable(m["init"]),
                     id_of(c)});
  }
  std::string out = "<h3>Configuration</h3>\n" + html_table(table);
  if (run.contains("skipped") && !run["skipped"].empty()) {
    out += "<p class=note>Left out (cannot be built there):</p><ul class=note>";
    for (const auto& why : run["skipped"]) out += "<li>" + escape(readable(why)) + "</li>";
    out += "</ul>\n";
  }
  return out;
}

}  // namespace

std::string count(int n, const std::string& noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string ReportStats::text() const {
  return count(runs, "run") + ", " + count(figures, "figure") + ", " + count(tables, "table");
}

namespace {

// `sigprop advise`: the verdict, each finding beside its threshold, and the ranked fixes with
// their config diffs (advice.json).
std::string advice_section(const fs::path& run, ReportStats& stats) {
  const Json a = Json::parse(read_file((run / "advice.json").string()));
  const Json& d = a.at("model").at("diagnosis");
  std::string body = fmt::format("<h3>Advice</h3>\n<p><b>{}</b> (score {:.2f}; 0 = nothing found, lower is worse)",
                                 escape(a.value("verdict", "")), d.value("score", 0.0));
  if (a.contains("recommendation") && a["recommendation"].is_string())
    body += fmt::format("; recommended: <b>{}</b>", escape(a["recommendation"].get<std::string>()));
  body += "</p>\n";
  std::vector<std::vector<std::string>> findings = {{"finding", "present", "value", "threshold", "penalty", "what"}};
  for (const auto& f : d.at("findings"))
    findings.push_back({f.value("name", ""), f.value("present", false) ? "yes" : "no", readable(f["value"]),
                        readable(f["threshold"]), readable(f["penalty"]), f.value("text", "")});
  body += html_table(findings);
  std::vector<std::vector<std::string>> ranking = {{"rank", "candidate", "score", "val loss", "--set"}};
  const auto row = [&](const std::string& rank, const Json& c, const std::string& name) {
    std::string sets;
    for (const auto& x : c.value("sets", Json::array())) sets += (sets.empty() ? "" : " ") + x.get<std::string>();
    const Json loss = c.contains("race") ? c["race"].value("val_loss", Json(nullptr)) : Json(nullptr);
    ranking.push_back({rank, name, readable(c.at("diagnosis").at("score")), loss.is_null() ? "" : readable(loss), sets});
  };
  row("", a["model"], "as it is");
  int i = 0;
  for (const auto& c : a.at("ranking")) row(std::to_string(++i), c, c.value("name", ""));
  if (i > 0) body += html_table(ranking), ++stats.tables;
  return body;
}

// One run's section: its command, configuration, summaries, tables and figures (inline SVG,
// rendering the training figures first when they are missing).
std::string run_section(const fs::path& dir, const fs::path& run, ReportStats& stats) {
  const Json meta = Json::parse(read_file((run / "run.json").string()));
  std::vector<Json> log;  // a training run's train.jsonl, parsed once for its figures and table
  if (fs::exists(run / "train.jsonl")) {
    std::istringstream in(read_file((run / "train.jsonl").string()));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) log.push_back(Json::parse(line));
  }
  if (!log.empty() && !fs::exists(run / "loss.svg")) render_loss_plot(run, log);
  if (!log.empty() && !fs::exists(run / "probe_during_training.svg"))
    render_training_probe_plot(run, log);
  const std::string rel = fs::relative(run, dir).string();
  std::string body = fmt::format("<section><h2>{} <span class=cmd>{}</span></h2>\n",
                                 escape(rel == "." ? dir.filename().string() : rel),
                                 escape(meta.value("command", std::string("?"))));
  body += config_summary(meta);
  if (fs::exists(run / "summary.json")) {
    std::vector<std::vector<std::string>> table = {{"quantity", "value"}};
    const Json summary = Json::parse(read_file((run / "summary.json").string()));
    for (const auto& [k, v] : summary.items())
      if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty()))
        table.push_back({k, readable(v)});
    body += "<h3>Summary</h3>\n" + html_table(table);
    ++stats.tables;
    body += resume_table(log);
  }
  if (fs::exists(run / "advice.json")) body += advice_section(run, stats), ++stats.tables;
  else if (fs::exists(run / "summary.txt"))  // theory runs: the printed summary with its agreement figure
    body += "<h3>Summary</h3>\n<pre>" + escape(read_file((run / "summary.txt").string())) + "</pre>\n";
  if (fs::exists(run / "probe.csv")) body += probe_table((run / "probe.csv").string()), ++stats.tables;
  for (const char* csv : {"race.csv", "results.csv"})
    if (run != dir && fs::exists(run / csv)) {
      body += "<h3>" + std::string(csv) + "</h3>\n" + html_table(parse_csv(read_file((run / csv).string())));
      ++stats.tables;
    }
  std::vector<fs::path> svgs;
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().extension() == ".svg") svgs.push_back(e.path());
  std::sort(svgs.begin(), svgs.end());
  for (const auto& svg : svgs) {
    body += "<figure>" + inline_svg(svg) + "<figcaption>" + escape(svg.filename().string()) +
            " (PNG beside it)</figcaption></figure>\n";
    ++stats.figures;
  }
  body += "<details><summary>run.json</summary><pre>" + escape(meta.dump(2)) + "</pre></details>\n";
  ++stats.runs;
  return body + "</section>\n";
}

}  // namespace

ReportStats write_html_report(const std::string& dir_text) {
  const fs::path dir(dir_text);
  if (!fs::is_directory(dir)) throw DataError(dir_text + " is not a folder");
  std::vector<fs::path> runs;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
    if (it->path().filename() == "run.json") runs.push_back(it->path().parent_path());
  std::sort(runs.begin(), runs.end());
  if (runs.empty() && !fs::exists(dir / "results.csv"))
    throw DataError(dir_text + " holds no sigprop run (no run.json below it)");

  ReportStats stats;
  std::string body;
  if (fs::exists(dir / "repro.json")) {  // a `sigprop repro` folder: the claim under test first
    const Json about = Json::parse(read_file((dir / "repro.json").string()));
    body += fmt::format("<section><h2>{}</h2>\n<p><b>Claim under test:</b> {}</p></section>\n",
                        escape(about.value("title", "")), escape(about.value("claim", "")));
  }
  if (fs::exists(dir / "results.csv")) {
    body += "<section><h2>Sweep results</h2>\n" +
            html_table(parse_csv(read_file((dir / "results.csv").string()))) + "</section>\n";
    ++stats.tables;
  }
  for (const auto& run : runs) body += run_section(dir, run, stats);

  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  const std::string html = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sigprop report: {0}</title>
<style>
body {{ font-family: sans-serif; max-width: 1560px; margin: 2em auto; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ border-bottom: 1px solid #ccc; font-size: 1.2em; }}
.cmd {{ font-weight: normal; color: #666; font-size: 0.8em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
th {{ background: #f3f3f3; }} figure {{ margin: 1em 0; }} figure svg {{ width: 100%; height: auto; }}
figcaption, .note {{ color: #666; font-size: 0.85em; }} pre {{ font-size: 0.8em; }}
</style></head><body>
<h1>sigprop report: {0}</h1>
<p class=note>sigprop {1} ({2}), generated {3}: {4}.</p>
{5}
</body></html>
)",
                                       escape(dir.filename().string()), sigprop_version(),
                                       git_revision(), when, stats.text(), body);
  write_file_atomic((dir / "report.html").string(), html);
  return stats;
}

}  // namespace sigprop
