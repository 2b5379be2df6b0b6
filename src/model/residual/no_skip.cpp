// No skip connection: the block's output is the branch alone, X ← f(X). The setting in which
// rank collapse is fastest (papers 000-003 use it as the control).
#include "model/residual/residual.h"

namespace sigprop {
namespace {

class NoSkip : public ResidualImpl {
 public:
  torch::Tensor forward(const torch::Tensor& /*x*/, const torch::Tensor& branch) override {
    return branch;
  }
};

}  // namespace

Residual make_no_skip_residual(const ResidualOptions&) { return make_module<Residual, NoSkip>(); }

}  // namespace sigprop
