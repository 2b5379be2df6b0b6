#include "core/hash.h"
#include "sweep/sweep.h"

#include <filesystem>
#include <map>
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config/spec_io.h"
#include "config/toml_document.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_codes.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

bool is_model_key(const std::string& key) {
  for (const auto& k : spec_keys())
    if (k.key == key) return true;
  return false;
}

std::string value_text(const toml::node& node, const std::string& where) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) return fmt::format("{}", *d);
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  throw ConfigError(where + " must be a string, number or boolean");
}

// depth, width and heads are options of every model command, and `input` is probe's; other
// model keys go through --set; anything else is the command's own option, which the command
// itself validates.
void append_option(std::vector<std::string>& args, const std::string& key, const std::string& value) {
  const bool flag =
      key == "depth" || key == "width" || key == "heads" || key == "input" || !is_model_key(key);
  if (!flag) {
    args.insert(args.end(), {"--set", key + "=" + value});
  } else if (value == "true") {
    args.push_back("--" + key);  // boolean flags: --compare, --no-plot, ...
  } else if (value != "false") {
    args.insert(args.end(), {"--" + key, value});
  }
}

}  // namespace

std::vector<SweepCell> SweepGrid::cells() const {
  size_t total = 1;
  for (const auto& [k, vs] : grid) total *= vs.size();
  std::vector<SweepCell> out;
  for (size_t product = 0; product < total; ++product) {
    size_t rest = product;
    std::vector<std::pair<std::string, std::string>> values(grid.size());
    for (size_t g = grid.size(); g-- > 0;) {
      const auto& [key, vs] = grid[g];
      values[g] = {key, vs[rest % vs.size()]};
      rest /= vs.size();
    }
    // An exclusion drops the cells that match every one of its keys.
    const auto matches = [&](const SweepExclusion& ex) {
      return std::all_of(ex.begin(), ex.end(), [&](const auto& kv) {
        const auto v = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first == kv.first; });
        return std::find(kv.second.begin(), kv.second.end(), v->second) != kv.second.end();
      });
    };
    if (std::any_of(exclude.begin(), exclude.end(), matches)) continue;
    SweepCell cell;
    cell.index = out.size();
    cell.args = command;
    for (const auto& [k, v] : fixed) append_option(cell.args, k, v);
    for (const auto& [k, v] : values) append_option(cell.args, k, v);
    cell.values = values;
    std::string joined;
    for (const auto& a : cell.args) joined += a + '\x1f';
    cell.hash = fnv1a_hex(joined);
    out.push_back(cell);
  }
  return out;
}

SweepGrid parse_sweep_grid(const std::string& text, const std::string& source) {
  const toml::table doc = parse_toml_document(text, source);
  SweepGrid g;
  for (const auto& [k, node] : doc) {
    const std::string key(k.str());
    if (key == "command") {
      auto s = node.value_exact<std::string>();
      if (!s) throw ConfigError(source + ": command must be a string");
      std::istringstream words(*s);
      for (std::string w; words >> w;) g.command.push_back(w);
    } else if (key == "fixed" || key == "grid") {
      const auto* table = node.as_table();
      if (!table) throw ConfigError(source + ": [" + key + "] must be a table");
      // toml++ keeps keys sorted; the grid's order (last key fastest) is the file's order.
      std::vector<std::pair<std::string, const toml::node*>> entries;
      for (const auto& [ok, onode] : *table) entries.emplace_back(std::string(ok.str()), &onode);
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.second->source().begin < b.second->source().begin;
      });
      for (const auto& [okey, node_ptr] : entries) {
        const toml::node& onode = *node_ptr;
        const std::string where = source + ": " + key + "." + okey;
        if (key == "fixed") {
          g.fixed.emplace_back(okey, value_text(onode, where));
          continue;
        }
        const auto* list = onode.as_array();
        if (!list || list->empty()) throw ConfigError(where + " must be a non-empty list");
        std::vector<std::string> values;
        for (const auto& v : *list) values.push_back(value_text(v, where));
        g.grid.emplace_back(okey, values);
      }
    } else if (key == "exclude") {
      const auto* list = node.as_array();
      if (!list) throw ConfigError(source + ": exclude must be an array of tables, [[exclude]]");
      for (const auto& item : *list) {
        const auto* table = item.as_table();
        if (!table || table->empty())
          throw ConfigError(source + ": each [[exclude]] must be a table of grid keys and their values");
        SweepExclusion ex;
        for (const auto& [ek, enode] : *table) {
          const std::string where = source + ": exclude." + std::string(ek.str());
          std::vector<std::string> values;
          if (const auto* arr = enode.as_array())
            for (const auto& v : *arr) values.push_back(value_text(v, where));
          else
            values.push_back(value_text(enode, where));
          ex.emplace_back(std::string(ek.str()), values);
        }
        g.exclude.push_back(ex);
      }
    } else {
      throw ConfigError(source + ": unknown key '" + key + "'; allowed: command, [fixed], [grid], [[exclude]]");
    }
  }
  // An exclusion names grid keys only, and values the grid has: anything else is a typo that
  // would silently exclude nothing.
  for (const auto& ex : g.exclude)
    for (const auto& entry : ex) {
      const std::string& key = entry.first;  // a named reference: lambdas cannot capture bindings
      const auto& values = entry.second;
      const auto it = std::find_if(g.grid.begin(), g.grid.end(), [&](const auto& p) { return p.first == key; });
      if (it == g.grid.end()) throw ConfigError(source + ": exclude." + key + " is not a key of [grid]");
      for (const auto& v : values)
        if (std::find(it->second.begin(), it->second.end(), v) == it->second.end())
          throw ConfigError(source + ": exclude." + key + " = " + v + " is not among the grid's values");
    }
  if (g.command.empty() || !is_runnable_command(g.command.front()))
    throw ConfigError(source + ": command must be one of probe | train | race | advise | theory <name>");
  if (g.grid.empty()) throw ConfigError(source + ": [grid] needs at least one list of values");
  return g;
}

