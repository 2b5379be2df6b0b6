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
  expect_error("residual = \"1/L\"", {"model.residual", "1/sqrt(L)"});
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

TEST(Config, TomlRoundTrip) {
  for (const auto& name : preset_names()) {
    ModelSpec s = load_preset(name);
    s.residual = {ResidualScale::Kind::Constant, 0.25};
    ModelSpec back = parse_spec_toml(spec_to_toml(s, "round trip"), "round-trip");
    EXPECT_EQ(spec_to_json(s), spec_to_json(back)) << name;
  }
}
