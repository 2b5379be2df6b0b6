#include "core/run_folder.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/version.h"

namespace fs = std::filesystem;

namespace sigprop {

RunFolder::RunFolder(std::string out) : out_(std::move(out)) {
  while (out_.size() > 1 && out_.back() == '/') out_.pop_back();
  staging_ = out_ + ".partial-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec) throw DataError("cannot create output folder " + staging_ + ": " + ec.message());
}

RunFolder::~RunFolder() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

std::string RunFolder::path(const std::string& name) const { return staging_ + "/" + name; }

void RunFolder::write(const std::string& name, const std::string& content) const {
  write_file_atomic(path(name), content);
}

void RunFolder::commit() {
  std::error_code ec;
  const std::string old = out_ + ".old-" + std::to_string(::getpid());
  const bool had_old = fs::exists(out_);
  if (had_old) fs::rename(out_, old, ec);
  if (!ec) fs::rename(staging_, out_, ec);
  if (ec) throw DataError("cannot publish " + staging_ + " as " + out_ + ": " + ec.message());
  committed_ = true;
  if (had_old) fs::remove_all(old, ec);
}

nlohmann::json run_metadata(const std::string& command) {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const BlasInfo blas = blas_info();
  return {{"command", command},
          {"sigprop", sigprop_version()},
          {"git", git_revision()},
          {"libtorch", libtorch_version()},
          {"time_utc", when},
          {"blas", {{"library", blas.library}, {"core", blas.core}, {"threads", blas.threads}}},
          {"threads", torch_threads()}};
}

}  // namespace sigprop
