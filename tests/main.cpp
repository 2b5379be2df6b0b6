// Test entry point: the same thread set-up as the CLI, so the tests check the kernels users get.
#include <gtest/gtest.h>

#include "core/runtime.h"

int main(int argc, char** argv) {
  sigprop::use_all_cores();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
