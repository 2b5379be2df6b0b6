#include "sweep/slurm.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "sweep/sweep.h"

namespace fs = std::filesystem;

namespace sigprop {
namespace {

// 'text' for bash, a quote inside closed, escaped and reopened.
std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// sbatch reads #SBATCH lines up to the first blank: a value with a space or newline would be cut.
void check_sbatch_value(const std::string& value, const std::string& option) {
  if (value.find_first_of(" \t\n\r'\"") != std::string::npos)
    throw ConfigError(option + " '" + value + "' is not allowed: no spaces or quotes");
}

std::string absolute_sweep_folder(const SweepRunOptions& s) {
  return fs::absolute(sweep_folder(s.grid, s.out)).lexically_normal().string();
}

}  // namespace

std::string slurm_array_script(const SweepRunOptions& sweep, size_t cells, const SlurmOptions& slurm) {
  if (cells == 0) throw ConfigError(sweep.grid + ": the grid has no cells to submit");
  if (slurm.cpus_per_task < 1) throw ConfigError("--cpus-per-task must be >= 1");
  check_sbatch_value(slurm.partition, "--partition");
  check_sbatch_value(slurm.time, "--time");
  const std::string out = absolute_sweep_folder(sweep);
  const std::string exe = fs::canonical(sweep.sigprop).string();
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Written by `sigprop sweep --slurm`: task i runs cell i of {}/grid.toml.\n", out);
  s += fmt::format("#SBATCH --job-name=sigprop-{}\n", fs::path(out).filename().string());
  s += fmt::format("#SBATCH --array=0-{}\n", cells - 1);
  s += fmt::format("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n", slurm.cpus_per_task);
  s += fmt::format("#SBATCH --output={}/slurm/%A_%a.out\n", out);
  s += fmt::format("#SBATCH --chdir={}\n", fs::current_path().string());
  if (!slurm.partition.empty()) s += "#SBATCH --partition=" + slurm.partition + "\n";
  if (!slurm.time.empty()) s += "#SBATCH --time=" + slurm.time + "\n";
  s += fmt::format("export SIGPROP_THREADS=${{SLURM_CPUS_PER_TASK:-{}}}\n", slurm.cpus_per_task);
  s += fmt::format("exec {} sweep {} --out {} --jobs 1 --shard ${{SLURM_ARRAY_TASK_ID}}/{}\n",
                   shell_quote(exe), shell_quote(out + "/grid.toml"), shell_quote(out), cells);
  return s;
}

SlurmSubmission submit_sweep_to_slurm(const SweepRunOptions& sweep, const SlurmOptions& slurm) {
  const SweepGrid grid = load_sweep_grid(sweep.grid);
  const std::string out = absolute_sweep_folder(sweep);
  SlurmSubmission sub;
  sub.tasks = grid.cells().size();
  const std::string script = slurm_array_script(sweep, sub.tasks, slurm);
  const std::string sbatch = find_on_path("sbatch");
  if (sbatch.empty())
    throw ConfigError("--slurm needs sbatch on PATH (Debian: slurm-client), and none was found");
  fs::create_directories(out + "/slurm");
  fs::create_directories(out + "/cells");
  // The tasks read the folder's own copy: editing the grid after submitting changes nothing.
  write_file_atomic(out + "/grid.toml", read_file(sweep.grid));
  sub.script = out + "/slurm/array.sh";
  write_file_atomic(sub.script, script);
  const std::string log = out + "/slurm/sbatch.log";
  std::vector<std::string> argv = {sbatch, "--parsable"};
  if (slurm.wait) argv.push_back("--wait");
  argv.push_back(sub.script);
  const int code = run_process(argv, log, 0);
  // --parsable prints "ID" or "ID;cluster" on a line of its own, perhaps after warnings.
  const std::string said = read_file(log);
  std::istringstream lines(said);
  for (std::string line; sub.job_id.empty() && std::getline(lines, line);) {
    const std::string id = line.substr(0, line.find(';'));
    if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) sub.job_id = id;
  }
  if (sub.job_id.empty())
    throw DataError(fmt::format("sbatch refused {} (exit {}): {}", sub.script, code, said));
  sub.sbatch_exit = code;
  const nlohmann::json job{{"job_id", sub.job_id}, {"tasks", sub.tasks}, {"script", sub.script},
                           {"grid", out + "/grid.toml"}};
  write_file_atomic(out + "/slurm/job.json", job.dump(2) + "\n");
  return sub;
}

}  // namespace sigprop
