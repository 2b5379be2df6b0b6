// sigprop: signal propagation in deep transformers. A thin layer over the library.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/version.h"

int main(int argc, char** argv) {
  sigprop::reexec_with_fast_blas(argv);
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
  sigprop::cli::add_sweep_command(app);
  sigprop::cli::add_report_command(app);
  sigprop::cli::add_theory_command(app);
  sigprop::cli::add_repro_command(app);
  sigprop::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : sigprop::cli::kExitConfig;
  } catch (const sigprop::ConfigError& e) {
    fmt::print(stderr, "sigprop: error: {}\n", e.what());
    return sigprop::cli::kExitConfig;
  } catch (const sigprop::DataError& e) {
    fmt::print(stderr, "sigprop: data error: {}\n", e.what());
    return sigprop::cli::kExitData;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sigprop: failed: {}\n", e.what());
    return sigprop::cli::kExitFailure;
  }
  return sigprop::cli::kExitOk;
}
