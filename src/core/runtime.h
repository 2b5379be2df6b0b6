// The process's compute setup: what LibTorch computes with, threads, device, and a measured SGEMM
// rate. The BLAS is the one inside the torch wheel (MKL on x86-64, OpenBLAS on aarch64), reached
// through ATen; sigprop loads no BLAS of its own.
#pragma once

#include <string>

#include <torch/types.h>

namespace sigprop {

struct BlasInfo {
  std::string library;         // LibTorch's BLAS_INFO, e.g. "mkl"; "unknown" when it says none
  std::string version;         // the BLAS's own version line from LibTorch's build config, or ""
  std::string cpu_capability;  // the vector kernels ATen dispatches to here: "AVX512", "AVX2", ...
  int threads = 0;             // LibTorch's intra-op threads, which the BLAS calls share
  std::string gemm_library;    // the shared object whose sgemm_ the fused kernels call, "" = none
};
BlasInfo blas_info();

// The malloc serving this process: "tcmalloc <version>" when linked in (CMakeLists.txt), else
// "glibc".
std::string allocator_name();

// Peak resident memory of this process's own image (VmHWM, MiB): unlike wait4's ru_maxrss it never
// counts the parent's pages a child inherited before exec. NaN where /proc is missing.
double peak_rss_mib();

// The cores this process may use: $SIGPROP_THREADS when set (a sweep running several cells at
// once, or a Slurm task given --cpus-per-task, sets it), else every core of the machine.
int available_cores();
// Uses available_cores() for LibTorch's intra-op pool (Debian's build starts with one).
void use_all_cores();
int torch_threads();

// Measured single-precision GEMM rate, n x n x n, best of `reps` timed runs, in GFLOP/s.
double measure_sgemm_gflops(int n = 512, int reps = 10);

// "cpu" or "cuda"/"cuda:N"; throws ConfigError when the device is unknown or unavailable.
torch::Device parse_device(const std::string& name);
std::string available_devices();

}  // namespace sigprop
