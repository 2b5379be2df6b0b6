// `sigprop presets [--show NAME]`: the named configurations and their papers.
#include <fmt/format.h>

#include "cli/commands.h"
#include "config/presets.h"
#include "config/spec_io.h"

namespace sigprop::cli {

void add_presets_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("presets", "List the presets, or print one as TOML");
  static std::string show;
  cmd->add_option("--show", show, "print this preset's full TOML (every key), ready to copy and edit");
  cmd->callback([] {
    if (!show.empty()) {
      const Preset& p = find_preset(show);
      fmt::print("{}", spec_to_toml(load_preset(p.name), p.summary));
      return;
    }
    for (const auto& p : presets()) fmt::print("{:<18} {}\n", p.name, p.summary);
  });
}

}  // namespace sigprop::cli
