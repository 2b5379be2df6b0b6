#include "train/distributed.h"

#include <cstdlib>

#include <fmt/format.h>
#include <torch/torch.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <thread>

#include "core/child_process.h"
#include "core/error.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace sigprop {
namespace {

int int_var(const char* name, const char* text, int lo) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < lo || v > 1 << 20)
    throw ConfigError(fmt::format("environment variable {}={} is not an integer >= {}", name, text, lo));
  return int(v);
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // "prefix[a-b,c]suffix,other" -> prefix + a (zero padding kept) + suffix
  const size_t comma = nodelist.find(',');
  const size_t open = nodelist.find('[');
  if (open == std::string::npos || (comma != std::string::npos && comma < open))
    return nodelist.substr(0, comma);
  const size_t close = nodelist.find(']', open);
  if (close == std::string::npos)
    throw ConfigError("SLURM_JOB_NODELIST=" + nodelist + " has a '[' without its ']'");
  const std::string inside = nodelist.substr(open + 1, close - open - 1);
  const std::string first = inside.substr(0, inside.find_first_of(",-"));
  const size_t next = nodelist.find(',', close);
  return nodelist.substr(0, open) + first + nodelist.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
}

DistributedEnv distributed_env(const std::function<const char*(const char*)>& get_) {
  const auto get = [&](const char* name) -> const char* { return get_ ? get_(name) : std::getenv(name); };
  DistributedEnv e;
  if (const char* world = get("WORLD_SIZE")) {
    e.source = "torchrun";
    e.world = int_var("WORLD_SIZE", world, 1);
    const char* rank = get("RANK");
    if (!rank) throw ConfigError("WORLD_SIZE is set but RANK is not (torchrun sets both)");
    e.rank = int_var("RANK", rank, 0);
    e.local_rank = get("LOCAL_RANK") ? int_var("LOCAL_RANK", get("LOCAL_RANK"), 0) : e.rank;
    if (const char* a = get("MASTER_ADDR")) e.master_addr = a;
    if (const char* p = get("MASTER_PORT")) e.master_port = int_var("MASTER_PORT", p, 1);
  } else if (const char* tasks = get("SLURM_NTASKS"); tasks && int_var("SLURM_NTASKS", tasks, 1) > 1) {
    e.source = "slurm";
    e.world = int_var("SLURM_NTASKS", tasks, 1);
    const char* id = get("SLURM_PROCID");
    if (!id) throw ConfigError("SLURM_NTASKS is set but SLURM_PROCID is not");
    e.rank = int_var("SLURM_PROCID", id, 0);
    e.local_rank = get("SLURM_LOCALID") ? int_var("SLURM_LOCALID", get("SLURM_LOCALID"), 0) : 0;
    if (const char* nodes = get("SLURM_JOB_NODELIST")) e.master_addr = first_slurm_host(nodes);
    if (const char* p = get("MASTER_PORT")) e.master_port = int_var("MASTER_PORT", p, 1);
  }
  if (e.rank >= e.world)
    throw ConfigError(fmt::format("rank {} is not below the world size {} ({} environment)", e.rank,
                                  e.world, e.source));
  if (e.master_port > 65535) throw ConfigError(fmt::format("MASTER_PORT={} is not a port", e.master_port));
  return e;
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw DataError(std::string("no free TCP port on 127.0.0.1 for the process group: ") + std::strerror(errno));
  }
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

namespace {

}  // namespace

