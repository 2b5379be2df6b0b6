#include "core/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace sigprop {

// Compiled with OpenMP (CMakeLists.txt): the chunks are the only parallel level. Each worker sets
// its own OpenMP thread count to 1, so LibTorch's kernels called from it run serially even in a
// team of one: nested teams on a busy machine cost far more in barriers than they gain.
void for_each_chunk(int64_t total, int64_t chunk,
                    const std::function<void(int64_t, int64_t, int64_t)>& body) {
  if (total <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  const int64_t chunks = (total + chunk - 1) / chunk;
  std::exception_ptr error;
  std::mutex error_mutex;
  const int threads = int(std::min<int64_t>(chunks, std::max(1, at::get_num_threads())));
  (void)threads;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t c = 0; c < chunks; ++c) {
#ifdef _OPENMP
    omp_set_num_threads(1);  // this implicit task only; the caller's setting is untouched
#endif
    torch::NoGradGuard no_grad;
    try {
      body(c, c * chunk, std::min(total, (c + 1) * chunk));
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

at::Generator chunk_generator(uint64_t seed, int64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + uint64_t(index) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return at::detail::createCPUGenerator(z ^ (z >> 31));
}

}  // namespace sigprop
