// Running the `sigprop` binary from tests: exit code and output, scratch folders, and the check
// that bad input exits 2 and writes nothing.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace sigprop::test {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string output;  // stdout and stderr
};

// Runs `sigprop ARGS`, in `cwd` when given.
inline Result run_cli(const std::string& args, const fs::path& cwd = {}) {
  const std::string cd = cwd.empty() ? "" : "cd '" + cwd.string() + "' && ";
  const std::string cmd = cd + std::string(SIGPROP_CLI) + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline fs::path temp_dir(const std::string& name) {
  // The pid keeps two test runs on one machine out of each other's folders.
  auto d = fs::temp_directory_path() / ("sigprop_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline void expect_rejected(const std::string& args, const std::string& needle,
                            const fs::path& out) {
  auto r = run_cli(args + " --out " + out.string());
  EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  EXPECT_FALSE(fs::exists(out)) << "wrote " << out << " despite the error";
  for (const auto& e : fs::directory_iterator(out.parent_path()))
    EXPECT_EQ(e.path().string().find(".partial-"), std::string::npos) << e.path();
}

// Starts `sigprop ARGS` in the background, its output in `log`; returns its pid.
inline pid_t spawn_cli(const std::string& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = "exec " + std::string(SIGPROP_CLI) + " " + args + " > " + log.string() + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

// Waits up to `seconds` for `file` to exist.
inline bool wait_for(const fs::path& file, double seconds) {
  for (int i = 0; i < int(seconds * 20); ++i) {
    if (fs::exists(file)) return true;
    ::usleep(50'000);
  }
  return false;
}

}  // namespace sigprop::test