int run_local_ranks(const std::vector<std::string>& argv, int n, int threads, std::string* failure) {
  const int port = free_local_port();
  std::map<pid_t, int> ranks;
  for (int r = 0; r < n; ++r)
    ranks[spawn_process(argv, "", std::max(1, threads / n),
                        {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r),
                         "WORLD_SIZE=" + std::to_string(n), "MASTER_ADDR=127.0.0.1",
                         "MASTER_PORT=" + std::to_string(port)})] = r;
  int first = 0;
  std::chrono::steady_clock::time_point deadline{};
  bool killed = false;
  while (!ranks.empty()) {
    int status = 0;
    // Blocking until a rank fails; then polling, so that ranks stuck in a collective get
    // SIGKILL if SIGTERM has not ended them within 10 s.
    const pid_t pid = ::waitpid(-1, &status, first == 0 ? 0 : WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {  // EINTR: Ctrl-C, which the ranks got too
      if (first != 0 && !killed && std::chrono::steady_clock::now() > deadline) {
        for (const auto& [other, r] : ranks) ::kill(other, SIGKILL);
        killed = true;
      }
      if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (pid < 0) break;
    const auto it = ranks.find(pid);
    if (it == ranks.end()) continue;
    const int rank = it->second, code = child_exit_code(status);
    ranks.erase(it);
    if (code != 0 && first == 0) {
      first = code;
      if (failure)
        *failure = WIFSIGNALED(status)
                       ? "rank " + std::to_string(rank) + " was killed by signal " + std::to_string(WTERMSIG(status))
                       : "rank " + std::to_string(rank) + " exited with code " + std::to_string(code);
      for (const auto& [other, r] : ranks) ::kill(other, SIGTERM);
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
  }
  return first;
}

Backend parse_backend(const std::string& name, const std::string& what) {
  if (name == "auto") return Backend::kAuto;
  if (name == "gloo") return Backend::kGloo;
  if (name == "nccl") return Backend::kNccl;
  throw ConfigError(what + " '" + name + "' is not allowed: expected auto, gloo or nccl");
}

bool nccl_available() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::Backend> group;
};

namespace {

c10::intrusive_ptr<c10d::Backend> gloo_group(const c10::intrusive_ptr<c10d::Store>& store,
                                             const DistributedEnv& env, std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create();
  opts->timeout = timeout;
  // One machine: loopback. Several: this host's own interface (Gloo resolves the hostname).
  const bool local = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
  opts->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world, opts);
}

c10::intrusive_ptr<c10d::Backend> nccl_group(const c10::intrusive_ptr<c10d::Store>& store,
                                             const DistributedEnv& env, std::chrono::milliseconds timeout) {
#ifdef USE_C10D_NCCL
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world, opts);
#else
  (void)store, (void)env, (void)timeout;
  TORCH_INTERNAL_ASSERT(false, "unreachable: the Communicator refuses NCCL in a build without it");
#endif
}

}  // namespace

Communicator::Communicator(const DistributedEnv& env, Backend backend, torch::Device device,
                           std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()),
      env_(env),
      backend_(backend == Backend::kAuto ? (device.is_cuda() ? Backend::kNccl : Backend::kGloo) : backend),
      device_(device) {
  if (backend_ == Backend::kNccl && !device.is_cuda())
    throw ConfigError("--backend nccl sums tensors on GPUs; this run is on the " + device.str() +
                      ": use --backend gloo (or auto)");
  if (backend_ == Backend::kNccl && !nccl_available())
    throw ConfigError("--backend nccl needs a build against a CUDA torch with NCCL's headers "
                      "(docs/install.md); this one has Gloo only");
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = env.world;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    impl_->group = backend_ == Backend::kNccl ? nccl_group(impl_->store, env, timeout)
                                              : gloo_group(impl_->store, env, timeout);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw DataError(fmt::format("rank {} of {} cannot join the {} process group at {}:{}: {}", env.rank,
                                env.world, backend_ == Backend::kNccl ? "NCCL" : "Gloo", env.master_addr,
                                env.master_port, e.what()));
  }
}

Communicator::~Communicator() = default;

std::function<void()> Communicator::start_sum(torch::Tensor t) {
  const auto failed = [this](const std::exception& e) {
    const std::string what = e.what();
    return DataError(fmt::format("rank {} of {}: a collective failed, a peer rank has stopped: {}",
                                 env_.rank, env_.world, what.substr(0, what.find('\n'))));
  };
  c10::intrusive_ptr<c10d::Work> work;
  try {
    std::vector<at::Tensor> one{std::move(t)};
    work = impl_->group->allreduce(one);
  } catch (const std::exception& e) {
    throw failed(e);
  }
  return [work, failed] {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw failed(e);
    }
  };
}

std::string Communicator::broadcast(const std::string& key, const std::string& value) {
  const std::string k = "sigprop/" + key;
  try {
    if (env_.rank == 0) impl_->store->set(k, std::vector<uint8_t>(value.begin(), value.end()));
    const auto got = impl_->store->get(k);
    return std::string(got.begin(), got.end());
  } catch (const std::exception& e) {
    throw DataError(fmt::format("rank {} of {}: no word from rank 0 on '{}': {}", env_.rank, env_.world,
                                key, e.what()));
  }
}


struct GradientAverager::State {
  Communicator* comm = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<size_t> bucket_of;
  std::vector<int64_t> offset_of;
  std::vector<torch::Tensor> flat;              // one buffer per bucket
  std::vector<size_t> members, arrived;         // parameters per bucket, and those in so far
  std::vector<char> filled;                     // per parameter, this step
  std::vector<std::function<void()>> pending;   // per bucket: waits for its sum; empty = not sent
  bool armed = false;
  size_t early = 0;  // buckets sent by the hooks this step

