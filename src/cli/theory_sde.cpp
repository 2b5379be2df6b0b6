// `sigprop theory sde`: the shaped transformer's covariance SDE beside finite networks (004).
#include <cmath>

#include "cli/progress.h"
#include "cli/theory.h"
#include "studies/sde/sde_report.h"
#include "studies/sde/sde_study.h"

namespace sigprop::cli {
namespace {

struct SdeArgs {
  SdeStudyOptions o;
  bool no_reduced = false;
  TheoryCommon common;
};

void run(SdeArgs& a) {
  a.o.reduced = !a.no_reduced;
  a.o.seed = a.common.seed;
  validate(a.o);  // bad options: exit 2 before any work or file
  run_theory("theory sde", a.common, a.o, run_sde_study, sde_output);
}

}  // namespace

void add_theory_sde(CLI::App* theory) {
  static SdeArgs a;
  auto* cmd = theory->add_subcommand(
      "sde", "Shaped transformer (paper 004): covariance SDE vs finite networks, KS agreement");
  auto& o = a.o;
  cmd->add_option("--gamma", o.params.gamma,
                  "branch weight gamma in (0, 1]; lambda = sqrt(1 - gamma^2)")
      ->capture_default_str();
  cmd->add_option("--tau0", o.params.tau0, "attention temperature tau0 (tau = tau0 sqrt(n n_k))")
      ->capture_default_str();
  cmd->add_option("--t", o.horizon, "horizon t = depth / width")->capture_default_str();
  cmd->add_option("--h", o.step, "Euler-Maruyama step")->capture_default_str();
  cmd->add_option("--rho0", o.rho0, "initial correlation of every token pair")
      ->capture_default_str();
  cmd->add_option("--tokens", o.tokens, "tokens m")->capture_default_str();
  cmd->add_option("--paths", o.paths, "SDE paths (each of the two SDEs)")->capture_default_str();
  cmd->add_option("--width", o.widths, "finite-network width(s) n, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--key-width", o.key_width, "query/key width n_k (0 = n)")->capture_default_str();
  cmd->add_option("--networks", o.networks, "finite networks per width and sampler")
      ->capture_default_str();
  cmd->add_option("--full-networks", o.full_networks,
                  "full-weight networks at the first width (0 = none; O(n^2) draws per block)")
      ->capture_default_str();
  cmd->add_flag("--no-reduced", a.no_reduced,
                "skip the chol(V)*Z sampler (the Gram chain carries the comparison)");
  cmd->add_flag("--mlp", o.params.mlp, "add the shaped-ReLU MLP sublayer (SDE terms and networks)");
  cmd->add_option("--c-plus", o.params.c_plus, "shaped ReLU s+ = 1 + c+/sqrt(n) [guess]")
      ->capture_default_str();
  cmd->add_option("--c-minus", o.params.c_minus, "shaped ReLU s- = 1 + c-/sqrt(n) [guess]")
      ->capture_default_str();
  add_common_options(cmd, a.common, "runs/theory-sde");
  cmd->callback([] { run(a); });
}

}  // namespace sigprop::cli
