// Child `sigprop` processes for commands that run other commands (sweep cells, repro steps): the
// same binary re-executed, so a cell behaves exactly as the command line it records.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sigprop {

// Starts `argv[0] argv[1..]` (a path, not searched). Output goes to `log_path` (stdout and
// stderr), or to this process's own streams when it is empty; `threads` > 0 sets SIGPROP_THREADS
// for the child.
// `env` adds NAME=value variables (replacing any of the same name).
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path, int threads,
                    const std::vector<std::string>& env = {});
// The same for `sigprop ARGS...`: this very binary.
pid_t spawn_sigprop(const std::vector<std::string>& args, const std::string& log_path, int threads);

// A file or folder of the source tree (`relative`, e.g. "configs/repro"): in the working
// directory, else beside the build folder of this executable; throws ConfigError naming both
// places and `hint` (the option that points elsewhere).
std::filesystem::path find_in_source_tree(const std::string& relative, const std::string& hint);

// The first executable `name` in the directories of $PATH; "" when there is none.
std::string find_on_path(const std::string& name);

// Exit code of a finished child: its status, or 128 + signal when it was killed.
int child_exit_code(int wait_status);

// spawn_process, then waits for that child (through EINTR): its exit code as child_exit_code.
int run_process(const std::vector<std::string>& argv, const std::string& log_path, int threads);

}  // namespace sigprop
