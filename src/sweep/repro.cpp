#include "sweep/repro.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "core/child_process.h"
#include "core/exit_codes.h"
#include "report/html_report.h"

#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "config/toml_document.h"
#include "core/atomic_file.h"
#include "sweep/sweep.h"
#include "core/error.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

std::string required_string(const toml::table& t, const std::string& key, const std::string& where) {
  const auto* node = t.get(key);
  if (!node) throw ConfigError(where + ": missing key '" + key + "'");
  auto s = node->value_exact<std::string>();
  if (!s || s->empty()) throw ConfigError(where + ": " + key + " must be a non-empty string");
  return *s;
}

void check_keys(const toml::table& t, const std::set<std::string>& allowed, const std::string& where,
                const std::string& allowed_text) {
  for (const auto& [k, v] : t)
    if (!allowed.count(std::string(k.str())))
      throw ConfigError(fmt::format("{}: unknown key '{}'; allowed: {}", where, k.str(), allowed_text));
}

ReproStep parse_step(const toml::table& t, const std::string& where) {
  check_keys(t, {"name", "args"}, where, "name, args");
  ReproStep step;
  step.name = required_string(t, "name", where);
  for (char c : step.name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      throw ConfigError(where + ": name '" + step.name + "' may hold only letters, digits, - and _");
  std::istringstream words(required_string(t, "args", where));
  for (std::string w; words >> w;) step.args.push_back(w);
  if (step.args.empty() || !is_runnable_command(step.args.front()))
    throw ConfigError(where + ".args must start with probe | train | race | advise | theory");
  for (const auto& a : step.args)
    if (a == "--out" || a.rfind("--out=", 0) == 0 || a == "--resume")
      throw ConfigError(where + ".args must not set " + a + ": repro chooses each step's folder");
  return step;
}

Json read_done(const std::string& repro_dir) {
  const fs::path path = fs::path(repro_dir) / "done.json";
  if (!fs::exists(path)) return Json::object();
  try {
    return Json::parse(read_file(path.string()));
  } catch (const Json::exception&) {
    return Json::object();  // written atomically, so only a hand-edited file gets here
  }
}

}  // namespace

std::string ReproStep::command_line() const {
  std::string line = "sigprop";
  for (const auto& a : args) line += " " + a;
  return line;
}

ReproPlan parse_repro_plan(const std::string& text, const std::string& source) {
  const toml::table doc = parse_toml_document(text, source);
  check_keys(doc, {"paper", "title", "claim", "step"}, source, "paper, title, claim, [[step]]");
  ReproPlan plan;
  plan.paper = required_string(doc, "paper", source);
  plan.title = required_string(doc, "title", source);
  plan.claim = required_string(doc, "claim", source);
  const auto* steps = doc.get_as<toml::array>("step");
  if (!steps || steps->empty()) throw ConfigError(source + ": needs at least one [[step]]");
  std::set<std::string> names;
  for (size_t i = 0; i < steps->size(); ++i) {
    const std::string where = fmt::format("{}: step[{}]", source, i);
    const auto* t = steps->get(i)->as_table();
    if (!t) throw ConfigError(where + " must be a table ([[step]])");
    ReproStep step = parse_step(*t, where);
    if (!names.insert(step.name).second)
      throw ConfigError(where + ": name '" + step.name + "' is used twice");
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

ReproPlan load_repro_plan(const std::string& path) {
  return parse_repro_plan(read_config_text(path, "reproduction plan"), path);
}

bool repro_step_done(const std::string& repro_dir, const ReproStep& step) {
  const Json done = read_done(repro_dir);
  return done.contains(step.name) && done[step.name].value("command", "") == step.command_line();
}

void mark_repro_step_done(const std::string& repro_dir, const ReproPlan& plan, const ReproStep& step,
                          int exit_code, double seconds) {
  Json done = read_done(repro_dir);
  done[step.name] = {{"command", step.command_line()}, {"exit_code", exit_code}, {"seconds", seconds}};
  write_file_atomic((fs::path(repro_dir) / "done.json").string(), done.dump(2) + "\n");
  const Json about = {{"paper", plan.paper}, {"title", plan.title}, {"claim", plan.claim}};
  write_file_atomic((fs::path(repro_dir) / "repro.json").string(), about.dump(2) + "\n");
}

bool run_repro_plan(const std::string& plan_path, const std::string& out, const LogFn& log,
                    const std::atomic<bool>* stop, const std::string& sigprop) {
  const LogFn say = or_silent(log);
  const ReproPlan plan = load_repro_plan(plan_path);
  const std::string tag = fs::path(plan_path).stem().string();
  fs::create_directories(out);
  say(fmt::format("[repro {}] {}\n  claim: {}\n  folder: {}", tag, plan.title, plan.claim, out));
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const ReproStep& step = plan.steps[i];
    const std::string step_dir = (fs::path(out) / step.name).string();
    if (repro_step_done(out, step)) {
      say(fmt::format("[repro {}] step {}/{} {}: done before, kept", tag, i + 1, plan.steps.size(), step.name));
      continue;
    }
    fs::remove_all(step_dir);  // a changed or half-run step starts over (races resume themselves)
    say(fmt::format("[repro {}] step {}/{} {}: {}", tag, i + 1, plan.steps.size(), step.name,
                    step.command_line()));
    auto args = step.args;
    args.insert(args.end(), {"--out", step_dir});
    const auto start = std::chrono::steady_clock::now();
    args.insert(args.begin(), sigprop);
    const int code = run_process(args, "", 0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (code == kExitInterrupted || (stop && stop->load())) return false;
    if (code != kExitOk && code != kExitDiverged)  // divergence is a result
      throw DataError(fmt::format("repro {} step '{}' failed with exit code {} ({})", tag,
                                  step.name, code, step.command_line()));
    mark_repro_step_done(out, plan, step, code, seconds);
    say(fmt::format("[repro {}] step {} finished in {:.1f} s", tag, step.name, seconds));
  }
  const ReportStats s = write_html_report(out);
  say(fmt::format("[repro {}] report: {}/report.html ({})", tag, fs::absolute(out).string(), s.text()));
  return true;
}

const std::vector<std::string>& repro_papers() {
  static const std::vector<std::string> papers = {"000", "001", "002", "003", "004"};
  return papers;
}

std::vector<std::pair<std::string, std::string>> resolve_repro_plans(const std::string& which,
                                                                     const std::string& out,
                                                                     const std::string& configs_dir) {
  const auto plan_path = [&](const std::string& w) -> fs::path {
    if (fs::path(w).extension() == ".toml") return w;
    const auto& papers = repro_papers();
    if (std::find(papers.begin(), papers.end(), w) == papers.end())
      throw ConfigError("repro " + w + " is not allowed: one of 000, 001, 002, 003, 004, all, or a .toml plan");
    if (configs_dir.empty()) return find_in_source_tree("configs/repro", "pass --configs DIR") / (w + ".toml");
    if (!fs::is_directory(configs_dir)) throw ConfigError("--configs " + configs_dir + " is not a folder");
    return fs::path(configs_dir) / (w + ".toml");
  };
  const std::vector<std::string> chosen = which == "all" ? repro_papers() : std::vector<std::string>{which};
  std::vector<std::pair<std::string, std::string>> plans;
  for (const auto& w : chosen) {
    const fs::path path = plan_path(w);
    load_repro_plan(path.string());
    const std::string name = path.stem().string();
    plans.emplace_back(path.string(), out.empty()           ? "runs/repro-" + name
                                      : chosen.size() == 1 ? out
                                                           : (fs::path(out) / name).string());
  }
  return plans;
}

}  // namespace sigprop
