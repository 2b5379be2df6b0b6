// `sigprop theory markov`: attention spectra against random-matrix laws, rank collapse in width
// (paper 003).
#include "cli/progress.h"
#include "cli/theory.h"
#include "report/theory_plots.h"
#include "report/theory_tables.h"
#include "theory/markov_spectra.h"

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
  run_and_publish(
      "theory markov", a.common,
      [&](const Progress& progress) { return run_markov_study(a.o, progress); },
      [&](const MarkovStudy& study) {
        TheoryRun r;
        r.params = {{"seqs", a.o.seqs}, {"draws", a.o.draws}, {"aspect", a.o.aspect},
                    {"kinds", a.kinds}, {"depth", a.o.depth}, {"depth_seq", a.o.depth_seq}};
        r.files = {{"markov_spectra.csv", markov_spectra_csv(study)},
                   {"markov_slopes.csv", markov_slopes_csv(study)},
                   {"markov_values.csv", markov_values_csv(study)},
                   {"markov_depth.csv", markov_depth_csv(study)}};
        r.plot_name = "markov";
        r.plot_script = markov_plot_script(study);
        r.plot_width = 1500, r.plot_height = 1100;
        r.summary = markov_summary_text(study);
        return r;
      });
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
