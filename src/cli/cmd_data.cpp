// `sigprop data prepare`: builds the data caches (run once by the set-up scripts).
#include <fmt/format.h>

#include "cli/commands.h"
#include "data/kjv.h"

namespace sigprop::cli {

void add_data_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("data", "Prepare the corpora sigprop reads");
  cmd->require_subcommand(1);
  auto* prepare = cmd->add_subcommand("prepare", "Build the KJV text cache from bible-kjv");
  static bool force = false;
  prepare->add_flag("--force", force, "rebuild even if the cache exists");
  prepare->callback([] {
    const auto path = prepare_kjv(force);
    const auto corpus = load_kjv();
    fmt::print("kjv: {} ({} characters, vocabulary {})\n", path, corpus.ids.size(0),
               corpus.vocab.size());
  });
}

}  // namespace sigprop::cli
