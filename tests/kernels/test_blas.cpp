// The BLAS kernels sigprop forces (OPENBLAS_CORETYPE) compute correct products: compared with a
// naive triple loop in double precision on awkward shapes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <thread>

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

TEST(Blas, CoreTypeIsTheRecommendedOne) {
  const std::string want = recommended_openblas_coretype();
  if (want.empty() || !std::getenv("SIGPROP_BLAS_FIXED")) GTEST_SKIP() << "core type not set by sigprop";
  const BlasInfo info = blas_info();
  ASSERT_FALSE(info.core.empty()) << "OpenBLAS not loaded: " << info.library;
  EXPECT_NE(info.core.find(want), std::string::npos) << info.core;
  EXPECT_EQ(torch_threads(), static_cast<int>(std::thread::hardware_concurrency()));
}
