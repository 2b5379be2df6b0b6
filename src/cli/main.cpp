// sigprop: signal propagation in deep transformers. A thin layer over the library.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>
#include <exception>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/version.h"

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The (sub)command the user named, whose options an error is about.
const CLI::App* given_command(const CLI::App& app) {
  const CLI::App* cmd = &app;
  while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
  return cmd;
}

// "--dept": did you mean --depth? The closest long option of the command that was given.
void suggest_options(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cmd = given_command(app);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) continue;
    const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos
                                                                              : arg.find('=') - 2);
    std::string best;
    size_t best_distance = 3;  // no suggestion beyond two edits
    for (const CLI::Option* opt : cmd->get_options())
      for (const auto& long_name : opt->get_lnames()) {
        if (long_name == name) {
          best.clear(), best_distance = 0;
          break;
        }
        const size_t d = edit_distance(name, long_name);
        if (d < best_distance) best = long_name, best_distance = d;
      }
    if (!best.empty()) fmt::print(stderr, "did you mean --{} (not --{})?\n", best, name);
  }
}

// CLI11 says "Could not convert: --lr = abc"; say what the option takes, in words.
void explain_conversion(const CLI::App& app, const std::string& message) {
  const std::string prefix = "Could not convert: ";
  if (message.rfind(prefix, 0) != 0) return;
  const std::string rest = message.substr(prefix.size());
  const size_t eq = rest.find(" = ");
  if (eq == std::string::npos) return;
  const std::string name = rest.substr(0, eq), value = rest.substr(eq + 3);
  for (const CLI::Option* opt : given_command(app)->get_options()) {
    if (!opt->check_name(name)) continue;
    const std::string type = opt->get_type_name();
    const std::string words = type.rfind("FLOAT", 0) == 0  ? "a number"
                              : type.rfind("UINT", 0) == 0 ? "an integer >= 0"
                              : type.rfind("INT", 0) == 0  ? "an integer"
                                                           : "a " + type;
    fmt::print(stderr, "{}: '{}' is not allowed: expected {}\n", name, value, words);
    return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  sigprop::use_all_cores();

  CLI::App app{"sigprop: will this deep transformer train, and which fix should it use?"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sigprop ") + sigprop::sigprop_version());
  sigprop::cli::add_env_command(app);
  sigprop::cli::add_probe_command(app);
  sigprop::cli::add_presets_command(app);
  sigprop::cli::add_data_command(app);
  sigprop::cli::add_train_command(app);
  sigprop::cli::add_race_command(app);
  sigprop::cli::add_advise_command(app);
  sigprop::cli::add_sweep_command(app);
  sigprop::cli::add_report_command(app);
  sigprop::cli::add_theory_command(app);
  sigprop::cli::add_repro_command(app);
  sigprop::cli::add_bench_command(app);
  sigprop::cli::add_export_command(app);
  sigprop::cli::add_predict_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    if (rc != 0) suggest_options(app, argc, argv), explain_conversion(app, e.what());
    return rc == 0 ? 0 : sigprop::kExitConfig;
  } catch (const sigprop::ConfigError& e) {
    fmt::print(stderr, "sigprop: error: {}\n", e.what());
    return sigprop::kExitConfig;
  } catch (const sigprop::DataError& e) {
    fmt::print(stderr, "sigprop: data error: {}\n", e.what());
    return sigprop::kExitData;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sigprop: failed: {}\n", e.what());
    return sigprop::kExitFailure;
  }
  return sigprop::kExitOk;
}
