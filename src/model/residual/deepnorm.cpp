// DeepNorm (Wang et al. 2022, DeepNet): the post-norm block's sum a·X + f(X), a = (2L)^{1/4}, so
// the stream outweighs each branch and the post-LN update stays bounded with depth; the block's
// LN follows (validate() requires norm = post), and init scales the matrices by β (model/init.cpp).
#include <torch/torch.h>

#include "model/residual/residual.h"

namespace sigprop {
namespace {

class DeepNormResidual : public ResidualImpl {
 public:
  explicit DeepNormResidual(double a) : a_(a) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) override {
    return torch::add(branch, x, a_);  // a x + f, one pass over memory
  }

 private:
  double a_;
};

}  // namespace

Residual make_deepnorm_residual(const ResidualOptions& o) {
  return make_module<Residual, DeepNormResidual>(o.skip());
}

}  // namespace sigprop
