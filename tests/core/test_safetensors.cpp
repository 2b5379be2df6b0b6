// The safetensors reader and writer against a file built byte by byte from the format's
// definition (8-byte little-endian header length, JSON header, raw little-endian data), and
// every way a file can be broken.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/safetensors.h"

using namespace sigprop;

namespace {

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
  return s;
}

// A file as the format defines it, with the header given as text.
std::string file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string f32(float v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);  // x86: little-endian already
  return s;
}

const std::string kHeader =
    R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
    R"("ids":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},)"
    R"("flag":{"dtype":"BOOL","shape":[],"data_offsets":[24,25]}})";
const std::string kData = f32(1.5f) + f32(-2.f) + f32(0.25f) + f32(8.f) + le64(42) + std::string(1, '\1');

std::string error_of(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "x.safetensors");
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, ReadsAFileBuiltByHand) {
  const auto st = parse_safetensors(file(kHeader, kData), "hand.safetensors");
  ASSERT_EQ(st.tensors.size(), 3u);
  EXPECT_EQ(st.tensors[0].first, "w");  // data order
  EXPECT_TRUE(torch::equal(st.tensors[0].second, torch::tensor({{1.5f, -2.f}, {0.25f, 8.f}})));
  EXPECT_EQ(st.tensors[1].second.scalar_type(), torch::kLong);
  EXPECT_EQ(st.tensors[1].second.item<int64_t>(), 42);
  EXPECT_EQ(st.tensors[2].second.dim(), 0);
  EXPECT_TRUE(st.tensors[2].second.item<bool>());
  EXPECT_EQ(st.metadata.at("format"), "pt");
}

TEST(Safetensors, WritesWhatItReadsAndTheLayoutOfTheFormat) {
  SafeTensors st;
  st.tensors = {{"a", torch::arange(6, torch::kDouble).view({2, 3})},
                {"b.weight", torch::randn({3, 4}).t()},  // not contiguous: written row-major
                {"h", torch::ones({2}, torch::kHalf)}};
  st.metadata = {{"producer", "test"}};
  const std::string bytes = safetensors_bytes(st);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);                        // padded so the data is aligned
  EXPECT_EQ(bytes.size(), 8 + n + 48 + 48 + 4);  // every byte accounted for
  EXPECT_EQ(bytes.substr(8, 1), "{");
  const auto back = parse_safetensors(bytes, "round trip");
  ASSERT_EQ(back.tensors.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.tensors[i].first, st.tensors[i].first);
    EXPECT_TRUE(torch::equal(back.tensors[i].second, st.tensors[i].second)) << st.tensors[i].first;
  }
  EXPECT_EQ(back.metadata.at("producer"), "test");
  // The tensor data after the header is the tensors' own bytes, back to back.
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + n, st.tensors[0].second.data_ptr(), 48), 0);
}

TEST(Safetensors, BrokenFilesSayWhatIsWrong) {
  const std::string good = file(kHeader, kData);
  ASSERT_EQ(error_of(good), "");
  EXPECT_NE(error_of(good.substr(0, 5)).find("fewer than the 8"), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, 40)).find("runs past the end"), std::string::npos);
  // Truncated anywhere in the data: the tensors no longer fit.
  for (size_t cut : {size_t(1), size_t(9), size_t(24)})
    EXPECT_NE(error_of(good.substr(0, good.size() - cut)).find("x.safetensors is not a safetensors file"),
              std::string::npos) << cut;
  EXPECT_NE(error_of(good + "junk").find("bytes after the last tensor"), std::string::npos);
  EXPECT_NE(error_of(file("[1,2]", "")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(file("{\"w\":", "")).find("header is not JSON"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"w":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}})", f32(1)))
                .find("known: F64"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", f32(1)))
                .find("needs 8 bytes, its offsets hold 4"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", f32(1)))
                .find("lie outside"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f32(1)))
                .find("inside the tensor before it"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32(1) + f32(2)))
                .find("leaving a gap"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", f32(1)))
                .find("not a list of sizes"), std::string::npos);
  // A shape whose element count overflows 64 bits is refused, not wrapped around.
  EXPECT_NE(error_of(file(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776,16],)"
                          R"("data_offsets":[0,0]}})", "")).find("needs more"), std::string::npos);
  EXPECT_NE(error_of(file(R"({"__metadata__":{"a":1}})", "")).find("not a string"), std::string::npos);
}

TEST(Safetensors, RefusesWhatItCannotWrite) {
  SafeTensors st;
  st.tensors = {{"c", torch::zeros({2}, torch::kComplexFloat)}};
  EXPECT_THROW(safetensors_bytes(st), ConfigError);
  st.tensors = {{"a", torch::zeros({1})}, {"a", torch::zeros({1})}};
  EXPECT_THROW(safetensors_bytes(st), ConfigError);
}
