// A run's output folder, published whole: files are written into a staging folder beside it
// and `commit()` swaps it into place, so an error or Ctrl-C never leaves a half-written run.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sigprop {

class RunFolder {
 public:
  explicit RunFolder(std::string out);  // creates the staging folder; throws DataError
  ~RunFolder();                         // removes the staging folder unless committed
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  std::string path(const std::string& name) const;  // path inside the staging folder
  void write(const std::string& name, const std::string& content) const;
  void commit();  // replaces `out` (and whatever it held) with the staging folder

 private:
  std::string out_, staging_;
  bool committed_ = false;
};

// What every run.json starts with: command, versions, git revision, time, BLAS and threads.
nlohmann::json run_metadata(const std::string& command);

}  // namespace sigprop
