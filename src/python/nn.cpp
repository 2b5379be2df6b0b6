// sigprop's modules for Python. A ModuleHandle owns one LibTorch module and its forward; the
// Python class around it (sigprop/nn.py) registers the module's own parameter tensors as its
// nn.Parameters, so an optimiser, state_dict() or .to() on the Python side acts on the very
// tensors the C++ forward reads, and autograd runs through the C++ ops unchanged.
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "data/dataset.h"
#include "model/activation/activation.h"
#include "model/attention/self_attention.h"
#include "model/residual/residual.h"
#include "model/similarity_removal.h"
#include "model/transformer.h"
#include "probe/probe.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace sigprop::python {
namespace {

std::vector<std::pair<std::string, torch::Tensor>> named(
    const torch::OrderedDict<std::string, torch::Tensor>& d) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& kv : d) out.emplace_back(kv.key(), kv.value());
  return out;
}

// A spec from a preset name or a TOML file, with key=value overrides, adapted to `data`.
std::string make_spec(const std::string& name, const std::vector<std::string>& overrides,
                      const std::string& data, int64_t seq) {
  const bool file = name.size() > 5 && name.substr(name.size() - 5) == ".toml";
  ModelSpec spec = file ? load_spec_file(name) : load_preset(name);
  for (const auto& s : overrides) apply_override(spec, s);
  if (!data.empty()) make_dataset(data, seq)->adapt(spec);
  check_buildable(spec);
  return spec_to_json(spec).dump();
}

}  // namespace

ModuleHandle transformer_handle(Transformer model) {
  ModuleHandle h;
  h.module = model.ptr();
  h.transformer = model.ptr();
  h.forward = [t = model.ptr()](const std::vector<torch::Tensor>& x) { return t->forward(x[0]); };
  return h;
}

namespace {

ModuleHandle transformer(const std::string& spec_json, std::optional<uint64_t> seed) {
  const ModelSpec spec = spec_from_json(nlohmann::json::parse(spec_json));
  check_buildable(spec);
  if (seed) torch::manual_seed(*seed);  // as `sigprop probe` and `train` seed a model's init
  return transformer_handle(Transformer(spec));
}

ModuleHandle attention(const AttentionOptions& o) {
  if (o.width() % o.heads())
    throw ConfigError("width " + std::to_string(o.width()) + " is not a multiple of heads " +
                      std::to_string(o.heads()));
  SelfAttention a(o);
  ModuleHandle h;
  h.module = a.ptr();
  h.forward = [a = a.ptr()](const std::vector<torch::Tensor>& x) { return a->forward(x[0]); };
  h.attention = [a = a.ptr()](const torch::Tensor& x) {
    torch::Tensor A;
    a->forward(x, &A);
    return A;
  };
  return h;
}

template <class M>
ModuleHandle unary(M m) {
  ModuleHandle h;
  h.module = m.ptr();
  h.forward = [m = m.ptr()](const std::vector<torch::Tensor>& x) { return m->forward(x[0]); };
  return h;
}

void check_input(const torch::Tensor& x, int64_t width, const char* what) {
  if (x.dim() != 3 || x.size(2) != width || !x.is_floating_point())
    throw ConfigError(std::string(what) + " takes (B, T, width = " + std::to_string(width) +
                      ") floating-point input; got " + std::to_string(x.dim()) + "-d " +
                      c10::toString(x.scalar_type()) + " " + c10::str(x.sizes()));
}

}  // namespace

TransformerImpl& model_of(const ModuleHandle& h) {
  if (!h.transformer) throw ConfigError("this module is not a sigprop.nn.Transformer");
  return *h.transformer;
}

