#include "cli/theory.h"
namespace sigprop::cli {
void add_theory_escalation(CLI::App* theory) { theory->add_subcommand("escalation", "todo"); }
}  // namespace sigprop::cli
