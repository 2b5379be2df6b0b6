// Data-parallel training on c10d (Gloo, loopback): the environment torchrun and Slurm set, two
// processes with global batch B reproducing one process with batch B (every loss of 50 steps
// and the final weights to 1e-5), and a rank killed with kill -9: the others stop within 30 s,
// the checkpoint on disk loads, and --resume finishes the run. A race on two ranks; the
// gradient averager's hooks sending buckets during the backward.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "train/distributed.h"

using namespace sigprop;
using namespace sigprop::test;

namespace {

DistributedEnv env_of(const std::map<std::string, std::string>& vars) {
  return distributed_env([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

const char* kTrain = "train --preset pre-ln --depth 2 --width 32 --heads 2 --data synthetic "
                     "--seq 16 --log-every 1 --eval-batches 2 ";

std::vector<double> losses(const fs::path& run) {
  std::vector<double> out;
  std::istringstream in(read_file((run / "train.jsonl").string()));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

}  // namespace

TEST(Distributed, EnvironmentOfTorchrunAndSlurm) {
  auto e = env_of({});
  EXPECT_EQ(e.world, 1);
  e = env_of({{"WORLD_SIZE", "4"}, {"RANK", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "n1"},
              {"MASTER_PORT", "1234"}});
  EXPECT_EQ(e.world, 4);
  EXPECT_EQ(e.rank, 2);
  EXPECT_EQ(e.local_rank, 0);
  EXPECT_EQ(e.master_addr, "n1");
  EXPECT_EQ(e.master_port, 1234);
  EXPECT_EQ(e.source, "torchrun");
  e = env_of({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "5"}, {"SLURM_LOCALID", "1"},
              {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu1"}});
  EXPECT_EQ(e.world, 8);
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "gpu07");
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(env_of({{"SLURM_NTASKS", "1"}, {"SLURM_PROCID", "0"}}).world, 1);  // one task: no group
  EXPECT_EQ(first_slurm_host("node3"), "node3");
  EXPECT_EQ(first_slurm_host("a,b"), "a");
  EXPECT_EQ(first_slurm_host("rack[1-2]-n[3-4]"), "rack1-n[3-4]");
  EXPECT_THROW(env_of({{"WORLD_SIZE", "two"}, {"RANK", "0"}}), ConfigError);
  EXPECT_THROW(env_of({{"WORLD_SIZE", "2"}}), ConfigError);                 // no RANK
  EXPECT_THROW(env_of({{"WORLD_SIZE", "2"}, {"RANK", "2"}}), ConfigError);  // rank >= world
  EXPECT_THROW(first_slurm_host("n[1-3"), ConfigError);
}

TEST(Distributed, TwoProcessesReproduceOneProcess) {
  const fs::path dir = temp_dir("dp_same");
  const std::string args = std::string(kTrain) + "--batch 8 --steps 50 --eval-every 25 --checkpoint-every 25 ";
  const auto one = run_cli(args + "--out " + (dir / "one").string());
  ASSERT_EQ(one.code, 0) << one.output;
  const auto two = run_cli(args + "--nproc 2 --out " + (dir / "two").string());
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("2 processes, data parallel"), std::string::npos) << two.output;
  const auto a = losses(dir / "one"), b = losses(dir / "two");
  ASSERT_EQ(a.size(), 50u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "step " << i + 1;
  // The same checkpoint: every tensor of the final weights.
  for (const char* run : {"one", "two"})
    ASSERT_EQ(run_cli("export " + (dir / run).string()).code, 0);
  const auto wa = load_safetensors((dir / "one" / "model.safetensors").string());
  const auto wb = load_safetensors((dir / "two" / "model.safetensors").string());
  ASSERT_EQ(wa.tensors.size(), wb.tensors.size());
  for (size_t i = 0; i < wa.tensors.size(); ++i)
    EXPECT_LE((wa.tensors[i].second - wb.tensors[i].second).abs().max().item<double>(), 1e-5)
        << wa.tensors[i].first;
  // A global batch that does not split evenly is refused before anything runs.
  const auto odd = run_cli(std::string(kTrain) + "--steps 5 --batch 9 --nproc 2 --out " + (dir / "odd").string());
  EXPECT_EQ(odd.code, 2);
  EXPECT_NE(odd.output.find("not a multiple of the 2 processes"), std::string::npos) << odd.output;
  fs::remove_all(dir);
}

TEST(Distributed, AKilledRankStopsTheOthersAndTheRunResumes) {
  const fs::path dir = temp_dir("dp_kill");
  const fs::path run = dir / "run";
  const std::string args = std::string(kTrain) + "--batch 8 --steps 100000 --eval-every 0 --checkpoint-every 20 ";
  const pid_t launcher = spawn_cli(args + "--nproc 2 --out " + run.string(), dir / "log");
  ASSERT_TRUE(wait_for(run / "checkpoint.pt", 90)) << read_file((dir / "log").string());
  // Rank 1: the launcher's child whose environment says RANK=1.
  pid_t rank1 = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(e.path() / "environ", std::ios::binary);
    std::string var;
    bool ours = false, one = false;
    while (std::getline(env, var, '\0')) {
      one |= var == "RANK=1";
      ours |= var == "MASTER_ADDR=127.0.0.1";
    }
    std::ifstream stat(e.path() / "stat");
    std::string pid, comm, state, ppid;
    stat >> pid >> comm >> state >> ppid;
    if (one && ours && std::stoi(ppid) == launcher) rank1 = std::stoi(name);
  }
  ASSERT_GT(rank1, 0) << "rank 1 not found among the launcher's children";
  ::kill(rank1, SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  ::waitpid(launcher, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 30.0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  const std::string log = read_file((dir / "log").string());
  EXPECT_NE(log.find("rank 1 was killed by signal 9"), std::string::npos) << log;
  // The checkpoint on disk is whole, and the run goes on from it.
  EXPECT_EQ(run_cli("export " + run.string() + " --out " + (dir / "e").string()).code, 0);
  const auto resumed = run_cli("train --resume " + run.string() + " --steps 60 --nproc 2");
  EXPECT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("steps: 60"), std::string::npos) << resumed.output;
  fs::remove_all(dir);
}

// A race on two ranks: every run data parallel, rank 0 writing the race; the same table as one
// process (the printed digits; the runs' losses agree to 1e-5 as above).
TEST(Distributed, ARaceOnTwoProcessesMatchesOneProcess) {
  const fs::path dir = temp_dir("dp_race");
  const std::string args = "race --preset pre-ln,post-ln --depth 2 --width 32 --heads 2 --data synthetic "
                           "--seq 16 --batch 4 --steps 30 --lr-grid 1e-3,3e-3 --eval-batches 2 ";
  const auto one = run_cli(args + "--out " + (dir / "one").string());
  ASSERT_EQ(one.code, 0) << one.output;
  const auto two = run_cli(args + "--nproc 2 --out " + (dir / "two").string());
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_EQ(read_file((dir / "one" / "race.csv").string()), read_file((dir / "two" / "race.csv").string()));
  const auto summary = nlohmann::json::parse(
      read_file((dir / "two" / "runs" / "pre-ln" / "lr0.001" / "seed0" / "summary.json").string()));
  EXPECT_EQ(summary["ranks"], 2);
  EXPECT_GE(summary["allreduce_share"].get<double>(), 0.0);
  EXPECT_LT(summary["allreduce_share"].get<double>(), 1.0);
  fs::remove_all(dir);
}

// One rank (a world of one is a real process group): the hooks send every bucket whose gradients
// are all in before the backward ends, a backward outside arm()/finish() sends none, an unused
// parameter averages as zeros, and the mean of one rank is the gradient itself.
static void check_gradients_sent_while_the_backward_runs(Backend backend, torch::Device device) {
  DistributedEnv env;
  env.master_port = free_local_port();
  Communicator comm(env, backend, device, std::chrono::seconds(30));
  torch::manual_seed(0);
  const auto on = torch::TensorOptions().device(device);
  auto w1 = torch::randn({8, 8}, on).requires_grad_(), w2 = torch::randn({8, 8}, on).requires_grad_();
  auto unused = torch::randn({3}, on).requires_grad_();
  const auto x = torch::randn({4, 8}, on);
  GradientAverager avg(comm, {w1, w2, unused}, /*bucket_bytes=*/1);  // one bucket per parameter
  ASSERT_EQ(avg.buckets(), 3u);
  const auto backward = [&] {
    for (auto* p : {&w1, &w2, &unused}) p->mutable_grad() = torch::Tensor();
    torch::tanh(x.mm(w1)).mm(w2).pow(2).sum().backward();
  };
  backward();
  const auto g1 = w1.grad().clone(), g2 = w2.grad().clone();
  avg.arm();
  backward();
  avg.finish();
  EXPECT_EQ(avg.sent_during_backward(), 2u) << "w1 and w2 were sent by their hooks";
  EXPECT_TRUE(torch::equal(w1.grad(), g1));
  EXPECT_TRUE(torch::equal(w2.grad(), g2));
  EXPECT_TRUE(torch::equal(unused.grad(), torch::zeros({3}, on)));
  backward();  // not armed: a probe's backward on rank 0 alone must not start a collective
  avg.arm();
  avg.finish();
  EXPECT_EQ(avg.sent_during_backward(), 0u);
  EXPECT_TRUE(torch::equal(w2.grad(), g2)) << "finish() takes .grad as it is";
  EXPECT_DOUBLE_EQ(comm.mean(3.0), 3.0);
  EXPECT_TRUE(comm.any(true));
}

TEST(Distributed, GradientsAreSentWhileTheBackwardRuns) {
  check_gradients_sent_while_the_backward_runs(Backend::kGloo, torch::kCPU);
}

// The same on a GPU through NCCL (scripts/gpu-check.sh runs it on a GPU machine).
TEST(Distributed, NcclOnOneGpuSendsGradientsWhileTheBackwardRuns) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  ASSERT_TRUE(nccl_available()) << "a CUDA torch but no NCCL backend compiled in";
  check_gradients_sent_while_the_backward_runs(Backend::kAuto, torch::Device(torch::kCUDA, 0));
}

TEST(Distributed, BackendsAreNamedAndNcclIsRefusedOnTheCpu) {
  EXPECT_EQ(parse_backend("gloo", "--backend"), Backend::kGloo);
  EXPECT_EQ(parse_backend("auto", "--backend"), Backend::kAuto);
  try {
    parse_backend("mpi", "--backend");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--backend 'mpi' is not allowed: expected auto, gloo or nccl"),
              std::string::npos) << e.what();
  }
  DistributedEnv env;
  env.master_port = free_local_port();
  try {
    Communicator comm(env, Backend::kNccl, torch::kCPU, std::chrono::seconds(5));
    FAIL() << "NCCL on the CPU";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nccl"), std::string::npos) << e.what();
  }
  EXPECT_EQ(Communicator(env, Backend::kAuto, torch::kCPU, std::chrono::seconds(30)).backend(), Backend::kGloo);
}
