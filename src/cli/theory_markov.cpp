// `sigprop theory markov`: attention spectra against random-matrix laws, rank collapse in width
// (paper 003).
#include "cli/progress.h"
#include "cli/theory.h"
#include "studies/markov/markov_report.h"
#include "studies/markov/markov_study.h"

namespace sigprop::cli {
namespace {

struct MarkovArgs {
  MarkovStudyOptions o;
  std::vector<std::string> kinds{"random_markov", "kq_xavier", "kq_normal"};
  TheoryCommon common;
};

void run(MarkovArgs& a) {
  a.o.kinds.clear();
  for (const auto& k : a.kinds) a.o.kinds.push_back(parse_attention_draw(k));
  a.o.seed = a.common.seed;
  validate(a.o);
  run_theory("theory markov", a.common, a.o, run_markov_study, markov_output);
}

}  // namespace

void add_theory_markov(CLI::App* theory) {
  static MarkovArgs a;
  auto* cmd = theory->add_subcommand(
      "markov", "Attention spectra (paper 003): quarter circle, circular law, stable rank vs T");
  auto& o = a.o;
  cmd->add_option("--seq", o.seqs, "sequence lengths T, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--draws", o.draws, "matrices per (T, kind)")->capture_default_str();
  cmd->add_option("--aspect", o.aspect, "width d = aspect * T [guess; docs/methods.md: d = T/gamma]")
      ->capture_default_str();
  cmd->add_option("--kinds", a.kinds, "random_markov | kq_xavier | kq_normal, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--depth", o.depth, "layers of the depth study (0 = skip it)")
      ->capture_default_str();
  cmd->add_option("--depth-seq", o.depth_seq, "T of the depth study")->capture_default_str();
  add_common_options(cmd, a.common, "runs/theory-markov");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
