#include "cli/child_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace sigprop::cli {

pid_t spawn_process(const std::vector<std::string>& argv_given, const std::string& log_path, int threads) {
  std::vector<std::string> argv_text = argv_given;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!log_path.empty()) {
      if (std::FILE* f = std::fopen(log_path.c_str(), "w")) {
        ::dup2(::fileno(f), 1);
        ::dup2(::fileno(f), 2);
      }
    }
    if (threads > 0) ::setenv("SIGPROP_THREADS", std::to_string(threads).c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  if (pid < 0) throw DataError("cannot start " + argv_given.front() + " (fork failed)");
  return pid;
}

pid_t spawn_sigprop(const std::vector<std::string>& args, const std::string& log_path, int threads) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_process(argv, log_path, threads);
}

std::filesystem::path find_in_source_tree(const std::string& relative, const std::string& hint) {
  namespace fs = std::filesystem;
  const fs::path here = relative;
  const fs::path beside_exe = fs::canonical("/proc/self/exe").parent_path().parent_path() / relative;
  for (const auto& p : {here, beside_exe})
    if (fs::exists(p)) return fs::absolute(p);
  throw ConfigError("cannot find " + relative + ": looked in " + fs::absolute(here).string() + " and " +
                    beside_exe.string() + "; " + hint);
}

int child_exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace sigprop::cli
