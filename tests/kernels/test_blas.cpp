// The wheel's BLAS, reached through ATen, computes correct products (compared with a naive triple
// loop in double precision on awkward shapes), and `sigprop env` can name it.
#include <gtest/gtest.h>
#include <ATen/Version.h>
#include <torch/torch.h>


#include "core/runtime.h"

using namespace sigprop;

TEST(Blas, ForcedKernelsMatchNaiveMatmul) {
  torch::manual_seed(0);
  for (auto [m, k, n] : {std::tuple{257, 193, 311}, std::tuple{64, 512, 7}, std::tuple{1, 33, 65}}) {
    auto a = torch::randn({m, k}), b = torch::randn({k, n});
    auto fast = torch::mm(a, b);
    auto A = a.to(torch::kDouble), B = b.to(torch::kDouble);
    auto pa = A.accessor<double, 2>(), pb = B.accessor<double, 2>();
    auto naive = torch::zeros({m, n}, torch::kDouble);
    auto pn = naive.accessor<double, 2>();
    for (int i = 0; i < m; ++i)
      for (int p = 0; p < k; ++p)
        for (int j = 0; j < n; ++j) pn[i][j] += pa[i][p] * pb[p][j];
    const double err = (fast.to(torch::kDouble) - naive).abs().max().item<double>();
    EXPECT_LT(err, 1e-4 * std::sqrt(double(k))) << m << "x" << k << "x" << n;
  }
}

TEST(Blas, InfoNamesTheWheelsBlasAndCpuKernels) {
  const BlasInfo info = blas_info();
  const std::string config = at::show_config();
  // The name comes from LibTorch's own build config, never a guess: x86-64 wheels say mkl.
  EXPECT_NE(config.find("BLAS_INFO=" + info.library), std::string::npos) << info.library << "\n" << config;
  EXPECT_NE(info.library, "unknown");
  EXPECT_FALSE(info.cpu_capability.empty());
  EXPECT_EQ(info.threads, torch_threads());
  EXPECT_EQ(torch_threads(), available_cores());
  // The fused attention kernels' GEMM is the wheel's own, inside libtorch_cpu.
  EXPECT_NE(info.gemm_library.find("libtorch_cpu"), std::string::npos) << info.gemm_library;
}
