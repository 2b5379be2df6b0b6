// `sigprop env`: what this process computes with, one `key: value` a line.
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/runtime.h"
#include "core/version.h"

namespace sigprop::cli {

void add_env_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("env", "Print versions, BLAS, threads, devices and SGEMM speed");
  cmd->callback([] {
    const BlasInfo blas = blas_info();
    fmt::print("sigprop: {} ({})\n", sigprop_version(), git_revision());
    fmt::print("libtorch: {}\n", libtorch_version());
    fmt::print("blas_library: {}{}\n", blas.library, blas.version.empty() ? "" : " (" + blas.version + ")");
    fmt::print("cpu_capability: {}\n", blas.cpu_capability);
    fmt::print("fused_kernels_gemm: {}\n", blas.gemm_library.empty() ? "none (attention runs as tensor ops)"
                                                                      : "sgemm_ of " + blas.gemm_library);
    fmt::print("allocator: {}\n", allocator_name());
    fmt::print("threads: {}\n", torch_threads());
    fmt::print("devices: {}\n", available_devices());
    fmt::print("sgemm_gflops: {:.1f}\n", measure_sgemm_gflops(512, 20));
  });
}

}  // namespace sigprop::cli
