#include "core/runtime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#include <torch/torch.h>

#include "core/error.h"

namespace sigprop {

std::string recommended_openblas_coretype() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

BlasInfo blas_info() {
  BlasInfo info;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl") != std::string::npos) {
      info.library = path;
      break;
    }
  }
  using CoreName = char* (*)();
  using NumThreads = int (*)();
  if (auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
    info.core = f();
  if (auto f = reinterpret_cast<NumThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
    info.threads = f();
  return info;
}

std::string allocator_name() {
  using Version = const char* (*)(int*, int*, const char**);
  if (auto tc_version = reinterpret_cast<Version>(::dlsym(RTLD_DEFAULT, "tc_version"))) {
    int major = 0, minor = 0;
    const char* patch = nullptr;
    tc_version(&major, &minor, &patch);
    return "tcmalloc " + std::to_string(major) + "." + std::to_string(minor) + (patch ? patch : "");
  }
  return "glibc";
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return std::numeric_limits<double>::quiet_NaN();
}

int available_cores() {
  if (const char* t = std::getenv("SIGPROP_THREADS"); t && std::atoi(t) > 0) return std::atoi(t);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void use_all_cores() { at::set_num_threads(available_cores()); }

int torch_threads() { return at::get_num_threads(); }

double measure_sgemm_gflops(int n, int reps) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  for (int i = 0; i < 3; ++i) torch::mm_out(c, a, b);  // warm up threads and caches
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * n * n * double(n) / best / 1e9;
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw ConfigError("--device " + name +
                        ": no CUDA device is visible to this LibTorch build; use --device cpu");
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
    }
  }
  throw ConfigError("--device " + name + " is not allowed: expected cpu, cuda or cuda:N");
}

std::string available_devices() {
  std::string out = "cpu";
  if (torch::cuda::is_available())
    for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
      out += ", cuda:" + std::to_string(i);
  return out;
}

}  // namespace sigprop

namespace sigprop {

void reexec_with_fast_blas(char** argv) {
  if (std::getenv("SIGPROP_NO_BLAS_FIX") || std::getenv("OPENBLAS_CORETYPE")) return;
  const std::string core = recommended_openblas_coretype();
  if (core.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::setenv("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD", "1099511627776", 0);
  ::setenv("SIGPROP_BLAS_FIXED", "1", 1);  // lets `sigprop env` say who set it
  ::execv("/proc/self/exe", argv);
}

}  // namespace sigprop
