// The advisor: each finding judged against its threshold with the penalty of advise.h, fixes as
// preset recipes applied to any config, the ranking on real probes (post-ln at depth 16 is
// collapsed and pre-LN is not), the confirming race, and the command line as a user runs it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "config/presets.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "studies/advise/advise.h"

namespace fs = std::filesystem;
using namespace sigprop;

namespace {

// L+1 rows of a healthy model: cosine 0.5, gq/gv 0.1, gap 2, even gradients, loss at chance.
std::vector<LayerMetrics> healthy(int depth, double chance) {
  std::vector<LayerMetrics> rows(depth + 1);
  for (int l = 0; l <= depth; ++l) {
    auto& m = rows[l];
    m.layer = l, m.cosine = 0.5, m.loss = chance;
    m.attn_sigma1 = 1, m.attn_sigma2 = 0.5, m.grad_q = 0.1, m.grad_v = 1;
  }
  return rows;
}

}  // namespace

TEST(Advise, HealthyModelHasNoFindingAndScoresZero) {
  const double chance = std::log(63.0);
  const Diagnosis d = diagnose({healthy(4, chance), healthy(4, chance)}, chance, {}, {});
  EXPECT_EQ(d.depth, 4);
  EXPECT_EQ(d.findings.size(), 6u);
  for (const auto& f : d.findings) EXPECT_FALSE(f.present) << f.name << ": " << f.text;
  EXPECT_EQ(d.score, 0.0);
  EXPECT_NEAR(d.finding("qk_starvation").value, 0.1, 1e-12);
  EXPECT_NEAR(d.finding("spectral_gap").value, 2.0, 1e-12);
}

TEST(Advise, EachFindingIsItsLogDistancePastTheThreshold) {
  const double chance = std::log(63.0);
  auto rows = healthy(4, chance);
  for (int l = 2; l <= 4; ++l) rows[l].cosine = 0.9995;  // passes 0.95 at block 2
  rows[4].grad_q = 1e-5;                                  // gq/gv = 1e-5: three decades below 1e-2
  rows[4].attn_sigma2 = 1e-2;                             // gap 100: one decade above 10
  rows[1].grad_v = 1000;                                  // spread 1000: two decades beyond 10
  for (auto& m : rows) m.loss = chance + 1.5;             // 1 nat past the 0.5 allowed
  AdviseThresholds at95;
  at95.collapse_cosine = 0.95;
  AdviseWeights all;  // every finding scored, the initial loss too (not scored by default)
  all.loss = 1;
  const Diagnosis d = diagnose({rows}, chance, at95, all);
  const auto& collapse = d.finding("rank_collapse");
  EXPECT_TRUE(collapse.present);
  EXPECT_EQ(collapse.block, 2);
  EXPECT_NEAR(collapse.penalty, std::log10(0.05 / 0.0005), 1e-9);
  EXPECT_NEAR(d.finding("qk_starvation").penalty, 3.0, 1e-9);
  EXPECT_NEAR(d.finding("spectral_gap").penalty, 1.0, 1e-9);
  EXPECT_NEAR(d.finding("gradient_spread").penalty, 2.0, 1e-9);
  EXPECT_NEAR(d.finding("initial_loss").penalty, 1.0, 1e-9);
  EXPECT_NEAR(d.score, -(2.0 + 3 + 1 + 2 + 1), 1e-9);
  // Weights scale each penalty; a zero weight drops a finding from the score but not the report.
  AdviseWeights w = all;
  w.gap = 0, w.qk = 0.5;
  const Diagnosis dw = diagnose({rows}, chance, at95, w);
  EXPECT_NEAR(dw.score, -(2.0 + 1.5 + 0 + 2 + 1), 1e-9);
  EXPECT_TRUE(dw.finding("spectral_gap").present);
  // The defaults report the initial loss without scoring it, and judge collapse at 0.9.
  const Diagnosis dd = diagnose({rows}, chance, {}, {});
  EXPECT_TRUE(dd.finding("initial_loss").present);
  EXPECT_NEAR(dd.finding("rank_collapse").penalty, std::log10(0.1 / 0.0005), 1e-9);
  EXPECT_NEAR(dd.score, -(std::log10(0.1 / 0.0005) + 3 + 1 + 2), 1e-9);
  // Gradient balance: |log10 spread| + |log10 gq/gv| = 3 (spread 1000) + 5 (gq/gv 1e-5).
  EXPECT_NEAR(d.balance, 8.0, 1e-9);
  // Thresholds move the judgement.
  AdviseThresholds t;
  t.gradient_spread = 1e4;
  EXPECT_FALSE(diagnose({rows}, chance, t, {}).finding("gradient_spread").present);
}

