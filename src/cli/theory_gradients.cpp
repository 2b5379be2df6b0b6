#include "cli/theory.h"
namespace sigprop::cli {
void add_theory_gradients(CLI::App* theory) { theory->add_subcommand("gradients", "todo"); }
}  // namespace sigprop::cli
