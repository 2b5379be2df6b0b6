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

#ifdef SIGPROP_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
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

namespace {

// A TCP port free on loopback now (the kernel's choice); rank 0 binds it a moment later.
int free_port() {
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

}  // namespace

int run_local_ranks(const std::vector<std::string>& argv, int n, int threads, std::string* failure) {
  const int port = free_port();
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

#ifdef SIGPROP_HAVE_GLOO

bool distributed_available() { return true; }

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Communicator::Communicator(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), env_(env) {
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = env.world;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = timeout;
    // One machine: loopback. Several: this host's own interface (Gloo resolves the hostname).
    const bool local = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
    opts->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world, opts);
  } catch (const std::exception& e) {
    throw DataError(fmt::format("rank {} of {} cannot join the process group at {}:{}: {}", env.rank,
                                env.world, env.master_addr, env.master_port, e.what()));
  }
}

Communicator::~Communicator() = default;

void Communicator::all_reduce(std::vector<torch::Tensor>& tensors) {
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      work.push_back(impl_->group->allreduce(one));
    }
    for (auto& w : work) w->wait();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw DataError(fmt::format("rank {} of {}: a collective failed, a peer rank has stopped: {}",
                                env_.rank, env_.world, what.substr(0, what.find('\n'))));
  }
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

#else

bool distributed_available() { return false; }
struct Communicator::Impl {};
Communicator::Communicator(const DistributedEnv& env, std::chrono::milliseconds) : env_(env) {
  throw ConfigError(fmt::format("a world of {} processes needs a build with Gloo (apt install "
                                "libgloo-dev, then rebuild); this one trains in one process", env.world));
}
Communicator::~Communicator() = default;
void Communicator::all_reduce(std::vector<torch::Tensor>&) {}
std::string Communicator::broadcast(const std::string&, const std::string& value) { return value; }

#endif

void Communicator::average_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
  // Buckets of whole gradients, packed flat; a missing gradient counts as zeros.
  std::vector<std::vector<torch::Tensor>> buckets(1);
  int64_t bytes = 0;
  for (const auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    const int64_t b = p.numel() * p.element_size();
    if (bytes > 0 && bytes + b > bucket_bytes) buckets.emplace_back(), bytes = 0;
    buckets.back().push_back(p.grad());
    bytes += b;
  }
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> views;
    for (const auto& g : bucket) views.push_back(g.reshape({-1}));
    flat.push_back(torch::cat(views));
  }
  all_reduce(flat);
  for (size_t i = 0; i < buckets.size(); ++i) {
    flat[i].div_(double(env_.world));
    int64_t at = 0;
    for (auto& g : buckets[i]) {
      g.copy_(flat[i].narrow(0, at, g.numel()).view_as(g));
      at += g.numel();
    }
  }
}

double Communicator::mean(double value) {
  std::vector<torch::Tensor> t{torch::tensor({value}, torch::kDouble)};
  all_reduce(t);
  return t[0].item<double>() / env_.world;
}

bool Communicator::any(bool value) {
  std::vector<torch::Tensor> t{torch::tensor({value ? 1.0 : 0.0}, torch::kDouble)};
  all_reduce(t);
  return t[0].item<double>() > 0;
}

void Communicator::barrier() { any(false); }

}  // namespace sigprop
