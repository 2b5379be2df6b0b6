#include "config/spec_io.h"
#include "config/toml_document.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>
#include <utility>
#include <variant>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/error.h"

namespace sigprop {
namespace {

using Value = std::variant<bool, int64_t, double, std::string>;
using Json = nlohmann::json;

std::string describe(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) return "\"" + x + "\"";
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else return Json(x).dump();
      },
      v);
}

[[noreturn]] void reject(const std::string& key, const std::string& allowed, const Value& got) {
  throw ConfigError("model." + key + " = " + describe(got) + " is not allowed: expected " +
                    allowed);
}

// One declared key: how to set it from a Value and how to read it back as JSON.
struct Field {
  SpecKey doc;
  std::function<void(ModelSpec&, const Value&)> set;
  std::function<Json(const ModelSpec&)> get;
};

Field int_field(const char* key, int ModelSpec::*member, int lo, const char* help) {
  std::string allowed = "an integer >= " + std::to_string(lo);
  return {{key, allowed, help, {}},
          [=](ModelSpec& s, const Value& v) {
            const auto* i = std::get_if<int64_t>(&v);
            if (!i || *i < lo || *i > 1'000'000'000) reject(key, allowed, v);
            s.*member = static_cast<int>(*i);
          },
          [=](const ModelSpec& s) { return Json(s.*member); }};
}

Field real_field(const char* key, double ModelSpec::*member, const char* help) {
  return {{key, "a number", help, {}},
          [=](ModelSpec& s, const Value& v) {
            if (const auto* d = std::get_if<double>(&v)) s.*member = *d;
            else if (const auto* i = std::get_if<int64_t>(&v)) s.*member = static_cast<double>(*i);
            else reject(key, "a number", v);
          },
          [=](const ModelSpec& s) { return Json(s.*member); }};
}

Field bool_field(const char* key, bool ModelSpec::*member, const char* help) {
  return {{key, "true | false", help, {"true", "false"}},
          [=](ModelSpec& s, const Value& v) {
            const auto* b = std::get_if<bool>(&v);
            if (!b) reject(key, "true | false", v);
            s.*member = *b;
          },
          [=](const ModelSpec& s) { return Json(s.*member); }};
}

// A string key that takes one of `choices`.
Field choice_field(const char* key, std::string ModelSpec::*member, const char* help,
                   std::vector<std::string> choices) {
  std::string allowed;
  for (const auto& c : choices) allowed += (allowed.empty() ? "" : " | ") + c;
  return {{key, allowed, help, choices},
          [=](ModelSpec& s, const Value& v) {
            const auto* t = std::get_if<std::string>(&v);
            if (!t || std::find(choices.begin(), choices.end(), *t) == choices.end())
              reject(key, allowed, v);
            s.*member = *t;
          },
          [=](const ModelSpec& s) { return Json(s.*member); }};
}

template <class E>
Field enum_field(const char* key, E ModelSpec::*member, std::vector<std::pair<std::string, E>> names,
                 const char* help) {
  std::string allowed;
  std::vector<std::string> choices;
  for (const auto& [n, e] : names) {
    allowed += (allowed.empty() ? "" : " | ") + n;
    choices.push_back(n);
  }
  return {{key, allowed, help, choices},
          [=](ModelSpec& s, const Value& v) {
            const auto* t = std::get_if<std::string>(&v);
            if (t)
              for (const auto& [n, e] : names)
                if (n == *t) {
                  s.*member = e;
                  return;
                }
            reject(key, allowed, v);
          },
          [=](const ModelSpec& s) {
            for (const auto& [n, e] : names)
              if (e == s.*member) return Json(n);
            return Json(nullptr);
          }};
}

Field residual_field() {
  using Kind = ResidualScale::Kind;
  const char* key = "residual";
  // The named forms; a number is Kind::Constant.
  static const std::vector<std::pair<std::string, Kind>> named = {
      {"1/sqrt(L)", Kind::InvSqrtDepth}, {"1/L", Kind::InvDepth},     {"none", Kind::None},
      {"lambda_gamma", Kind::LambdaGamma}, {"layerscale", Kind::LayerScale},
      {"rezero", Kind::ReZero},          {"deepnorm", Kind::DeepNorm}};
  std::string allowed;
  std::vector<std::string> choices = {"1"};
  for (const auto& [n, k] : named) {
    allowed += "\"" + n + "\", ";
    choices.push_back(n);
  }
  allowed += "or a positive number";
  return {{key, allowed,
           "branch scale α in X + α f(X); none removes the skip; lambda_gamma: λX + γf(X); "
           "layerscale, rezero: learnable α; deepnorm: LN(aX + f(X)) (post-norm)",
           choices},
          [=](ModelSpec& s, const Value& v) {
            ResidualScale r;
            if (const auto* t = std::get_if<std::string>(&v)) {
              const auto it = std::find_if(named.begin(), named.end(),
                                           [&](const auto& n) { return n.first == *t; });
              if (it == named.end()) reject(key, allowed, v);
              r.kind = it->second;
            } else if (const auto* d = std::get_if<double>(&v)) {
              r.value = *d;
            } else if (const auto* i = std::get_if<int64_t>(&v)) {
              r.value = static_cast<double>(*i);
            } else {
              reject(key, allowed, v);
            }
            if (r.kind == Kind::Constant && !(r.value > 0.0)) reject(key, allowed, v);
            s.residual = r;
          },
          [](const ModelSpec& s) {
            if (s.residual.kind == Kind::Constant) return Json(s.residual.value);
            return Json(s.residual.to_string());
          }};
}

Field attention_field() {
  const char* key = "attention";
  std::string allowed;
  for (const auto& n : attention_variant_names()) allowed += (allowed.empty() ? "" : " | ") + n;
  return {{key, allowed, "attention variant (sigprop presets --attention)", attention_variant_names()},
          [=](ModelSpec& s, const Value& v) {
            const auto* t = std::get_if<std::string>(&v);
            if (!t || !is_attention_variant(*t)) reject(key, allowed, v);
            s.attention = *t;
          },
          [](const ModelSpec& s) { return Json(s.attention); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = {
      int_field("depth", &ModelSpec::depth, 1, "number of blocks L"),
      int_field("width", &ModelSpec::width, 1, "model width d"),
      int_field("heads", &ModelSpec::heads, 1, "attention heads; must divide width"),
      int_field("d_k", &ModelSpec::d_k, 0, "per-head query/key width; 0 = width/heads"),
      int_field("mlp_width", &ModelSpec::mlp_width, 0, "MLP hidden width; 0 = attention only"),
      enum_field("activation", &ModelSpec::activation,
                 {{"relu", Activation::ReLU}, {"gelu", Activation::GELU},
                  {"leaky_relu", Activation::LeakyReLU}, {"tat_leaky_relu", Activation::TatLeakyReLU},
                  {"shaped_relu", Activation::ShapedReLU}},
                 "MLP nonlinearity"),
      real_field("leaky_slope", &ModelSpec::leaky_slope, "negative slope of leaky_relu, in [0,1)"),
      real_field("tat_eta", &ModelSpec::tat_eta,
                 "tat_leaky_relu: target C^N(0) over N = depth nonlinearities (paper 001)"),
      real_field("shaped_c_plus", &ModelSpec::shaped_c_plus,
                 "shaped_relu: s+ = 1 + c+/sqrt(width) (paper 004) [default a guess]"),
      real_field("shaped_c_minus", &ModelSpec::shaped_c_minus,
                 "shaped_relu: s- = 1 + c-/sqrt(width) (paper 004) [default a guess]"),
      enum_field("norm", &ModelSpec::norm,
                 {{"pre", NormPlace::Pre}, {"post", NormPlace::Post}, {"none", NormPlace::None},
                  {"sandwich", NormPlace::Sandwich}},
                 "where the normalisation sits; sandwich: pre plus a norm on each branch output"),
      enum_field("norm_kind", &ModelSpec::norm_kind,
                 {{"layernorm", NormKind::LayerNorm}, {"rmsnorm", NormKind::RMSNorm}},
                 "which normalisation"),
      residual_field(),
      real_field("residual_gamma", &ModelSpec::residual_gamma,
                 "gamma of residual = lambda_gamma, in (0, 1]; lambda = sqrt(1 - gamma^2)"),
      real_field("layerscale_init", &ModelSpec::layerscale_init,
                 "residual = layerscale: initial gain; 0 = CaiT's by depth (0.1, 1e-5, 1e-6)"),
      bool_field("qk_norm", &ModelSpec::qk_norm,
                 "RMSNorm of each head's q and k with learnable gains (Dehghani et al. 2023)"),
      enum_field("simremove", &ModelSpec::simremove,
                 {{"none", SimRemove::None}, {"attention", SimRemove::Attention},
                  {"mlp", SimRemove::MLP}, {"both", SimRemove::Both}},
                 "similarity removal Y <- (I - tau Pi) Y (causal: the running mean C) on these branch outputs (000)"),
      real_field("simremove_tau", &ModelSpec::simremove_tau, "tau of similarity removal"),
      attention_field(),
      choice_field("attention_base", &ModelSpec::attention_base,
                 "the A that gap_removed and value_skipinit modify",
                 {"softmax", "uniform", "random_markov"}),
      real_field("shaped_tau0", &ModelSpec::shaped_tau0, "shaped attention temperature tau0 (004)"),
      real_field("espa_gamma", &ModelSpec::espa_gamma, "E-SPA gamma_L of the last layer (001)"),
      real_field("uspa_rho", &ModelSpec::uspa_rho, "U-SPA rho_L of the last layer (001) [guess]"),
      bool_field("causal", &ModelSpec::causal, "causal mask (language modelling) or bidirectional"),
      enum_field("positional", &ModelSpec::positional,
                 {{"learned", Positional::Learned}, {"sinusoidal", Positional::Sinusoidal},
                  {"none", Positional::None}},
                 "positional encoding added to the input"),
      enum_field("input", &ModelSpec::input,
                 {{"tokens", InputKind::Tokens}, {"patches", InputKind::Patches},
                  {"raw", InputKind::Raw}},
                 "token embedding, image patches, or a raw T x d input"),
      int_field("vocab_size", &ModelSpec::vocab_size, 2, "tokens: vocabulary size"),
      int_field("max_seq", &ModelSpec::max_seq, 1, "longest sequence (positional table)"),
      int_field("patch_size", &ModelSpec::patch_size, 1, "patches: side of a square patch"),
      int_field("channels", &ModelSpec::channels, 1, "patches: image channels"),
      int_field("num_classes", &ModelSpec::num_classes, 2, "patches: classes"),
      enum_field("init", &ModelSpec::init,
                 {{"normal", InitKind::Normal}, {"xavier", InitKind::Xavier},
                  {"orthogonal", InitKind::Orthogonal}, {"lecun", InitKind::LeCun}},
                 "weight initialisation of the blocks"),
      real_field("init_std", &ModelSpec::init_std, "standard deviation for init = normal"),
      bool_field("zero_queries", &ModelSpec::zero_queries, "W_Q = 0 at init (uniform attention)"),
  };
  return all;
}

const Field& field(const std::string& key) {
  for (const auto& f : fields())
    if (f.doc.key == key) return f;
  std::string known;
  for (const auto& f : fields()) known += (known.empty() ? "" : ", ") + f.doc.key;
  throw ConfigError("unknown key model." + key + "; known keys: " + known);
}

Value to_value(const toml::node& node, const std::string& key) {
  if (auto b = node.value_exact<bool>()) return *b;
  if (auto i = node.value_exact<int64_t>()) return *i;
  if (auto d = node.value_exact<double>()) return *d;
  if (auto s = node.value_exact<std::string>()) return *s;
  std::ostringstream type;
  type << node.type();
  throw ConfigError("model." + key + " must be a string, number or boolean, not a " + type.str());
}

}  // namespace

const std::vector<SpecKey>& spec_keys() {
  static const std::vector<SpecKey> keys = [] {
    std::vector<SpecKey> k;
    for (const auto& f : fields()) k.push_back(f.doc);
    return k;
  }();
  return keys;
}

void set_spec_value(ModelSpec& spec, const std::string& key, const std::string& text) {
  const Field& f = field(key);
  Value v = text;  // bare words (pre, relu, 1/sqrt(L)) stay strings
  try {
    auto doc = toml::parse("v = " + text);
    v = to_value(*doc.get("v"), key);
  } catch (const toml::parse_error&) {
  }
  f.set(spec, v);
}

void apply_override(ModelSpec& spec, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("override '" + assignment + "' must look like key=value");
  set_spec_value(spec, assignment.substr(0, eq), assignment.substr(eq + 1));
}

ModelSpec parse_spec_toml(const std::string& text, const std::string& source,
                          const ModelSpec& base) {
  const toml::table doc = parse_toml_document(text, source);
  ModelSpec spec = base;
  for (const auto& [k, node] : doc) {
    const std::string key(k.str());
    if (key == "name" || key == "paper") {
      auto s = node.value_exact<std::string>();
      if (!s) throw ConfigError(source + ": " + key + " must be a string");
      (key == "name" ? spec.name : spec.paper) = *s;
    } else if (key == "description") {
      if (!node.is_string()) throw ConfigError(source + ": description must be a string");
    } else if (key == "model") {
      const auto* table = node.as_table();
      if (!table) throw ConfigError(source + ": model must be a table ([model])");
      for (const auto& [mk, mnode] : *table) {
        const std::string mkey(mk.str());
        try {
          field(mkey).set(spec, to_value(mnode, mkey));
        } catch (const ConfigError& e) {
          throw ConfigError(source + ": " + e.what());
        }
      }
    } else {
      throw ConfigError(source + ": unknown top-level key '" + key +
                        "'; allowed: name, paper, description, [model]");
    }
  }
  try {
    spec.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
  return spec;
}

ModelSpec load_spec_file(const std::string& path, const ModelSpec& base) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const DataError&) {
    throw ConfigError("cannot read config file " + path + " (does it exist?)");
  }
  return parse_spec_toml(text, path, base);
}

Json spec_to_json(const ModelSpec& spec) {
  Json j;
  j["name"] = spec.name;
  j["paper"] = spec.paper;
  for (const auto& f : fields()) j["model"][f.doc.key] = f.get(spec);
  return j;
}

std::string config_id(const ModelSpec& spec) {
  Json model = spec_to_json(spec).at("model");
  model.erase("depth");
  return fnv1a_hex(model.dump());
}

ModelSpec spec_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw ConfigError("a model config in JSON is an object with a \"model\" object of keys; got " +
                      j.dump().substr(0, 80));
  for (const char* key : {"name", "paper"})
    if (j.contains(key) && !j[key].is_string())
      throw ConfigError(std::string("the config's \"") + key + "\" must be a string, not " + j[key].dump());
  ModelSpec spec;
  spec.name = j.value("name", spec.name);
  spec.paper = j.value("paper", spec.paper);
  for (const auto& [key, v] : j.at("model").items()) {
    Value value;
    if (v.is_boolean()) value = v.get<bool>();
    else if (v.is_number_integer()) value = v.get<int64_t>();
    else if (v.is_number()) value = v.get<double>();
    else if (v.is_string()) value = v.get<std::string>();
    else throw ConfigError("model." + key + " in run.json has an unsupported type");
    field(key).set(spec, value);
  }
  spec.validate();
  return spec;
}

std::string spec_to_toml(const ModelSpec& spec, const std::string& description) {
  std::ostringstream out;
  out << "name = " << Json(spec.name).dump() << "\n";
  if (!spec.paper.empty()) out << "paper = " << Json(spec.paper).dump() << "\n";
  if (!description.empty()) out << "description = " << Json(description).dump() << "\n";
  out << "\n[model]\n";
  for (const auto& f : fields()) {
    Json v = f.get(spec);
    std::string text = v.dump();
    if (v.is_number_float() && text.find_first_of(".eE") == std::string::npos) text += ".0";
    out << f.doc.key << " = " << text << "  # " << f.doc.help << "\n";
  }
  return out.str();
}

}  // namespace sigprop
