#include "core/parallel.h"

#include <dlfcn.h>

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
namespace {

// MKL (the x86-64 wheels' BLAS and LAPACK) on one thread for the calling thread while alive, through
// its exported mkl_set_num_threads_local (the wheels export the Fortran-convention entry, which
// takes its argument by pointer, under every alias); nothing where the wheel has no MKL. Without it, QRs run
// concurrently by the chunks' threads each start MKL's threaded geqrf, whose task scheduler then
// spins forever on a nested team of one (seen with torch 2.11: TheoryMarkov hung in dgeqrf).
class SerialMkl {
 public:
  SerialMkl() : set_(setter()) {
    int one = 1;
    if (set_) before_ = set_(&one);
  }
  ~SerialMkl() {
    if (set_) set_(&before_);
  }
  SerialMkl(const SerialMkl&) = delete;
  SerialMkl& operator=(const SerialMkl&) = delete;

 private:
  using Set = int (*)(const int*);
  static Set setter() {
    static const Set set = reinterpret_cast<Set>(::dlsym(RTLD_DEFAULT, "mkl_set_num_threads_local"));
    return set;
  }
  Set set_;
  int before_ = 0;
};

}  // namespace

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
    SerialMkl serial_mkl;
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
