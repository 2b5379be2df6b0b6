// A run's output folder, published whole: files are written into a staging folder beside it
// and `commit()` swaps it into place, so an error or Ctrl-C never leaves a half-written run.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sigprop {

// The file sigprop leaves in every output folder it makes: such a folder may be replaced.
constexpr const char* kRunMarker = ".sigprop-run";

// Refuses, with a ConfigError naming `option` (exit 2), an output path that would destroy or
// mix with a user's files: a file; the root, the home folder, the working folder or a folder above
// it (always, even with `force`); a non-empty folder sigprop did not make (no kRunMarker, and no
// run.json of sigprop's inside) unless `force`. A missing or empty folder, or one of sigprop's own
// runs, passes.
void check_output_folder(const std::string& out, bool force, const std::string& option = "--out");

class RunFolder {
 public:
  // Checks `out` (check_output_folder), then creates the staging folder; throws DataError.
  explicit RunFolder(std::string out, bool force = false);
  ~RunFolder();                         // removes the staging folder unless committed
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  std::string path(const std::string& name) const;  // path inside the staging folder
  void write(const std::string& name, const std::string& content) const;
  void commit();  // replaces `out` (a folder check_output_folder allowed) with the staging folder

 private:
  std::string out_, staging_;
  bool committed_ = false;
};

// What every run.json starts with: command, versions, git revision, time, BLAS and threads.
nlohmann::json run_metadata(const std::string& command);

}  // namespace sigprop
