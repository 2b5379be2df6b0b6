#include "core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace sigprop {

FolderLock::FolderLock(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/.sigprop-lock" + (name.empty() ? "" : "-" + name);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw DataError("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {0};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    throw ConfigError(dir + (name.empty() ? "" : " (" + name + ")") +
                      " is in use by another sigprop process" +
                      (n > 0 ? " (pid " + std::string(holder, size_t(n)) + ")" : std::string()) +
                      "; wait for it to finish or stop it, then run this again");
  }
  // The pid only names the holder in a loser's message; the lock holds whether or not it is written.
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace sigprop
