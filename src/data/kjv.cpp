#include "data/kjv.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {
namespace {

constexpr const char* kBibleProgram = "/usr/bin/bible";
constexpr const char* kBibleData = "/usr/lib/bible.data";
constexpr const char* kInstallHint = "install it with: sudo apt-get install bible-kjv";
constexpr int kVerses = 31102;  // verses in the KJV (Genesis 1:1 .. Revelation 22:21)

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    ::mkdir(path.substr(0, pos).c_str(), 0755);
  }
  if (!exists(path)) throw DataError("cannot create data folder " + path);
}

std::string run_bible_program() {
  const std::string cmd = std::string(kBibleProgram) + " -l0 'gen1:1-rev22:21' 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw DataError("cannot run " + std::string(kBibleProgram));
  std::string out;
  std::array<char, 65536> buf{};
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  if (::pclose(pipe) != 0) throw DataError(std::string(kBibleProgram) + " failed; " + kInstallHint);
  return out;
}

}  // namespace

std::string data_dir() {
  if (const char* d = std::getenv("SIGPROP_DATA_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/sigprop";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/sigprop";
}

std::string kjv_cache_path() { return data_dir() + "/kjv.txt"; }

std::string strip_kjv_listing(const std::string& listing) {
  // Verse lines look like "  12 text"; headers ("Genesis 1") and blank lines are dropped.
  std::istringstream in(listing);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    size_t i = line.find_first_not_of(' ');
    if (i == std::string::npos || i == 0 || !std::isdigit(static_cast<unsigned char>(line[i])))
      continue;
    size_t j = line.find_first_not_of("0123456789", i);
    if (j == std::string::npos || line[j] != ' ') continue;
    out.append(line, j + 1, std::string::npos);
    out.push_back('\n');
  }
  return out;
}

std::string prepare_kjv(bool force) {
  const std::string path = kjv_cache_path();
  if (!force && exists(path)) return path;
  if (!exists(kBibleProgram) || !exists(kBibleData))
    throw DataError(std::string("the KJV text needs ") + kBibleProgram + " and " + kBibleData +
                    " from Debian's bible-kjv package; " + kInstallHint);
  const std::string text = strip_kjv_listing(run_bible_program());
  const auto verses = std::count(text.begin(), text.end(), '\n');
  if (verses != kVerses)
    throw DataError(std::string(kBibleProgram) + " printed " + std::to_string(verses) +
                    " verses, expected " + std::to_string(kVerses) + "; reinstall bible-kjv");
  make_dirs(data_dir());
  write_file_atomic(path, text);
  return path;
}

CharCorpus encode_corpus(const std::string& text) {
  std::set<char> chars(text.begin(), text.end());
  CharCorpus c;
  c.vocab.assign(chars.begin(), chars.end());
  std::array<int64_t, 256> index{};
  for (size_t i = 0; i < c.vocab.size(); ++i) index[static_cast<unsigned char>(c.vocab[i])] = int64_t(i);
  c.ids = torch::empty({static_cast<int64_t>(text.size())}, torch::kLong);
  auto* p = c.ids.data_ptr<int64_t>();
  for (size_t i = 0; i < text.size(); ++i) p[i] = index[static_cast<unsigned char>(text[i])];
  return c;
}

CharCorpus load_kjv() {
  const std::string path = prepare_kjv();
  const std::string text = read_file(path);
  if (text.size() < 1'000'000 || text.back() != '\n')
    throw DataError(path + " is truncated or corrupt (" + std::to_string(text.size()) +
                    " bytes); rebuild it with: sigprop data prepare --force");
  return encode_corpus(text);
}

}  // namespace sigprop