TEST(Advise, ZeroQueryGradientIsCappedAndNamedAndOverflowDominates) {
  auto rows = healthy(3, NAN);
  rows[3].grad_q = 0;
  Diagnosis d = diagnose({rows}, NAN, {}, {});
  EXPECT_EQ(d.finding("qk_starvation").penalty, kMaxPenalty);
  EXPECT_NE(d.finding("qk_starvation").text.find("zero"), std::string::npos);
  EXPECT_FALSE(d.finding("initial_loss").present);  // no chance loss: not judged
  auto bad = healthy(3, NAN);
  bad[2].finite = 0;
  d = diagnose({healthy(3, NAN), bad}, NAN, {}, {});
  EXPECT_TRUE(d.finding("non_finite").present);
  EXPECT_EQ(d.finding("non_finite").value, 1);
  EXPECT_FALSE(d.finite);
  EXPECT_LT(d.score, -9);
  EXPECT_THROW(diagnose({}, NAN, {}, {}), ConfigError);
  EXPECT_THROW(diagnose({healthy(3, NAN), healthy(2, NAN)}, NAN, {}, {}), ConfigError);
}

TEST(Advise, EqualScoresGoToTheBetterBalanceAndTheOrderSurvivesJson) {
  const double chance = std::log(63.0);
  auto even = healthy(4, chance), uneven = healthy(4, chance), starved = healthy(4, chance);
  for (auto& m : even) m.grad_q = 1, m.cosine = 0.6;  // gq/gv 1, spread 1: balance 0
  uneven[1].grad_v = 5;                                // spread 5 (within x10): balance log10 5 + 1
  starved[4].grad_q = 0;                               // qk penalty 4, balance +inf
  const Diagnosis a = diagnose({even}, chance, {}, {}), b = diagnose({uneven}, chance, {}, {});
  const Diagnosis c = diagnose({starved}, chance, {}, {});
  ASSERT_EQ(a.score, 0.0);
  ASSERT_EQ(b.score, 0.0);
  EXPECT_NEAR(a.balance, 0.0, 1e-12);
  EXPECT_NEAR(b.balance, std::log10(5.0) + 1, 1e-9);
  EXPECT_TRUE(std::isinf(c.balance));
  EXPECT_TRUE(ranks_before(a, b, TieBreak::Balance));
  EXPECT_FALSE(ranks_before(b, a, TieBreak::Balance));
  // By cosine the order flips: `even` sits at 0.6, `uneven` at 0.5.
  EXPECT_TRUE(ranks_before(b, a, TieBreak::Cosine));
  // A higher score wins whatever the tie-break.
  EXPECT_TRUE(ranks_before(b, c, TieBreak::Balance));
  EXPECT_FALSE(ranks_before(c, a, TieBreak::Cosine));
  // Through JSON (as the Python front ranks), infinity and the order are kept.
  const Diagnosis cj = diagnosis_from_json(diagnosis_to_json(c)), bj = diagnosis_from_json(diagnosis_to_json(b));
  EXPECT_TRUE(std::isinf(cj.balance));
  EXPECT_NEAR(bj.balance, b.balance, 1e-12);
  EXPECT_EQ(bj.score, b.score);
  EXPECT_TRUE(ranks_before(diagnosis_from_json(diagnosis_to_json(a)), bj, TieBreak::Balance));
  EXPECT_EQ(parse_tie_break("cosine"), TieBreak::Cosine);
  try {
    parse_tie_break("loss");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("balance, cosine"), std::string::npos) << e.what();
  }
  EXPECT_THROW(diagnosis_from_json(nlohmann::json{{"score", 0}}), ConfigError);
}

