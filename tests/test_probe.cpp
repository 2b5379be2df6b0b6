// The probe on real KJV text shows the depth effect the papers describe, and the data it reads.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "config/presets.h"
#include "data/kjv.h"
#include "probe/probe.h"
#include "report/probe_report.h"

using namespace sigprop;

namespace {

// Seed-mean final-layer cosine per (preset, depth).
std::map<std::pair<std::string, int>, double> final_cosines(const std::vector<ProbeRow>& rows) {
  std::map<std::pair<std::string, int>, double> out;
  for (const auto& g : average_over_seeds(rows))
    if (g.layer == g.depth) out[{g.preset, g.depth}] = g.m.cosine;
  return out;
}

}  // namespace

TEST(Probe, PostNormCollapsesWithDepthAndScalingPreventsIt) {
  ProbePlan plan;
  plan.specs = {load_preset("post-ln"), load_preset("post-ln-scaled")};
  for (auto& s : plan.specs) s.width = 64;
  plan.depths = {1, 4, 16, 64};
  plan.seeds = {0, 1};
  plan.input = ProbeInput::KJV;
  plan.seq = 32, plan.batch = 4;
  auto rows = run_probe_plan(plan);
  ASSERT_EQ(rows.size(), 2u * 2u * (2 + 5 + 17 + 65));
  auto c = final_cosines(rows);
  auto post = [&](int d) { return c.at({"post-ln", d}); };
  auto scaled = [&](int d) { return c.at({"post-ln-scaled", d}); };
  EXPECT_LT(post(1), post(4));
  EXPECT_LT(post(4), post(16));
  EXPECT_GT(post(64), 0.95);
  for (int d : {16, 64}) EXPECT_LT(scaled(d), post(d) - 0.3) << d;
  for (const auto& r : rows) {
    EXPECT_TRUE(std::isfinite(r.m.cosine) && std::isfinite(r.m.stable_rank));
    if (r.m.layer > 0) EXPECT_FALSE(std::isnan(r.m.attn_sigma1) || std::isnan(r.m.grad_q));
  }
}

TEST(Probe, SameBatchForEveryPresetOfASeed) {
  auto corpus = load_kjv();
  auto a = make_probe_batch(ProbeInput::KJV, 64, 3, 16, 5, &corpus);
  auto b = make_probe_batch(ProbeInput::KJV, 128, 3, 16, 5, &corpus);
  auto c = make_probe_batch(ProbeInput::KJV, 64, 3, 16, 6, &corpus);
  EXPECT_TRUE(torch::equal(a.input, b.input));
  EXPECT_FALSE(torch::equal(a.input, c.input));
  EXPECT_TRUE(torch::equal(a.input.narrow(1, 1, 15), a.target.narrow(1, 0, 15)));  // next chars
  auto iso = make_probe_batch(ProbeInput::Isometric, 32, 2, 8, 0, nullptr);
  auto gram = torch::matmul(iso.input, iso.input.transpose(1, 2)) / 32.0;
  EXPECT_TRUE(torch::allclose(gram, torch::eye(8).expand({2, 8, 8}), 1e-4, 1e-5));
}

TEST(Kjv, StripsHeadersAndVerseNumbers) {
  const std::string listing = "\nGenesis 1\n\n  1 In the beginning God created.\n  12 And so.\n1 John 2\n  3 Hereby.\n";
  EXPECT_EQ(strip_kjv_listing(listing), "In the beginning God created.\nAnd so.\nHereby.\n");
}

TEST(Kjv, CorpusIsTheWholeBible) {
  auto corpus = load_kjv();
  EXPECT_EQ(corpus.vocab.size(), 63u);  // letters, digits-free punctuation, space, newline
  EXPECT_GT(corpus.ids.size(0), 4'000'000);
  EXPECT_EQ(corpus.vocab.front(), '\n');
}
