"""Writes, as CMake `set()` lines, what sigprop's build needs to know of the torch installed in
this interpreter: its version, where its headers and libraries are, its C++ ABI, and for a CUDA
build the CUDA version and the headers and libraries of the NVIDIA packages it was installed with.
Run by cmake/torch.cmake; prints a one-line reason and exits 1 when torch cannot be imported."""
import glob
import os
import sys

try:
    import torch
except Exception as e:  # noqa: BLE001 - any failure to import is reported the same way
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)


def cmake_list(paths):
    return ";".join(p.replace("\\", "/") for p in paths)


root = os.path.dirname(torch.__file__)
site = os.path.dirname(root)
nvidia = os.path.join(site, "nvidia")
cuda = torch.version.cuda or ""
lines = {
    "SIGPROP_TORCH_VERSION": torch.__version__.split("+")[0],
    "SIGPROP_TORCH_VERSION_FULL": torch.__version__,
    "SIGPROP_TORCH_DIR": root,
    "SIGPROP_TORCH_CXX11_ABI": str(int(torch._C._GLIBCXX_USE_CXX11_ABI)),
    "SIGPROP_TORCH_CUDA": cuda,
    # The CUDA runtime's and NCCL's headers and libraries as the wheel's own dependencies installed
    # them (site-packages/nvidia/*): the exact versions its libtorch_cuda was built against.
    "SIGPROP_NVIDIA_INCLUDE_DIRS": cmake_list(sorted(glob.glob(os.path.join(nvidia, "*", "include")))) if cuda else "",
    "SIGPROP_NVIDIA_LIB_DIRS": cmake_list(sorted(glob.glob(os.path.join(nvidia, "*", "lib")))) if cuda else "",
}
for key, value in lines.items():
    print(f'set({key} "{value}")')