TEST(Advise, FixesArePresetRecipesAppliedToAnyConfig) {
  const auto pre = fix_recipe("pre-ln");
  ASSERT_EQ(pre.size(), 1u);
  EXPECT_EQ(pre[0], std::make_pair(std::string("norm"), std::string("pre")));
  // Every fix builds its own preset from post-ln, at any size.
  for (const auto& name : fix_names()) {
    ModelSpec base = load_preset("post-ln");
    base.depth = 12, base.width = 64;
    std::vector<std::string> changed;
    const ModelSpec fixed = apply_fix(base, name, &changed);
    ModelSpec expected = load_preset(name);
    expected.depth = 12, expected.width = 64;
    EXPECT_EQ(config_id(fixed), config_id(expected)) << name;
    EXPECT_FALSE(changed.empty()) << name;
    EXPECT_EQ(fixed.depth, 12);
  }
  // A model that has the fix already changes nothing.
  std::vector<std::string> changed{"x"};
  apply_fix(load_preset("pre-ln"), "pre-ln", &changed);
  EXPECT_TRUE(changed.empty());
  try {
    fix_recipe("post-ln-gap");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("gap-removed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fix_recipe("gap-removed-attn-only"), ConfigError);  // a paper's model, not a fix
}

TEST(Advise, RanksFixesForACollapsedPostLnStack) {
  AdviseOptions o;
  o.spec = load_preset("post-ln");
  o.spec.depth = 16, o.spec.width = 32, o.spec.heads = 2, o.spec.mlp_width = 64;
  o.seeds = 2, o.seq = 16, o.batch = 2;
  const Advice a = advise(o);
  const auto& collapse = a.as_is.diagnosis.finding("rank_collapse");
  EXPECT_TRUE(collapse.present) << collapse.text;
  EXPECT_LT(a.as_is.diagnosis.score, -1);
  ASSERT_GE(a.ranked.size(), 6u);
  for (size_t i = 1; i < a.ranked.size(); ++i)
    EXPECT_FALSE(ranks_before(a.ranked[i].diagnosis, a.ranked[i - 1].diagnosis, o.tie_break)) << i;
  const auto pre = std::find_if(a.ranked.begin(), a.ranked.end(), [](const auto& c) { return c.name == "pre-ln"; });
  ASSERT_NE(pre, a.ranked.end());
  EXPECT_FALSE(pre->diagnosis.finding("rank_collapse").present) << pre->diagnosis.finding("rank_collapse").text;
  EXPECT_GT(pre->diagnosis.score, a.as_is.diagnosis.score);
  EXPECT_EQ(pre->sets, std::vector<std::string>{"norm=pre"});
  const std::string text = advice_text(a, o);
  EXPECT_NE(text.find("recommended: "), std::string::npos) << text;
  EXPECT_NE(text.find("--set "), std::string::npos) << text;
  const auto j = advice_to_json(a, o);
  EXPECT_EQ(j["ranking"].size(), a.ranked.size());
  EXPECT_EQ(j["recommendation"], a.ranked.front().name);
  EXPECT_EQ(j["model"]["diagnosis"]["findings"][0]["name"], "rank_collapse");
}

TEST(Advise, PredictFirstLeavesOutOnlyFixesTheProbeFindsCollapsed) {
  AdviseOptions o;
  o.spec = load_preset("post-ln");
  o.spec.depth = 16, o.spec.width = 32, o.spec.heads = 2, o.spec.mlp_width = 64;
  o.seeds = 2, o.seq = 16, o.batch = 2;
  const Advice full = advise(o);
  o.predict_first = true;
  const Advice fast = advise(o);
  ASSERT_GT(fast.ruled_out, 0);
  EXPECT_EQ(fast.ranked.size() + fast.ruled_out, full.ranked.size());
  EXPECT_GT(fast.probe_seconds_saved, 0);
  // Each fix left out is one the probe finds collapsed; the rest keep their order.
  std::vector<std::string> kept;
  for (const auto& c : fast.ranked) kept.push_back(c.name);
  std::vector<std::string> full_order;
  for (const auto& c : full.ranked) {
    if (std::find(kept.begin(), kept.end(), c.name) != kept.end()) {
      full_order.push_back(c.name);
    } else {
      EXPECT_TRUE(c.diagnosis.finding("rank_collapse").present) << c.name << " was ruled out but trains";
      const auto why = std::find_if(fast.skipped.begin(), fast.skipped.end(),
                                    [&c](const auto& s) { return s.rfind(c.name + ":", 0) == 0; });
      ASSERT_NE(why, fast.skipped.end()) << c.name;
      EXPECT_NE(why->find("predicted final-layer cosine"), std::string::npos) << *why;
    }
  }
  EXPECT_EQ(full_order, kept);
  EXPECT_EQ(advice_to_json(fast, o)["predict_first"]["ruled_out"], fast.ruled_out);
}

TEST(Advise, ConfirmingRaceAttachesLossesAndBadOptionsAreRefused) {
  const auto dir = test::temp_dir("advise_race");
  AdviseOptions o;
  o.spec = load_preset("post-ln");
  o.spec.depth = 4, o.spec.width = 32, o.spec.heads = 2, o.spec.mlp_width = 64;
  o.seeds = 1, o.seq = 16, o.batch = 2;
  o.fixes = {"pre-ln", "post-ln-scaled"};
  o.train_steps = 10, o.confirm_top = 1;
  o.race.config.data = "synthetic", o.race.config.batch = 4, o.race.config.seq = 16;
  o.race.config.log_every = 5, o.race.config.eval_every = 0, o.race.config.eval_batches = 2;
  o.race.lr_grid = {1e-3};
  o.race.out = (dir / "race").string();
  const Advice a = advise(o);
  EXPECT_TRUE(std::isfinite(a.as_is.val_loss));
  EXPECT_TRUE(std::isfinite(a.ranked[0].val_loss));  // the top fix was raced
  EXPECT_TRUE(std::isnan(a.ranked[1].val_loss));     // the other was not
  EXPECT_TRUE(fs::exists(dir / "race" / "race.csv"));
  EXPECT_EQ(advice_to_json(a, o)["race"]["out"], o.race.out);

  AdviseOptions bad = o;
  bad.seeds = 0;
  EXPECT_THROW(advise(bad), ConfigError);
  bad = o, bad.fixes = {"pre-lm"};
  EXPECT_THROW(advise(bad), ConfigError);
  bad = o, bad.thresholds.collapse_cosine = 1.5;
  EXPECT_THROW(advise(bad), ConfigError);
  bad = o, bad.spec.activation = Activation::TatLeakyReLU, bad.spec.depth = 1;  // η out of reach
  EXPECT_THROW(advise(bad), ConfigError);
  fs::remove_all(dir);
}

TEST(Advise, CommandLineWritesAdviceAndRefusesBadInput) {
  const auto dir = test::temp_dir("advise_cli");
  const auto out = dir / "advice";
  const auto r = test::run_cli("advise --preset post-ln --depth 8 --width 32 --heads 2 --set mlp_width=64 "
                               "--seeds 1 --seq 16 --batch 2 --no-plot --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"advice.json", "advice.csv", "summary.txt", "run.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto j = nlohmann::json::parse(read_file((out / "advice.json").string()));
  EXPECT_EQ(j["model"]["name"], "post-ln[mlp_width=64]");  // labelled with its --set
  EXPECT_EQ(j["model"]["config"]["model"]["depth"], 8);
  EXPECT_FALSE(j["ranking"].empty());
  EXPECT_NE(r.output.find(j["ranking"][0]["name"].get<std::string>()), std::string::npos);
  const auto meta = nlohmann::json::parse(read_file((out / "run.json").string()));
  EXPECT_TRUE(meta["headline"].contains("score"));
  // report.html shows the advice: the verdict, the findings and the ranking.
  ASSERT_EQ(test::run_cli("report " + out.string()).code, 0);
  const std::string html = read_file((out / "report.html").string());
  EXPECT_NE(html.find("<h3>Advice</h3>"), std::string::npos);
  EXPECT_NE(html.find("rank_collapse"), std::string::npos);
  EXPECT_NE(html.find(j["ranking"][0]["name"].get<std::string>()), std::string::npos);
  const auto bad = dir / "bad";
  test::expect_rejected("advise --preset post-ln,pre-ln", "one model", bad);
  test::expect_rejected("advise --preset post-ln --fixes pre-lm", "unknown fix 'pre-lm'", bad);
  test::expect_rejected("advise --preset post-ln --weights 1,2", "--weights takes 5", bad);
  test::expect_rejected("advise --preset post-ln --qk-ratio 0", "--qk-ratio", bad);
  test::expect_rejected("advise --preset post-ln --depth 4 --set depth=8", "depth", bad);
  fs::remove_all(dir);
}
