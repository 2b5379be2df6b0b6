// The fuzzed readers of outside input, one function per target: each feeds the bytes to a reader
// and accepts only its documented failures (ConfigError, DataError). Any other exception, a
// crash, a leak or undefined behaviour is a finding. The libFuzzer targets (fuzz_entry.cc,
// scripts/fuzz.sh) and the normal test suite (test_fuzz_corpus.cpp: every seed and every kept
// regression input) call the same functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "data/fashion_mnist.h"
#include "data/kjv.h"
#include "model/transformer.h"
#include "sweep/repro.h"
#include "sweep/sweep.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/run_files.h"
#include "train/trainer.h"

namespace sigprop::fuzz {

// A scratch folder of this process for readers that take a path.
inline std::string scratch(const std::string& name) {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("sigprop_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir + "/" + name;
}

inline std::string write_scratch(const std::string& name, const std::string& bytes) {
  const std::string path = scratch(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

template <class F>
void expect_documented_errors(F&& f) {
  try {
    f();
  } catch (const ConfigError&) {
  } catch (const DataError&) {
  }
}

// A model config as TOML; then each line as a --set key=value on a preset. A config that parses
// must survive its own round trip: written as TOML and read back, the same configuration.
inline void model_config(const std::string& text) {
  expect_documented_errors([&] {
    const ModelSpec spec = parse_spec_toml(text, "fuzz.toml");
    const ModelSpec again = parse_spec_toml(spec_to_toml(spec), "round trip");
    if (config_id(again) != config_id(spec)) std::abort();
  });
  ModelSpec spec = load_preset("pre-ln");
  size_t start = 0;
  for (int lines = 0; start < text.size() && lines < 64; ++lines) {
    const size_t end = std::min(text.find('\n', start), text.size());
    expect_documented_errors([&] { apply_override(spec, text.substr(start, end - start)); });
    start = end + 1;
  }
}

inline void sweep_grid(const std::string& text) {
  expect_documented_errors([&] {
    const SweepGrid grid = parse_sweep_grid(text, "fuzz-grid.toml");
    size_t cells = 1;
    for (const auto& [key, values] : grid.grid) cells *= std::max<size_t>(1, values.size());
    if (cells <= 4096) grid.cells();  // naming every cell (its config hash)
  });
}

inline void repro_plan(const std::string& text) {
  expect_documented_errors([&] { parse_repro_plan(text, "fuzz-plan.toml"); });
}

// run.json, summary.json and a config.json as JSON texts.
inline void run_json(const std::string& text) {
  const std::string dir = scratch("run");
  std::filesystem::create_directories(dir);
  write_scratch("run/run.json", text);
  expect_documented_errors([&] { read_run_config(dir); });
  expect_documented_errors([&] { read_train_summary(write_scratch("summary.json", text)); });
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    expect_documented_errors([&] { spec_from_json(j); });
    expect_documented_errors([&] { train_config_from_json(j); });
  }
}

// A checkpoint of a fixed small model: the loader and its checks of shape and model.
inline void checkpoint(const std::string& bytes) {
  static const ModelSpec spec = [] {
    ModelSpec s = load_preset("pre-ln");
    s.depth = 1, s.width = 8, s.heads = 2, s.mlp_width = 16, s.vocab_size = 16;  // as the seed run
    return s;
  }();
  Transformer model(spec);
  TrainConfig c;
  auto optimizer = make_optimizer(c, model->parameters());
  const std::string path = write_scratch("checkpoint.pt", bytes);
  expect_documented_errors([&] { load_checkpoint(path, *model, *optimizer); });
}

// A Fashion-MNIST idx file, gzipped by the harness so the fuzzer reaches the idx parser.
inline void idx(const std::string& bytes) {
  const std::string path = scratch("fuzz-idx.gz");
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f || (!bytes.empty() && gzwrite(f, bytes.data(), unsigned(bytes.size())) <= 0)) std::abort();
  gzclose(f);
  expect_documented_errors([&] { read_idx_gz(path); });
}

// The KJV cache's text, encoded into a character corpus.
inline void kjv_cache(const std::string& text) {
  expect_documented_errors([&] {
    const CharCorpus c = encode_corpus(text);
    if (c.ids.numel() != int64_t(text.size())) std::abort();
  });
}

inline void safetensors(const std::string& bytes) {
  expect_documented_errors([&] {
    const SafeTensors st = parse_safetensors(bytes, "fuzz.safetensors");
    // What was read writes back to the same bytes' tensors.
    const SafeTensors again = parse_safetensors(safetensors_bytes(st), "round trip");
    if (again.tensors.size() != st.tensors.size()) std::abort();
  });
}

// Name -> harness, for the corpus test and the fuzz entry point.
using Harness = void (*)(const std::string&);
inline const std::vector<std::pair<std::string, Harness>>& harnesses() {
  static const std::vector<std::pair<std::string, Harness>> all = {
      {"model_config", model_config}, {"sweep_grid", sweep_grid}, {"repro_plan", repro_plan},
      {"run_json", run_json},         {"checkpoint", checkpoint}, {"idx", idx},
      {"kjv_cache", kjv_cache},       {"safetensors", safetensors}};
  return all;
}

}  // namespace sigprop::fuzz
