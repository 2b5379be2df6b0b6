#include "cli/theory.h"
namespace sigprop::cli {
void add_theory_tat(CLI::App* theory) { theory->add_subcommand("tat", "todo"); }
}  // namespace sigprop::cli
