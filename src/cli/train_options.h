// Command-line options of a training run, shared by `train` and `race`.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "train/distributed.h"
#include "train/train_config.h"

namespace sigprop::cli {

// Adds --data --steps --batch --seq --lr --optimizer --weight-decay --warmup --schedule --clip
// --seed --log-every --eval-every --eval-batches --probe-every --checkpoint-every.
void add_train_options(CLI::App* cmd, TrainConfig& config);

// Adds --nproc (data-parallel processes on this machine) and --backend (auto | gloo | nccl).
void add_nproc_option(CLI::App* cmd, int& nproc, std::string& backend);

// With nproc > 1: runs this very command line, without --nproc, as `nproc` ranks on this machine
// (threads split among them), waits for them, and exits with a failed rank's code, naming it.
// Returns true when it launched (the command is done), false when this process is to do the work.
// `batch` (0: not checked, as on --resume) must split evenly among the ranks.
bool launch_local_ranks(int nproc, int64_t batch);

// This rank's process group under torchrun, srun or a launch above, on `backend`; null in a
// single process. A bare "cuda" device becomes this rank's GPU, cuda:LOCAL_RANK.
std::shared_ptr<Communicator> rank_communicator(torch::Device& device, const std::string& backend);

}  // namespace sigprop::cli
