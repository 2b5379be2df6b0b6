#include "train/run_files.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/version.h"
#include "data/dataset.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {

RunConfig read_run_config(const std::string& dir, const std::string& option) {
  const std::string run_json = dir + "/run.json";
  if (!fs::is_directory(dir) || !fs::exists(run_json))
    throw ConfigError(option + " " + dir + " is not a run folder (no run.json); name a folder "
                      "written by `sigprop train --out` or sigprop.save");
  Json meta;
  try {
    meta = Json::parse(read_file(run_json));
  } catch (const Json::exception& e) {
    throw DataError(run_json + " is not valid JSON: " + e.what());
  }
  if (!meta.is_object() || !meta.contains("config") || !meta.contains("train"))
    throw DataError(run_json + " is not a training run's (it has no \"config\" and \"train\"); "
                    "name a folder written by `sigprop train --out`");
  RunConfig run;
  try {
    run.spec = spec_from_json(meta.at("config"));
  } catch (const ConfigError& e) {
    throw DataError(run_json + ": " + e.what());
  }
  run.train = train_config_from_json(meta.at("train"));
  return run;
}

Transformer load_run_model(const std::string& dir, int64_t* step) {
  const auto run = read_run_config(dir);
  const std::string checkpoint = dir + "/checkpoint.pt";
  if (!fs::exists(checkpoint))
    throw DataError("run " + dir + " has no checkpoint yet (stopped before its first save); "
                    "finish it with `sigprop train --resume " + dir + "`");
  Transformer model(run.spec);
  const int64_t at = load_checkpoint_model(checkpoint, *model);
  if (step) *step = at;
  return model;
}

Evaluation evaluate_run(TransformerImpl& model, const std::string& dir) {
  const auto run = read_run_config(dir);
  const auto data = make_dataset(run.train.data, run.train.seq);
  return evaluate_model(model, *data, data->eval_batches(run.train.batch, run.train.eval_batches));
}

void save_run(const TransformerImpl& model, const TrainConfig& config, const std::string& dir) {
  Trainer(model.spec, config, dir, torch::kCPU, &model);
}

std::vector<std::string> export_run(const std::string& dir, const std::string& format,
                                    const std::string& out) {
  if (format != "safetensors")
    throw ConfigError("--format " + format + " is not known; allowed: safetensors");
  int64_t step = 0;
  auto model = load_run_model(dir, &step);
  const std::string to = out.empty() ? dir : out;
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) throw DataError("cannot create " + to + ": " + ec.message());
  SafeTensors st;
  for (const auto& p : model->named_parameters()) st.tensors.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers()) st.tensors.emplace_back(b.key(), b.value());
  st.metadata = {{"format", "pt"},
                 {"producer", std::string("sigprop ") + sigprop_version()},
                 {"step", std::to_string(step)}};
  const std::string weights = to + "/model.safetensors", config = to + "/config.json";
  save_safetensors(weights, st);
  write_file_atomic(config, spec_to_json(model->spec).dump(2) + "\n");
  return {weights, config};
}

}  // namespace sigprop
