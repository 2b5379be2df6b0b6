#include "model/options.h"

namespace sigprop {

AttentionOptions attention_options(const ModelSpec& spec, int layer) {
  return AttentionOptions(spec.width, spec.heads)
      .d_k(spec.key_width())
      .variant(spec.attention)
      .base(spec.attention_base)
      .causal(spec.causal)
      .layer(layer)
      .depth(spec.depth)
      .max_seq(spec.max_seq)
      .shaped_tau0(spec.shaped_tau0)
      .espa_gamma(spec.espa_gamma)
      .uspa_rho(spec.uspa_rho)
      .qk_norm(spec.qk_norm);
}

MLPOptions mlp_options(const ModelSpec& spec) {
  return MLPOptions(spec.width, spec.mlp_width)
      .activation(ActivationOptions()
                      .kind(spec.activation)
                      .leaky_slope(spec.leaky_slope)
                      .tat_eta(spec.tat_eta)
                      .tat_nonlinearities(spec.tat_nonlinearities())
                      .width(spec.width)
                      .c_plus(spec.shaped_c_plus)
                      .c_minus(spec.shaped_c_minus));
}

NormOptions norm_options(const ModelSpec& spec) { return NormOptions(spec.width).kind(spec.norm_kind); }

BlockOptions block_options(const ModelSpec& spec, int layer) {
  // λ/γ weighs the branch by γ (model.residual_gamma), LayerScale starts at its gain; the others
  // by α(L) (config/model_spec.h).
  using Kind = ResidualScale::Kind;
  const Kind kind = spec.residual.kind;
  const double alpha = kind == Kind::LambdaGamma  ? spec.residual_gamma
                       : kind == Kind::LayerScale ? spec.layerscale_gain()
                                                  : spec.residual.alpha(spec.depth);
  return BlockOptions(attention_options(spec, layer), mlp_options(spec), norm_options(spec))
      .norm_place(spec.norm)
      .residual(ResidualOptions()
                    .kind(kind)
                    .alpha(alpha)
                    .width(spec.width)
                    .skip(kind == Kind::DeepNorm ? deepnorm_alpha(spec.depth) : 1.0))
      .simremove(spec.simremove)
      .similarity_removal(SimilarityRemovalOptions().tau(spec.simremove_tau).causal(spec.causal));
}

}  // namespace sigprop
