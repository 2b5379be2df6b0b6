#include "core/run_folder.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/version.h"

namespace fs = std::filesystem;

namespace sigprop {

namespace {

// A run.json that sigprop wrote (run_metadata): folders from before kRunMarker existed.
bool holds_sigprop_run_json(const fs::path& dir) {
  try {
    const auto j = nlohmann::json::parse(read_file((dir / "run.json").string()));
    return j.is_object() && j.contains("sigprop") && j.contains("command");
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void check_output_folder(const std::string& out, bool force, const std::string& option) {
  if (out.empty()) throw ConfigError(option + " is empty: name a folder to write into");
  std::error_code ec;
  const fs::path path(out);
  const auto status = fs::symlink_status(path, ec);
  if (!fs::exists(status)) return;
  const std::string what = option + " " + out;
  if (!fs::is_directory(fs::status(path, ec)))
    throw ConfigError(what + " is a file, not a folder; sigprop never replaces a file: choose a "
                      "folder name");
  const fs::path target = fs::weakly_canonical(path, ec);
  const fs::path cwd = fs::current_path(ec);
  const char* home = std::getenv("HOME");
  const auto contains = [](const fs::path& parent, const fs::path& child) {
    auto p = parent.begin(), c = child.begin();
    for (; p != parent.end() && c != child.end(); ++p, ++c)
      if (*p != *c) return false;
    return p == parent.end();
  };
  if (target == target.root_path() || (home && target == fs::weakly_canonical(home, ec)) ||
      contains(target, cwd))
    throw ConfigError(what + " is the root, the home folder, the working folder or a folder above "
                      "it; sigprop never replaces those, even with --force: choose a new folder");
  if (force || fs::is_empty(path, ec) || fs::exists(path / kRunMarker) ||
      holds_sigprop_run_json(path))
    return;
  throw ConfigError(what + " is a folder sigprop did not make and it is not empty; its files "
                    "would be replaced. Choose a new folder, or pass --force to replace it");
}

RunFolder::RunFolder(std::string out, bool force) : out_(std::move(out)) {
  while (out_.size() > 1 && out_.back() == '/') out_.pop_back();
  check_output_folder(out_, force);
  staging_ = out_ + ".partial-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec) throw DataError("cannot create output folder " + staging_ + ": " + ec.message());
  write(kRunMarker, "made by sigprop; sigprop may replace this folder\n");
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
          {"blas", {{"library", blas.library}, {"version", blas.version}, {"cpu_capability", blas.cpu_capability}, {"threads", blas.threads}, {"gemm", blas.gemm_library}}},
          {"threads", torch_threads()}};
}

}  // namespace sigprop
