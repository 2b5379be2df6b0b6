#include "core/runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include <ATen/Version.h>
#include <torch/torch.h>

#include "core/error.h"

namespace sigprop {

BlasInfo blas_info() {
  BlasInfo info;
  // The build config names its BLAS as "BLAS_INFO=mkl," and gives the library's version on a line
  // of its own (" - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build ...").
  const std::string config = at::show_config();
  const auto key = config.find("BLAS_INFO=");
  if (key != std::string::npos) {
    const auto begin = key + std::string("BLAS_INFO=").size();
    info.library = config.substr(begin, config.find_first_of(", \n", begin) - begin);
  }
  if (info.library.empty()) info.library = "unknown";
  std::istringstream lines(config);
  for (std::string line; std::getline(lines, line);)
    if (line.find("Math Kernel Library") != std::string::npos || line.find("OpenBLAS") != std::string::npos) {
      info.version = line.substr(line.find_first_not_of(" -"));
      break;
    }
  info.cpu_capability = at::get_cpu_capability();
  info.threads = at::get_num_threads();
  Dl_info where;
  if (void* sgemm = ::dlsym(RTLD_DEFAULT, "sgemm_"); sgemm && ::dladdr(sgemm, &where) && where.dli_fname)
    info.gemm_library = where.dli_fname;
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
