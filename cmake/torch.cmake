# LibTorch from the `torch` installed in ${Python3_EXECUTABLE} (the project's .venv, or the
# environment pip builds sigprop in): target sigprop_torch, and
#   SIGPROP_TORCH_VERSION   e.g. 2.11.0, checked against the supported range below;
#   SIGPROP_CUDA            ON when torch is a CUDA build and the CUDA runtime's headers are found:
#                           the CUDA code paths (NCCL process group, CUDA streams) are compiled in.
# The target is made by hand rather than by find_package(Torch): for a CUDA wheel TorchConfig
# insists on a local CUDA toolkit with cuDNN and NVTX even to build CPU code, while the wheel's own
# nvidia-* packages already hold every header sigprop needs, at the versions torch was built with.

# The supported range, [MIN, BELOW): one place for the build and the import-time check
# (python/_build_info.py.in); pyproject.toml states the same for pip.
set(SIGPROP_TORCH_MIN 2.4)     # torch.amp's per-device autocast API in C++ (at::autocast::*(device))
set(SIGPROP_TORCH_BELOW 3.0)

execute_process(COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/torch_info.py
                OUTPUT_FILE ${CMAKE_BINARY_DIR}/torch_info.cmake
                ERROR_VARIABLE torch_error RESULT_VARIABLE torch_rc)
if(NOT torch_rc EQUAL 0)
  string(STRIP "${torch_error}" torch_error)
  message(FATAL_ERROR "sigprop builds against the torch of ${Python3_EXECUTABLE}, which cannot "
    "import it (${torch_error}). Install torch >= ${SIGPROP_TORCH_MIN}, < ${SIGPROP_TORCH_BELOW} "
    "there, or run scripts/install-deps.sh (it makes .venv with the pinned torch of requirements.txt).")
endif()
include(${CMAKE_BINARY_DIR}/torch_info.cmake)
if(SIGPROP_TORCH_VERSION VERSION_LESS SIGPROP_TORCH_MIN OR
   NOT SIGPROP_TORCH_VERSION VERSION_LESS SIGPROP_TORCH_BELOW)
  message(FATAL_ERROR "torch ${SIGPROP_TORCH_VERSION_FULL} (in ${Python3_EXECUTABLE}) is outside the "
    "range sigprop supports: >= ${SIGPROP_TORCH_MIN}, < ${SIGPROP_TORCH_BELOW}.")
endif()
message(STATUS "sigprop: torch ${SIGPROP_TORCH_VERSION_FULL} from ${SIGPROP_TORCH_DIR}")

set(lib ${SIGPROP_TORCH_DIR}/lib)
add_library(sigprop_torch INTERFACE)
target_include_directories(sigprop_torch SYSTEM INTERFACE
  ${SIGPROP_TORCH_DIR}/include ${SIGPROP_TORCH_DIR}/include/torch/csrc/api/include)
target_compile_definitions(sigprop_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${SIGPROP_TORCH_CXX11_ABI})
target_link_libraries(sigprop_torch INTERFACE ${lib}/libtorch_cpu.so ${lib}/libc10.so)
# The wheel's libraries find each other through $ORIGIN; sigprop's binaries find them here.
set(SIGPROP_RPATH ${lib})

option(SIGPROP_CUDA "compile the CUDA paths when torch is a CUDA build" ON)
set(cuda_headers "")
if(SIGPROP_CUDA AND SIGPROP_TORCH_CUDA)
  find_path(SIGPROP_CUDA_RUNTIME_INCLUDE cuda_runtime_api.h
            HINTS ${SIGPROP_NVIDIA_INCLUDE_DIRS} /usr/local/cuda/include NO_DEFAULT_PATH)
  find_path(SIGPROP_NCCL_INCLUDE nccl.h
            HINTS ${SIGPROP_NVIDIA_INCLUDE_DIRS} /usr/local/cuda/include /usr/include NO_DEFAULT_PATH)
  if(SIGPROP_CUDA_RUNTIME_INCLUDE AND SIGPROP_NCCL_INCLUDE)
    list(APPEND cuda_headers ${SIGPROP_CUDA_RUNTIME_INCLUDE} ${SIGPROP_NCCL_INCLUDE})
  endif()
endif()
if(cuda_headers)
  list(REMOVE_DUPLICATES cuda_headers)
  target_include_directories(sigprop_torch SYSTEM INTERFACE ${cuda_headers})
  target_compile_definitions(sigprop_torch INTERFACE SIGPROP_CUDA=1)
  # Linked even where no symbol is used directly, so the command registers the CUDA device.
  target_link_libraries(sigprop_torch INTERFACE
    -Wl,--no-as-needed ${lib}/libtorch_cuda.so ${lib}/libc10_cuda.so -Wl,--as-needed)
  list(APPEND SIGPROP_RPATH ${SIGPROP_NVIDIA_LIB_DIRS})
  message(STATUS "sigprop: CUDA ${SIGPROP_TORCH_CUDA} paths compiled (headers: ${cuda_headers})")
  set(SIGPROP_CUDA ON)
else()
  if(SIGPROP_TORCH_CUDA)
    message(STATUS "sigprop: torch is a CUDA ${SIGPROP_TORCH_CUDA} build but the CUDA runtime or "
                   "NCCL headers were not found: CPU paths only")
  endif()
  set(SIGPROP_CUDA OFF)
endif()
# fmt: the wheel ships its own fmt headers in torch/include, which shadow any other fmt on the
# include path (and c10d's headers include them), so sigprop uses that fmt, header-only: one fmt
# in the process, the one torch was built with. Target sigprop_fmt.
add_library(sigprop_fmt INTERFACE)
if(EXISTS ${SIGPROP_TORCH_DIR}/include/fmt/format-inl.h)
  target_compile_definitions(sigprop_fmt INTERFACE FMT_HEADER_ONLY=1)
  target_link_libraries(sigprop_fmt INTERFACE sigprop_torch)
else()
  find_package(fmt REQUIRED)
  target_link_libraries(sigprop_fmt INTERFACE fmt::fmt)
endif()

# Where the linker looks for the libraries the wheel's libraries need (libcudart, libnccl, ...).
target_link_options(sigprop_torch INTERFACE "LINKER:-rpath-link,$<JOIN:${SIGPROP_RPATH},:>")
