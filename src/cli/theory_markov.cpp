#include "cli/theory.h"
namespace sigprop::cli {
void add_theory_markov(CLI::App* theory) { theory->add_subcommand("markov", "todo"); }
}  // namespace sigprop::cli