  void put(size_t i, const torch::Tensor& g) {
    flat[bucket_of[i]].narrow(0, offset_of[i], params[i].numel()).copy_(g.reshape({-1}));
    filled[i] = 1;
  }
  void send(size_t b) { pending[b] = comm->start_sum(flat[b]); }
  void on_gradient(size_t i, const torch::Tensor& g) {
    if (!armed || filled[i]) return;
    put(i, g);
    const size_t b = bucket_of[i];
    if (++arrived[b] == members[b]) send(b), ++early;
  }
};

GradientAverager::GradientAverager(Communicator& comm, std::vector<torch::Tensor> params, int64_t bucket_bytes)
    : state_(std::make_shared<State>()), params_(std::move(params)) {
  State& s = *state_;
  s.comm = &comm;
  s.params = params_;
  const size_t n = params_.size();
  s.bucket_of.resize(n), s.offset_of.resize(n), s.filled.assign(n, 0);
  std::vector<int64_t> sizes;  // elements per bucket
  int64_t bytes = 0;
  for (size_t k = n; k-- > 0;) {
    const auto& p = params_[k];
    const int64_t b = p.numel() * p.element_size();
    if (sizes.empty() || (bytes > 0 && bytes + b > bucket_bytes)) sizes.push_back(0), s.members.push_back(0), bytes = 0;
    s.bucket_of[k] = sizes.size() - 1;
    s.offset_of[k] = sizes.back();
    sizes.back() += p.numel();
    ++s.members.back();
    bytes += b;
  }
  for (size_t b = 0; b < sizes.size(); ++b)
    s.flat.push_back(torch::zeros({sizes[b]}, params_.front().options().requires_grad(false)));
  s.arrived.assign(sizes.size(), 0);
  s.pending.resize(sizes.size());
  // The hook holds the state, not this object: a hook left to run after the averager is gone
  // (it is removed in the destructor) finds it disarmed.
  const std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < n; ++i)
    hooks_.push_back(params_[i].register_hook([weak, i](const torch::Tensor& g) {
      if (auto st = weak.lock()) st->on_gradient(i, g);
    }));
}

GradientAverager::~GradientAverager() {
  for (size_t i = 0; i < hooks_.size(); ++i) params_[i].remove_hook(hooks_[i]);
}

size_t GradientAverager::buckets() const { return state_->flat.size(); }
size_t GradientAverager::sent_during_backward() const { return state_->early; }

void GradientAverager::arm() {
  State& s = *state_;
  std::fill(s.filled.begin(), s.filled.end(), 0);
  std::fill(s.arrived.begin(), s.arrived.end(), 0);
  for (auto& p : s.pending) p = nullptr;
  s.early = 0;
  s.armed = true;
}

void GradientAverager::finish() {
  State& s = *state_;
  s.armed = false;
  torch::NoGradGuard no_grad;
  // The gradients the hooks did not see, into the buckets not yet sent; then those buckets, in
  // the same order on every rank (after the ones the hooks sent in the backward's order).
  for (size_t i = 0; i < s.params.size(); ++i) {
    if (s.filled[i] || s.pending[s.bucket_of[i]]) continue;
    const auto& g = s.params[i].grad();
    if (g.defined()) s.put(i, g);
    else s.flat[s.bucket_of[i]].narrow(0, s.offset_of[i], s.params[i].numel()).zero_();
  }
  for (size_t b = 0; b < s.flat.size(); ++b)
    if (!s.pending[b]) s.send(b);
  for (auto& wait : s.pending) wait();
  const double world = double(s.comm->world());
  for (auto& f : s.flat) f.div_(world);
  for (size_t i = 0; i < s.params.size(); ++i) {
    auto& p = s.params[i];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(s.flat[s.bucket_of[i]].narrow(0, s.offset_of[i], p.numel()).view_as(p));
  }
  for (auto& p : s.pending) p = nullptr;
}

double Communicator::mean(double value) {
  const auto t = torch::tensor({value}, torch::TensorOptions(torch::kDouble).device(device_));
  start_sum(t)();
  return t.item<double>() / env_.world;
}

bool Communicator::any(bool value) {
  const auto t = torch::tensor({value ? 1.0 : 0.0}, torch::TensorOptions(torch::kDouble).device(device_));
  start_sum(t)();
  return t.item<double>() > 0;
}

void Communicator::barrier() { any(false); }

}  // namespace sigprop