void bind_nn(py::module_& m) {
  auto nn = m.def_submodule("nn", "sigprop's modules (model/), for sigprop/nn.py");
  py::class_<ModuleHandle>(nn, "ModuleHandle")
      .def("named_parameters", [](const ModuleHandle& h) { return named(h.module->named_parameters()); })
      .def("named_buffers", [](const ModuleHandle& h) { return named(h.module->named_buffers()); })
      .def("forward",
           [](const ModuleHandle& h, const std::vector<torch::Tensor>& x) {
             if (x.size() != h.arity)
               throw ConfigError("forward takes " + std::to_string(h.arity) + " tensor(s), got " +
                                 std::to_string(x.size()));
             py::gil_scoped_release release;
             return h.forward(x);
           })
      .def("attention",
           [](const ModuleHandle& h, const torch::Tensor& x) {
             if (!h.attention) throw ConfigError("this module has no attention matrix");
             py::gil_scoped_release release;
             return h.attention(x);
           })
      .def("train", [](ModuleHandle& h, bool mode) { h.module->train(mode); })
      .def("spec_json", [](const ModuleHandle& h) { return spec_to_json(model_of(h).spec).dump(); })
      .def("spec_toml", [](const ModuleHandle& h) { return spec_to_toml(model_of(h).spec); })
      .def("trace",
           [](const ModuleHandle& h, const torch::Tensor& input) {
             ForwardTrace trace;
             torch::Tensor out;
             {
               py::gil_scoped_release release;
               out = model_of(h).forward(input, &trace);
             }
             return py::make_tuple(out, trace.hidden, trace.attn);
           },
           "output, L+1 hidden states, L attention matrices (detached)")
      .def("block_gradients",
           [](const ModuleHandle& h) {
             std::vector<py::dict> out;
             for (const auto& g : block_gradients(model_of(h))) {
               py::dict d;
               d["q"] = g.q, d["k"] = g.k, d["v"] = g.v, d["o"] = g.o, d["mlp"] = g.mlp;
               out.push_back(d);
             }
             return out;
           })
      .def("loss", [](const ModuleHandle& h, const torch::Tensor& output, const torch::Tensor& target) {
        return training_loss(model_of(h).spec, output, target);
      });

  nn.def("make_spec", &make_spec, py::arg("name"), py::arg("overrides"), py::arg("data"), py::arg("seq"),
         "spec JSON of a preset or TOML file, with key=value overrides, adapted to data");
  nn.def("transformer", &transformer, py::arg("spec_json"), py::arg("seed"));
  nn.def("attention",
         [](const std::string& variant, int64_t width, int64_t heads, const py::kwargs& kw) {
           AttentionOptions o(width, heads);
           o.variant(variant);
           if (kw.contains("d_k")) o.d_k(kw["d_k"].cast<int64_t>());
           if (kw.contains("base")) o.base(kw["base"].cast<std::string>());
           if (kw.contains("causal")) o.causal(kw["causal"].cast<bool>());
           if (kw.contains("layer")) o.layer(kw["layer"].cast<int>());
           if (kw.contains("depth")) o.depth(kw["depth"].cast<int>());
           if (kw.contains("max_seq")) o.max_seq(kw["max_seq"].cast<int64_t>());
           if (kw.contains("tau0")) o.shaped_tau0(kw["tau0"].cast<double>());
           if (kw.contains("gamma")) o.espa_gamma(kw["gamma"].cast<double>());
           if (kw.contains("rho")) o.uspa_rho(kw["rho"].cast<double>());
           auto h = attention(o);
           {
             // The papers' analyses assume variance-preserving weights, N(0, 1/fan_in) (sigprop's
             // LeCun init), not torch.nn.Linear's U(±1/√fan_in); W_Q = 0 where the paper says so.
             torch::NoGradGuard no_grad;
             auto a = std::static_pointer_cast<SelfAttentionImpl>(h.module);
             for (auto* w : {&a->w_q->weight, &a->w_k->weight, &a->w_v->weight, &a->w_o->weight})
               w->normal_(0.0, 1.0 / std::sqrt(double(w->size(1))));
             if (kw.contains("zero_queries") && kw["zero_queries"].cast<bool>()) a->w_q->weight.zero_();
           }
           const auto inner = h.forward;
           h.forward = [inner, width](const std::vector<torch::Tensor>& x) {
             check_input(x[0], width, "attention");
             return inner(x);
           };
           return h;
         },
         py::arg("variant"), py::arg("width"), py::arg("heads"));
  nn.def("activation",
         [](const std::string& kind, const py::kwargs& kw) {
           ActivationOptions o;
           if (kind == "tat_leaky_relu") {
             o.kind(Activation::TatLeakyReLU);
             o.tat_eta(kw["eta"].cast<double>()).tat_nonlinearities(kw["depth"].cast<int>());
           } else if (kind == "shaped_relu") {
             o.kind(Activation::ShapedReLU);
             o.width(kw["width"].cast<int64_t>());
             o.c_plus(kw["c_plus"].cast<double>()).c_minus(kw["c_minus"].cast<double>());
           } else {
             throw ConfigError("activation '" + kind + "' is not one of tat_leaky_relu, shaped_relu");
           }
           return unary(make_activation(o));
         },
         py::arg("kind"));
  nn.def("similarity_removal", [](double tau, bool causal) {
    auto h = unary(SimilarityRemoval(SimilarityRemovalOptions().tau(tau).causal(causal)));
    const auto inner = h.forward;
    h.forward = [inner](const std::vector<torch::Tensor>& x) {
      if (x[0].dim() != 3) throw ConfigError("SimilarityRemoval takes (B, T, d) input; got " + c10::str(x[0].sizes()));
      return inner(x);
    };
    return h;
  }, py::arg("tau"), py::arg("causal"));
  nn.def("lambda_gamma_residual", [](double gamma) {
    Residual r = make_residual(ResidualOptions().kind(ResidualScale::Kind::LambdaGamma).alpha(gamma));
    ModuleHandle h;
    h.module = r.ptr();
    h.arity = 2;
    h.forward = [r = r.ptr()](const std::vector<torch::Tensor>& x) {
      if (x[0].sizes() != x[1].sizes())
        throw ConfigError("LambdaGammaResidual(x, f_x): x is " + c10::str(x[0].sizes()) + ", f_x " +
                          c10::str(x[1].sizes()) + "; they must be the same shape");
      return r->forward(x[0], x[1]);
    };
    return h;
  }, py::arg("gamma"));
}

}  // namespace sigprop::python
