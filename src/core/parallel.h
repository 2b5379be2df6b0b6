// Deterministic multithreading for Monte Carlo: work split into fixed-size chunks, each with its
// own random generator derived from (seed, chunk index), run on LibTorch's intra-op thread pool.
// Results depend on the seed and the chunk size only, never on the number of threads.
#pragma once

#include <cstdint>
#include <functional>

#include <ATen/core/Generator.h>

namespace sigprop {

// Calls body(index, begin, end) for the chunks [begin, end) of [0, total), in parallel. Torch
// ops inside the body run single-threaded (nested parallelism is serialised, MKL included); grad
// mode is off.
// The first exception thrown by a body is rethrown here.
void for_each_chunk(int64_t total, int64_t chunk,
                    const std::function<void(int64_t index, int64_t begin, int64_t end)>& body);

// CPU generator for chunk `index` of a run seeded with `seed` (SplitMix64 of both).
at::Generator chunk_generator(uint64_t seed, int64_t index);

}  // namespace sigprop
