"""Written by the build (CMakeLists.txt from python/_build_info.py.in): the torch this copy of
sigprop was compiled against and the range it supports."""
TORCH_BUILT = "2.11.0+cu130"
TORCH_MIN = "2.4"
TORCH_BELOW = "3.0"
CUDA = True
