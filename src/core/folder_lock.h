// An exclusive claim on a folder for as long as the object lives: flock(2) on DIR/.sigprop-lock
// (or DIR/.sigprop-lock-NAME, for claims on parts of a folder, such as one shard of a sweep).
// Two sigprop processes then never write one run or one sweep at once: the second is refused,
// naming the first. The kernel drops the lock when its process ends, kill -9 included, so a
// crash never leaves a stale lock behind.
#pragma once

#include <string>

namespace sigprop {

class FolderLock {
 public:
  // Creates the folder's lock file if needed; throws ConfigError when another process (or another
  // FolderLock) holds it, DataError when it cannot be opened.
  explicit FolderLock(const std::string& dir, const std::string& name = "");
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace sigprop
