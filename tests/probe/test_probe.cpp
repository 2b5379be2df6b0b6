// The probe on real KJV text shows the depth effect the papers describe, and the data it reads.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "data/kjv.h"
#include "model/transformer.h"
#include "parity_files.h"
#include "probe/probe.h"
#include "probe/probe_report.h"

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

// sigprop's probe takes shortcuts (every token metric from one Gram matrix, singular values from
// eigenvalues of Gram matrices, a causal A's eigenvalues from its diagonal); bench/probe_peer.py
// computes each metric by its textbook definition (SVDs, a general eigensolver) on the same
// weights and batch. Every layer's every column must agree.
TEST(Probe, MetricsMatchTextbookDefinitionsInPyTorch) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"post-ln", {}},                                              // causal: triangular A
      {"post-ln", {"causal=false", "simremove=both"}},              // general eigensolver
      {"shaped", {}},                                               // negative entries: no entropy
      {"vanilla-vskipinit-tat", {"tat_eta=0.3"}},                   // A = I at init
      {"gap-removed-attn-only", {"causal=false", "positional=none"}},
  };
  const char* columns[] = {"cosine", "t_sim", "res", "stable_rank", "gram_stable_rank",
                           "centred_stable_rank",
                           "attn_sigma1", "attn_sigma2", "attn_lambda2", "attn_entropy",
                           "grad_q", "grad_k", "grad_v", "grad_o", "grad_mlp", "loss"};
  int n = 0;
  for (const auto& [preset, overrides] : cases) {
    ModelSpec spec = load_preset(preset);
    spec.depth = 4, spec.width = 32, spec.mlp_width = spec.mlp_width ? 48 : 0, spec.vocab_size = 11;
    spec.max_seq = 16;
    for (const auto& o : overrides) apply_override(spec, o);
    spec.validate();
    torch::manual_seed(3 + n);
    Transformer model(spec);
    const ProbeBatch batch{torch::randint(0, spec.vocab_size, {3, 12}, torch::kLong),
                           torch::randint(0, spec.vocab_size, {3, 12}, torch::kLong)};
    const auto dir = std::filesystem::temp_directory_path() / ("sigprop_probe_parity_" + std::to_string(n++));
    test::write_parity_inputs(dir, *model, batch.input, batch.target);
    const std::string cmd = std::string(SIGPROP_PYTHON) + " " + SIGPROP_TEST_DIR +
                            "/../bench/probe_peer.py --parity " + dir.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "peer failed: " << cmd;
    const auto ref = nlohmann::json::parse(read_file(dir / "probe_reference.json")).at("layers");
    const auto ours = probe_model(*model, batch);
    ASSERT_EQ(ours.size(), ref.size());
    for (size_t l = 0; l < ours.size(); ++l) {
      const auto& m = ours[l];
      const double values[] = {m.cosine, m.t_sim, m.res, m.stable_rank, m.gram_stable_rank,
                               m.centred_stable_rank,
                               m.attn_sigma1, m.attn_sigma2, m.attn_lambda2, m.attn_entropy,
                               m.grad_q, m.grad_k, m.grad_v, m.grad_o, m.grad_mlp, m.loss};
      for (size_t c = 0; c < std::size(columns); ++c) {
        const auto& r = ref[l].at(columns[c]);
        const std::string where = preset + " layer " + std::to_string(l) + " " + columns[c];
        if (r.is_null()) {
          EXPECT_TRUE(std::isnan(values[c])) << where;
          continue;
        }
        // float32 models: the two sides' hidden states differ in the last bits.
        EXPECT_NEAR(values[c], r.get<double>(), 2e-5 * (1 + std::abs(r.get<double>()))) << where;
      }
    }
    std::filesystem::remove_all(dir);
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
