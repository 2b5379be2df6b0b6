#include "core/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace sigprop {

// posix_spawn rather than fork + exec: the child never holds a copy of this process's memory,
// so its peak RSS (what `sigprop bench` reports from wait4) is its own.
pid_t spawn_process(const std::vector<std::string>& argv_given, const std::string& log_path, int threads,
                    const std::vector<std::string>& env) {
  std::vector<std::string> argv_text = argv_given, env_text, added = env;
  if (threads > 0) added.push_back("SIGPROP_THREADS=" + std::to_string(threads));
  const auto replaced = [&](const char* e) {
    for (const auto& a : added)
      if (std::strncmp(e, a.c_str(), a.find('=') + 1) == 0) return true;
    return false;
  };
  for (char** e = environ; *e; ++e)
    if (!replaced(*e)) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), added.begin(), added.end());
  const auto pointers = [](std::vector<std::string>& text) {
    std::vector<char*> p;
    for (auto& t : text) p.push_back(t.data());
    p.push_back(nullptr);
    return p;
  };
  auto argv = pointers(argv_text), envp = pointers(env_text);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    throw DataError("cannot start " + argv_given.front() + (log_path.empty() ? "" : " (log " + log_path + ")") +
                    ": " + std::strerror(error));
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

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

int child_exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

int run_process(const std::vector<std::string>& argv, const std::string& log_path, int threads) {
  const pid_t pid = spawn_process(argv, log_path, threads);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return child_exit_code(status);
}

}  // namespace sigprop
