#include "train/checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, int64_t step) {
  torch::serialize::OutputArchive archive, model_archive, optim_archive;
  model.save(model_archive);
  optimizer.save(optim_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  archive.write("step", torch::tensor(step, torch::kLong));
  archive.write("format", torch::tensor(kCheckpointFormat, torch::kLong));
  archive.write("libtorch", c10::IValue(std::string(TORCH_VERSION)));
  // Serialised in memory, then written whole by write_file_atomic: a full disk or any write error
  // is seen (with its reason) before the rename, so the previous checkpoint stays.
  std::ostringstream bytes;
  archive.save_to(bytes);
  try {
    write_file_atomic(path, bytes.str());
  } catch (const DataError& e) {
    throw DataError(std::string("checkpoint not saved, the previous one is kept: ") + e.what());
  }
}

namespace {

int64_t format_of(torch::serialize::InputArchive& archive) {
  torch::Tensor format;
  return archive.try_read("format", format) ? format.item<int64_t>() : 0;
}

// Reads the archive at `path` into `model` (and `optimizer` when given); returns the step.
int64_t load(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path))
    throw DataError("no checkpoint at " + path + " (was the run started with this folder?)");
  try {
    torch::serialize::InputArchive archive, model_archive;
    archive.load_from(path);
    const int64_t format = format_of(archive);
    if (format > kCheckpointFormat)
      throw DataError(fmt::format("{} has checkpoint format {}, newer than this sigprop reads ({}): "
                                  "update sigprop", path, format, kCheckpointFormat));
    if (optimizer && format < kCheckpointFormat)
      throw DataError(fmt::format(
          "{} has checkpoint format {} (sigprop on LibTorch 1.13), whose optimiser state LibTorch "
          "2.x cannot read back reliably: training cannot resume from it. Its weights still load "
          "(probe, evaluate, export); start the run again to train on", path, format));
    archive.read("model", model_archive);
    torch::Tensor step;
    archive.read("step", step);
    model.load(model_archive);
    if (optimizer) {
      torch::serialize::InputArchive optim_archive;
      archive.read("optimizer", optim_archive);
      optimizer->load(optim_archive);
    }
    return step.item<int64_t>();
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw DataError(path + " is corrupt or belongs to a different model: " +
                    what.substr(0, what.find('\n')));
  }
}

}  // namespace

int64_t load_checkpoint(const std::string& path, torch::nn::Module& model,
                        torch::optim::Optimizer& optimizer) {
  return load(path, model, &optimizer);
}

int64_t load_checkpoint_model(const std::string& path, torch::nn::Module& model) {
  return load(path, model, nullptr);
}

}  // namespace sigprop