bool is_runnable_command(const std::string& name) {
  return name == "probe" || name == "train" || name == "race" || name == "advise" || name == "theory";
}

SweepGrid load_sweep_grid(const std::string& path) {
  return parse_sweep_grid(read_config_text(path, "grid file"), path);
}

std::pair<size_t, size_t> parse_shard(const std::string& text) {
  size_t i = 0, n = 0;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> i >> slash >> n) || slash != '/' || n == 0 || i >= n || !in.eof())
    throw ConfigError("--shard " + text + " is not allowed: expected i/N with 0 <= i < N");
  return {i, n};
}

std::string sweep_folder(const std::string& grid_path, const std::string& out) {
  return out.empty() ? "runs/sweep-" + fs::path(grid_path).stem().string() : out;
}

std::string cell_dir(const std::string& sweep_dir, const SweepCell& cell) {
  return sweep_dir + "/cells/" + cell.hash;
}

bool cell_done(const std::string& sweep_dir, const SweepCell& cell) {
  return fs::exists(cell_dir(sweep_dir, cell) + "/done.json");
}

void mark_cell_done(const std::string& sweep_dir, const SweepCell& cell, int exit_code,
                    double seconds) {
  Json values = Json::object();
  for (const auto& [k, v] : cell.values) values[k] = v;
  const Json done{{"index", cell.index}, {"args", cell.args}, {"values", values},
                  {"exit_code", exit_code}, {"seconds", seconds}};
  write_file_atomic(cell_dir(sweep_dir, cell) + "/done.json", done.dump(2) + "\n");
}

void mark_cell_failed(const std::string& sweep_dir, const SweepCell& cell, int exit_code,
                      const std::string& message) {
  const Json failed{{"index", cell.index}, {"args", cell.args}, {"exit_code", exit_code},
                    {"message", message}};
  write_file_atomic(cell_dir(sweep_dir, cell) + "/failed.json", failed.dump(2) + "\n");
}

Json cell_failure(const std::string& sweep_dir, const SweepCell& cell) {
  const std::string path = cell_dir(sweep_dir, cell) + "/failed.json";
  if (cell_done(sweep_dir, cell) || !fs::exists(path)) return Json::object();
  return Json::parse(read_file(path));
}

Json cell_headline(const std::string& sweep_dir, const SweepCell& cell) {
  const std::string out = cell_dir(sweep_dir, cell) + "/out";
  if (!cell_done(sweep_dir, cell)) return Json::object();
  if (fs::exists(out + "/summary.json")) return Json::parse(read_file(out + "/summary.json"));
  if (fs::exists(out + "/run.json")) {
    const Json run = Json::parse(read_file(out + "/run.json"));
    if (run.contains("headline")) return run["headline"];
  }
  return Json::object();
}

std::string sweep_results_csv(const std::string& sweep_dir, const SweepGrid& grid) {
  const auto cells = grid.cells();
  std::vector<Json> heads;
  std::vector<std::string> columns;
  for (const auto& cell : cells) {
    heads.push_back(cell_headline(sweep_dir, cell));
    for (const auto& [k, v] : heads.back().items())
      if ((v.is_number() || v.is_string() || v.is_null()) &&
          std::find(columns.begin(), columns.end(), k) == columns.end())
        columns.push_back(k);
  }
  std::string csv = "cell";
  for (const auto& [k, vs] : grid.grid) csv += "," + k;
  csv += ",done,exit_code,outcome,error";
  for (const auto& c : columns) csv += "," + c;
  csv += "\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& cell = cells[i];
    csv += cell.hash;
    for (const auto& [k, v] : cell.values) csv += "," + v;
    const bool done = cell_done(sweep_dir, cell);
    const Json failed = cell_failure(sweep_dir, cell);
    int code = -1;
    if (done) code = Json::parse(read_file(cell_dir(sweep_dir, cell) + "/done.json"))["exit_code"];
    if (!failed.empty()) code = failed["exit_code"];
    const char* status = done ? (code == kExitDiverged ? "diverged" : "done")
                              : (failed.empty() ? "pending" : "failed");
    std::string message = failed.value("message", "");
    for (char& ch : message)  // one CSV field, as the report's reader splits on commas
      if (ch == ',') ch = ';';
      else if (ch == '"' || ch == '\n' || ch == '\r') ch = ' ';
    csv += fmt::format(",{},{},{},{}", done ? 1 : 0, code, status, message);
    for (const auto& c : columns) {
      const Json v = heads[i].value(c, Json(nullptr));
      // Six significant digits, as probe.csv prints them.
      csv += "," + (v.is_string()         ? v.get<std::string>()
                    : v.is_null()         ? std::string("")
                    : v.is_number_float() ? fmt::format("{:.6g}", v.get<double>())
                                          : v.dump());
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace sigprop
