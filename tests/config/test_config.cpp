// ModelSpec parsing: every bad input is rejected with a message naming the key and what is allowed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"

using namespace sigprop;

namespace {

// The ConfigError message of parsing `model_keys` under [model], or "" when it parses.
std::string error_of(const std::string& model_keys) {
  try {
    parse_spec_toml("[model]\n" + model_keys, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& keys, std::initializer_list<std::string> parts) {
  const std::string msg = error_of(keys);
  ASSERT_FALSE(msg.empty()) << "accepted: " << keys;
  for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg << " lacks " << p;
}

}  // namespace

TEST(Config, PresetsParseAndDiffer) {
  EXPECT_EQ(load_preset("post-ln").norm, NormPlace::Post);
  EXPECT_EQ(load_preset("pre-ln").norm, NormPlace::Pre);
  auto scaled = load_preset("post-ln-scaled");
  EXPECT_EQ(scaled.residual.kind, ResidualScale::Kind::InvSqrtDepth);
  EXPECT_DOUBLE_EQ(scaled.residual.alpha(64), 0.125);
  EXPECT_EQ(scaled.paper, "002");
}

TEST(Config, UnknownPresetListsKnownOnes) {
  try {
    find_preset("post-lnn");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("post-ln-scaled"), std::string::npos) << e.what();
  }
}

TEST(Config, RejectsBadValuesNamingKeyAndAllowed) {
  expect_error("depthh = 3", {"model.depthh", "known keys", "depth"});
  expect_error("depth = 0", {"model.depth", ">= 1"});
  expect_error("depth = \"deep\"", {"model.depth", "integer"});
  expect_error("width = 130\nheads = 4", {"model.heads", "divisor of width"});
  expect_error("norm = \"middle\"", {"model.norm", "pre | post | none"});
  expect_error("residual = -1", {"model.residual", "1/sqrt(L)"});
  expect_error("residual = \"1/depth\"",
               {"model.residual", "1/sqrt(L)", "1/L", "layerscale", "rezero", "deepnorm"});
  expect_error("norm = \"inside\"", {"model.norm", "sandwich"});
  expect_error("residual = \"deepnorm\"\nnorm = \"pre\"", {"model.residual", "deepnorm", "post"});
  expect_error("residual = \"deepnorm\"\nnorm = \"sandwich\"", {"model.residual", "post"});
  expect_error("layerscale_init = -0.1", {"model.layerscale_init", "positive"});
  expect_error("qk_norm = \"yes\"", {"model.qk_norm", "true | false"});
  expect_error("attention = \"linear\"", {"model.attention", "softmax"});
  expect_error("causal = 1", {"model.causal", "true | false"});
  expect_error("leaky_slope = 1.5", {"model.leaky_slope", "[0, 1)"});
  expect_error("depth = [1, 2]", {"model.depth", "array"});
  expect_error("init_std = 0.0\ninit = \"normal\"", {"model.init_std", "positive"});
}

TEST(Config, RejectsUnknownTablesAndSyntax) {
  try {
    parse_spec_toml("[modle]\ndepth = 2\n", "f.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("modle"), std::string::npos) << e.what();
  }
  try {
    parse_spec_toml("[model]\ndepth = = 2\n", "f.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("f.toml:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_spec_file("/nonexistent/x.toml"), ConfigError);
}

TEST(Config, OverridesParseLikeToml) {
  ModelSpec s = load_preset("post-ln");
  apply_override(s, "norm=pre");
  apply_override(s, "residual=1/sqrt(L)");
  apply_override(s, "width=64");
  apply_override(s, "causal=false");
  apply_override(s, "residual=0.5");
  EXPECT_EQ(s.norm, NormPlace::Pre);
  EXPECT_EQ(s.width, 64);
  EXPECT_FALSE(s.causal);
  EXPECT_DOUBLE_EQ(s.residual.alpha(9), 0.5);
  apply_override(s, "heads=5");
  EXPECT_THROW(s.validate(), ConfigError);
  EXPECT_THROW(apply_override(s, "noequals"), ConfigError);
}

// The stability fixes' keys (docs/methods.md): each value as an override, through TOML and JSON.
TEST(Config, StabilityFixKeysRoundTrip) {
  using Kind = ResidualScale::Kind;
  const std::vector<std::pair<std::string, Kind>> residuals = {
      {"1/L", Kind::InvDepth}, {"layerscale", Kind::LayerScale}, {"rezero", Kind::ReZero},
      {"deepnorm", Kind::DeepNorm}};
  for (const auto& [text, kind] : residuals) {
    ModelSpec s = load_preset("post-ln");
    apply_override(s, "residual=" + text);
    apply_override(s, "qk_norm=true");
    apply_override(s, "layerscale_init=0.02");
    if (kind != Kind::DeepNorm) apply_override(s, "norm=sandwich");
    s.validate();
    EXPECT_EQ(s.residual.kind, kind) << text;
    EXPECT_EQ(s.residual.to_string(), text);
    const ModelSpec back = parse_spec_toml(spec_to_toml(s), "round-trip");
    EXPECT_EQ(spec_to_json(back), spec_to_json(s)) << text;
    EXPECT_EQ(back.residual.kind, kind);
    EXPECT_TRUE(back.qk_norm);
    EXPECT_EQ(back.norm, kind == Kind::DeepNorm ? NormPlace::Post : NormPlace::Sandwich);
    EXPECT_DOUBLE_EQ(back.layerscale_init, 0.02);
    EXPECT_EQ(spec_to_json(spec_from_json(spec_to_json(s))), spec_to_json(s)) << text;
  }
  ModelSpec s;
  apply_override(s, "residual=1/L");
  EXPECT_DOUBLE_EQ(s.residual.alpha(8), 0.125);
  // LayerScale's init: CaiT's by depth unless given.
  for (const auto& [depth, init] : std::vector<std::pair<int, double>>{{18, 0.1}, {24, 1e-5}, {25, 1e-6}}) {
    s.depth = depth;
    EXPECT_DOUBLE_EQ(s.layerscale_gain(), init) << depth;
  }
  s.layerscale_init = 0.3;
  EXPECT_DOUBLE_EQ(s.layerscale_gain(), 0.3);
  EXPECT_DOUBLE_EQ(deepnorm_alpha(8), 2.0);   // (2·8)^{1/4}
  EXPECT_DOUBLE_EQ(deepnorm_beta(2), 0.5);    // (8·2)^{-1/4}
  // The presets that carry them.
  EXPECT_TRUE(load_preset("pre-ln-qknorm").qk_norm);
  EXPECT_EQ(load_preset("pre-ln-layerscale").residual.kind, Kind::LayerScale);
  EXPECT_EQ(load_preset("rezero").norm, NormPlace::None);
  EXPECT_EQ(load_preset("post-ln-deepnorm").residual.kind, Kind::DeepNorm);
  EXPECT_EQ(load_preset("sandwich-ln").norm, NormPlace::Sandwich);
  EXPECT_EQ(load_preset("pre-ln-inv-depth").residual.kind, Kind::InvDepth);
}

TEST(Config, TomlRoundTrip) {
  for (const auto& name : preset_names()) {
    ModelSpec s = load_preset(name);
    s.residual = {ResidualScale::Kind::Constant, 0.25};
    ModelSpec back = parse_spec_toml(spec_to_toml(s, "round trip"), "round-trip");
    EXPECT_EQ(spec_to_json(s), spec_to_json(back)) << name;
  }
}
