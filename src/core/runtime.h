// The process's compute setup: BLAS kernels, threads, device, and a measured SGEMM rate.
// LibTorch on Debian calls OpenBLAS, which reads OPENBLAS_CORETYPE once when it loads; the CLI
// therefore sets it (when the user has not) and re-executes itself (cli/main.cpp).
#pragma once

#include <string>

#include <torch/types.h>

namespace sigprop {

// The OpenBLAS core type whose kernels this CPU can run, from its instruction-set features:
// "SkylakeX" with AVX-512 (F, BW, VL, DQ), "Haswell" with AVX2 + FMA, "" otherwise.
std::string recommended_openblas_coretype();

struct BlasInfo {
  std::string library;  // shared object providing sgemm, from /proc/self/maps
  std::string core;     // OpenBLAS core name, "" when not OpenBLAS
  int threads = 0;      // OpenBLAS threads, 0 when unknown
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

namespace sigprop {

// When OPENBLAS_CORETYPE is unset and this CPU has a known-good core type, sets it and
// re-executes the current program (OpenBLAS reads it only at load time); tcmalloc's report of
// allocations over 1 GiB to stderr is switched off on the way. Returns normally
// when nothing needs to change or exec fails. Set SIGPROP_NO_BLAS_FIX=1 to opt out.
void reexec_with_fast_blas(char** argv);

}  // namespace sigprop
