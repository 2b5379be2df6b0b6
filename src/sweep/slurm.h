// Sweeps as Slurm job arrays: one array task per cell (`sigprop sweep --shard i/N`, N the number
// of cells), submitted with sbatch; the cells write into the shared sweep folder as they would
// locally, and `sigprop sweep --merge` (or --wait) gathers them into results.csv.
#pragma once

#include <string>

#include "sweep/scheduler.h"

namespace sigprop {

struct SlurmOptions {
  std::string partition;   // "" = the cluster's default partition
  std::string time;        // per task, as sbatch --time takes it; "" = the partition's limit
  int cpus_per_task = 1;   // each task's cell runs with this many threads
  bool wait = false;       // sbatch --wait: return once every task has ended
};

struct SlurmSubmission {
  std::string job_id;      // the array job
  std::string script;      // OUT/slurm/array.sh
  size_t tasks = 0;        // one per cell
  int sbatch_exit = 0;     // with wait: the highest exit code of the tasks
};

// The array script for the sweep of `sweep` (grid, out, the sigprop executable): every path in
// it absolute, the working directory the current one (a grid's relative config paths hold).
std::string slurm_array_script(const SweepRunOptions& sweep, size_t cells, const SlurmOptions& slurm);

// Writes OUT/grid.toml and OUT/slurm/array.sh, submits it with the sbatch found on PATH, and
// records OUT/slurm/job.json. Throws ConfigError for bad options or a missing sbatch, DataError
// with sbatch's own message when it refuses the job.
SlurmSubmission submit_sweep_to_slurm(const SweepRunOptions& sweep, const SlurmOptions& slurm);

}  // namespace sigprop
