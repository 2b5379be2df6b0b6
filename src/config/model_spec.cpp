#include "config/model_spec.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace sigprop {

double ResidualScale::alpha(int depth) const {
  switch (kind) {
    case Kind::Constant: return value;
    case Kind::InvSqrtDepth: return 1.0 / std::sqrt(static_cast<double>(depth));  // paper 002
    case Kind::None: return 1.0;
    case Kind::LambdaGamma: return value;
    case Kind::InvDepth: return 1.0 / depth;  // CompleteP (Dey et al. 2025)
    case Kind::LayerScale: return value;
    case Kind::ReZero: return 0.0;  // learnable, 0 at init: each block starts as the identity
    case Kind::DeepNorm: return 1.0;
  }
  return value;
}

double deepnorm_alpha(int depth) { return std::pow(2.0 * depth, 0.25); }
double deepnorm_beta(int depth) { return std::pow(8.0 * depth, -0.25); }

double ModelSpec::layerscale_gain() const {
  if (layerscale_init > 0.0) return layerscale_init;
  return depth <= 18 ? 0.1 : depth <= 24 ? 1e-5 : 1e-6;
}

std::string ResidualScale::to_string() const {
  switch (kind) {
    case Kind::InvSqrtDepth: return "1/sqrt(L)";
    case Kind::None: return "none";
    case Kind::LambdaGamma: return "lambda_gamma";
    case Kind::InvDepth: return "1/L";
    case Kind::LayerScale: return "layerscale";
    case Kind::ReZero: return "rezero";
    case Kind::DeepNorm: return "deepnorm";
    case Kind::Constant: break;
  }
  std::ostringstream s;
  s << value;
  return s.str();
}

const std::vector<AttentionVariantDoc>& attention_variant_docs() {
  static const std::vector<AttentionVariantDoc> all = {
      {"softmax", "softmax(q k^T / sqrt(d_k)), the standard baseline (Vaswani et al. 2017)"},
      {"uniform", "A = (1/T) 1 1^T (or uniform causal): the W_Q = 0 limit (paper 002)"},
      {"random_markov", "softmax of i.i.d. N(-ln2/2, ln2) logits, input-independent (paper 003)"},
      {"gap_removed", "A - (1/T) 1 1^T after softmax: spectral gap removed (paper 003)"},
      {"shaped", "I + softmax(q k^T / tau) - C, tau = tau0 sqrt(n n_k) (paper 004)"},
      {"value_skipinit", "alpha I + beta A, trainable, alpha = 1, beta = 0 at init (paper 001)"},
      {"espa", "D softmax(q k^T/sqrt(d_k) + B): exponential signal-preserving attention (paper 001)"},
      {"uspa", "D softmax(q k^T/sqrt(d_k) + B): uniform signal-preserving attention (paper 001)"},
  };
  return all;
}

std::vector<std::string> attention_variant_names() {
  std::vector<std::string> names;
  for (const auto& v : attention_variant_docs()) names.push_back(v.name);
  return names;
}

bool is_attention_variant(const std::string& name) {
  for (const auto& v : attention_variant_docs())
    if (v.name == name) return true;
  return false;
}

namespace {
void require(bool ok, const std::string& key, const std::string& allowed, const std::string& got) {
  if (!ok) throw ConfigError("model." + key + " = " + got + " is not allowed: " + allowed);
}
}  // namespace

void ModelSpec::validate() const {
  using std::to_string;
  require(depth >= 1 && depth <= 100000, "depth", "an integer in 1..100000", to_string(depth));
  require(width >= 1, "width", "an integer >= 1", to_string(width));
  require(heads >= 1, "heads", "an integer >= 1", to_string(heads));
  require(width % heads == 0, "heads", "a divisor of width (" + to_string(width) + ")",
          to_string(heads));
  require(d_k >= 0, "d_k", "0 (= width/heads) or a positive integer", to_string(d_k));
  require(mlp_width >= 0, "mlp_width", "0 (no MLP) or a positive integer", to_string(mlp_width));
  require(leaky_slope >= 0.0 && leaky_slope < 1.0, "leaky_slope", "a number in [0, 1)",
          to_string(leaky_slope));
  if (residual.kind == ResidualScale::Kind::Constant)
    require(std::isfinite(residual.value) && residual.value > 0.0, "residual",
            "\"1/sqrt(L)\", \"1/L\", \"none\", \"lambda_gamma\", \"layerscale\", \"rezero\", "
            "\"deepnorm\" or a positive number",
            residual.to_string());
  require(std::isfinite(layerscale_init) && layerscale_init >= 0.0, "layerscale_init",
          "0 (CaiT's by depth) or a positive number", to_string(layerscale_init));
  // DeepNet's a·X weights the stream that its LN renormalises; without that LN it only grows.
  require(residual.kind != ResidualScale::Kind::DeepNorm || norm == NormPlace::Post, "residual",
          "deepnorm only with norm = \"post\" (DeepNet's LN(a x + f(x)))", residual.to_string());
  require(vocab_size >= 2, "vocab_size", "an integer >= 2", to_string(vocab_size));
  require(max_seq >= 1, "max_seq", "an integer >= 1", to_string(max_seq));
  require(patch_size >= 1, "patch_size", "an integer >= 1", to_string(patch_size));
  require(channels >= 1, "channels", "an integer >= 1", to_string(channels));
  require(num_classes >= 2, "num_classes", "an integer >= 2", to_string(num_classes));
  require(std::isfinite(init_std) && init_std > 0.0, "init_std", "a positive number",
          to_string(init_std));
  require(residual_gamma > 0.0 && residual_gamma <= 1.0, "residual_gamma", "a number in (0, 1]",
          to_string(residual_gamma));
  require(std::isfinite(simremove_tau), "simremove_tau", "a finite number", to_string(simremove_tau));
  require(shaped_tau0 > 0.0 && std::isfinite(shaped_tau0), "shaped_tau0", "a positive number",
          to_string(shaped_tau0));
  require(espa_gamma > 0.0 && std::isfinite(espa_gamma), "espa_gamma", "a positive number",
          to_string(espa_gamma));
  // ρ_L < 0 would make ρ_l decrease with l, and U-SPA's A_l negative (paper 001).
  require(uspa_rho >= 0.0 && uspa_rho < 1.0, "uspa_rho",
          "a number in [0, 1) (rho_l must be non-decreasing for A_l >= 0)", to_string(uspa_rho));
  require(std::isfinite(shaped_c_plus) && std::isfinite(shaped_c_minus), "shaped_c_plus",
          "finite numbers (with shaped_c_minus)", to_string(shaped_c_plus));
  require(attention_base == "softmax" || attention_base == "uniform" ||
              attention_base == "random_markov",
          "attention_base", "softmax | uniform | random_markov", attention_base);
}

}  // namespace sigprop
