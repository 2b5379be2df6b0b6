// TAT leaky ReLU (paper 001): C-map, solved slopes against docs/methods.md's table, errors that teach.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "math/tat.h"

using namespace sigprop;

TEST(Tat, SlopesMatchTheReferenceTable) {
  struct Row { double eta; int n; double slope; };
  for (const Row& r : {Row{0.9, 18, 0.146}, Row{0.9, 24, 0.239}, Row{0.9, 36, 0.351},
                       Row{0.9, 72, 0.508}, Row{0.5, 4, 0.220}, Row{0.5, 12, 0.488}}) {
    const double a = tat_solve_slope(r.eta, r.n);
    EXPECT_NEAR(a, r.slope, 1e-3) << "eta " << r.eta << " N " << r.n;
    EXPECT_NEAR(tat_c_map_iterate(0.0, a, r.n), r.eta, 1e-9);
  }
}

TEST(Tat, SlopeZeroIsTheReluArcCosineKernel) {
  // Normalised ReLU kernel (Cho & Saul 2009): k(c) = (√(1−c²) + (π − arccos c) c) / π.
  for (double c = -1.0; c <= 1.0; c += 0.125) {
    const double arccos_kernel = (std::sqrt(1 - c * c) + (M_PI - std::acos(c)) * c) / M_PI;
    EXPECT_NEAR(tat_c_map(c, 0.0), arccos_kernel, 1e-12) << c;
  }
  EXPECT_NEAR(tat_c_map(0.3, 1.0), 0.3, 1e-15);  // slope 1 is linear
  EXPECT_NEAR(tat_c_map(1.0, 0.4), 1.0, 1e-15);  // C(1) = 1
  EXPECT_NEAR(tat_leaky_relu_gain(0.0), std::sqrt(2.0), 1e-15);
}

TEST(Tat, UnreachableEtaSaysWhatIsReachable) {
  try {
    tat_solve_slope(0.9, 8);
    FAIL();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unreachable"), std::string::npos) << msg;
    EXPECT_NE(msg.find("N = 8"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(tat_c_map_iterate(0, 0, 8)).substr(0, 5)), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(tat_solve_slope(0.9, 13));  // the smallest N that reaches 0.9
  EXPECT_THROW(tat_solve_slope(0.9, 12), ConfigError);
  EXPECT_THROW(tat_solve_slope(1.2, 40), ConfigError);
}
