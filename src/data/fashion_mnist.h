// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from Debian's dataset-fashion-mnist:
// /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
// 60 000 training and 10 000 official test images, 28x28 grey, 10 classes; pixels are scaled to
// [0, 1] and standardised with the training set's mean and standard deviation.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "data/dataset.h"

namespace sigprop {

// The folder holding the four files: $SIGPROP_FASHION_MNIST_DIR or the Debian path.
std::string fashion_mnist_dir();

// Reads one gzip'd IDX file (magic 2051 images -> (N, 28, 28) uint8; 2049 labels -> (N) int64).
// Throws DataError naming the file and the package to install.
torch::Tensor read_idx_gz(const std::string& path);

std::unique_ptr<Dataset> make_fashion_mnist_dataset();

}  // namespace sigprop
