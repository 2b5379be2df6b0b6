// The King James Bible as a character-level corpus, from Debian's bible-kjv package.
// The package stores the text compressed; its `bible` program prints it. The plain-text cache
// holds one verse per line, with book/chapter headers, verse numbers and blank lines removed.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

namespace sigprop {

// Folder of sigprop's data caches: $SIGPROP_DATA_DIR, else $XDG_CACHE_HOME/sigprop, else
// ~/.cache/sigprop.
std::string data_dir();
std::string kjv_cache_path();

// Builds the cache if missing (or when `force`), atomically; returns its path.
// Throws DataError naming the missing program/file and the package to install.
std::string prepare_kjv(bool force = false);

// Turns the `bible` program's output into the cache format (exposed for tests).
std::string strip_kjv_listing(const std::string& listing);

struct CharCorpus {
  std::string vocab;    // sorted distinct characters; token id = index in vocab
  torch::Tensor ids;    // (N) int64, the whole text encoded
};

// Loads (preparing if needed) and encodes the KJV cache; throws DataError if it is corrupt.
CharCorpus load_kjv();
CharCorpus encode_corpus(const std::string& text);

class Dataset;
// Next-character prediction on the KJV: the first 90% of the text trains, the last 10% is held
// out (evaluated on evenly spaced windows). The vocabulary is the corpus's (63 characters).
std::unique_ptr<Dataset> make_kjv_dataset(int64_t seq);

}  // namespace sigprop
