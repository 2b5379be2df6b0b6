// Data-parallel training on LibTorch's own c10d engine (Gloo over TCP on the CPU, NCCL between
// GPUs): one process
// per rank, set up the way torchrun and Slurm set up their processes. Every rank holds the whole
// model (the same seed gives the same weights), trains on its own rows of each global batch, and
// the gradients are averaged across ranks before the step, so N ranks take the step one process
// takes on the whole batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace sigprop {

struct DistributedEnv {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  // "torchrun", "slurm" or "none": where the values came from
};

// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT when WORLD_SIZE is set; else
// Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID with the first host of SLURM_JOB_NODELIST
// (MASTER_PORT, else 29500) when SLURM_NTASKS > 1; else one process. Throws ConfigError naming
// the variable and its value when one is malformed.
DistributedEnv distributed_env(const std::function<const char*(const char*)>& get = nullptr);
// The first host of a Slurm node list: "node[07-09,12],gpu1" -> "node07".
std::string first_slurm_host(const std::string& nodelist);

// A TCP port free on 127.0.0.1 now (the kernel's choice), for a process group's store.
int free_local_port();

// Starts `argv` `n` times on this machine as ranks 0..n-1 (torchrun's variables, MASTER_ADDR
// 127.0.0.1 and a free MASTER_PORT; SIGPROP_THREADS = threads / n each) and waits for all. When
// one fails the others are stopped (SIGTERM, then SIGKILL). Returns 0, or the first failure's
// exit code (128 + signal when killed) with `*failure` naming the rank and how it ended.
int run_local_ranks(const std::vector<std::string>& argv, int n, int threads, std::string* failure);

// The c10d backend of a process group. kAuto: NCCL when the tensors live on a GPU, else Gloo.
enum class Backend { kAuto, kGloo, kNccl };
// "auto" | "gloo" | "nccl"; throws ConfigError naming `what` (e.g. "--backend") otherwise.
Backend parse_backend(const std::string& name, const std::string& what);
// Whether this build compiled the NCCL backend in (a CUDA torch with NCCL's headers).
bool nccl_available();

// One process group. Collectives throw DataError naming the rank that failed when a peer is
// gone (a dead rank closes its sockets, so the others learn of it at their next collective).
class Communicator {
 public:
  // `device` is where the collectives' tensors live: the CPU for Gloo, this rank's GPU for NCCL.
  // Throws ConfigError when NCCL is asked for on the CPU or in a build without it.
  explicit Communicator(const DistributedEnv& env, Backend backend = Backend::kAuto,
                        torch::Device device = torch::kCPU,
                        std::chrono::milliseconds timeout = std::chrono::minutes(10));
  ~Communicator();
  int rank() const { return env_.rank; }
  int world() const { return env_.world; }
  Backend backend() const { return backend_; }
  // Starts summing `t` over the ranks, in place; the returned function waits for the sum (and
  // throws DataError naming this rank when a peer is gone).
  std::function<void()> start_sum(torch::Tensor t);
  double mean(double value);
  bool any(bool value);  // true on every rank when it is true on one
  void barrier();
  // Rank 0's `value` on every rank.
  std::string broadcast(const std::string& key, const std::string& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  DistributedEnv env_;
  Backend backend_;
  torch::Device device_;
};

// The mean over ranks of every parameter's gradient, computed while the backward runs. The
// gradients are packed into buckets of about `bucket_bytes`, in the reverse of the parameters'
// order (about the order the backward produces them). Between arm() and finish(), a hook on each
// parameter copies its gradient into its bucket the moment autograd has it, and a full bucket's
// all-reduce starts at once, on Gloo's own threads, while the backward goes on. finish(), after
// the backward, sends the buckets not yet sent (taking .grad as it is, zeros where undefined),
// waits for all and writes the mean into every .grad. Every rank must run the same backward; a
// backward outside arm()/finish() (a probe on rank 0) leaves the hooks idle.
class GradientAverager {
 public:
  GradientAverager(Communicator& comm, std::vector<torch::Tensor> params, int64_t bucket_bytes = 8 << 20);
  ~GradientAverager();  // removes the hooks
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;
  void arm();
  void finish();
  size_t buckets() const;
  size_t sent_during_backward() const;  // of the last step's buckets, those the hooks sent

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::vector<torch::Tensor> params_;
  std::vector<unsigned> hooks_;
};

}  // namespace sigprop
