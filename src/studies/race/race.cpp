#include "studies/race/race.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gnuplot.h"
#include "core/run_folder.h"
#include "data/dataset.h"
#include "model/transformer.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop {
namespace {

// Trains (or reuses, or resumes) one run; returns its summary.
TrainSummary train_one(const ModelSpec& spec, const TrainConfig& config, const std::string& dir,
                       const RaceOptions& o, const std::atomic<bool>* stop) {
  TrainSummary done;
  auto trainer = Trainer::open(spec, config, dir, o.device, &done, o.comm);
  return trainer ? trainer->run(stop) : done;
}

// "post-ln[residual=1/sqrt(L)]" -> a folder name: labels may hold '/' and spaces.
std::string folder_name(std::string label) {
  std::replace_if(label.begin(), label.end(), [](char c) { return c == '/' || c == ' '; }, '_');
  return label;
}

// A sweep cell's numbers: each row's, named after the row's preset when there are several.
Json race_headline(const std::vector<RaceRow>& rows) {
  const auto num = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  Json h = Json::object();
  for (const auto& r : rows) {
    const std::string p = rows.size() == 1 ? "" : r.preset + ":";
    h[p + "lr"] = r.lr, h[p + "status"] = r.status, h[p + "steps"] = r.step, h[p + "seeds"] = r.seeds;
    h[p + "train_loss"] = num(r.train_loss), h[p + "val_loss"] = num(r.val_loss);
  }
  return h;
}

}  // namespace

void validate(const RaceOptions& o) {
  o.config.validate();
  if (o.seeds < 1) throw ConfigError("--seeds must be >= 1");
  if (o.confirm_seeds < 0) throw ConfigError("--confirm-seeds must be >= 0");
  if (o.specs.empty()) throw ConfigError("a race needs at least one model");
  for (const auto& s : o.specs) {
    try {
      check_buildable(s);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{} at depth {}: {}", s.name, s.depth, e.what()));
    }
  }
  for (double lr : o.lr_grid)
    if (!(lr > 0)) throw ConfigError(fmt::format("--lr-grid {} is not allowed: rates are > 0", lr));
}

RaceResult run_race(const RaceOptions& o, const LogFn& log, const std::atomic<bool>* stop) {
  validate(o);
  const bool lead = !o.comm || o.comm->rank() == 0;
  const LogFn say = lead ? or_silent(log) : or_silent(nullptr);
  const std::vector<double> grid = o.lr_grid.empty() ? std::vector<double>{o.config.lr} : o.lr_grid;
  RaceResult result;
  result.reach_step = o.reach_step > 0 ? o.reach_step : o.config.steps;
  const int total = int(o.specs.size()) * (int(grid.size()) * o.seeds + o.confirm_seeds);
  int done = 0;
  const auto start = std::chrono::steady_clock::now();

  // The seeds of one (spec, lr) so far: the row is their mean.
  struct Seeds {
    RaceRow row;
    std::vector<LossCurve> curves;
    double train_sum = 0, val_sum = 0;
  };
  // Trains seeds [first, first + count) of (spec, lr) into `acc`; false when interrupted.
  auto train_seeds = [&](const ModelSpec& spec, double lr, int first, int count, Seeds& acc) {
    for (int seed = first; seed < first + count; ++seed) {
      TrainConfig c = o.config;
      c.lr = lr, c.seed = uint64_t(seed);
      const std::string dir =
          fmt::format("{}/runs/{}/lr{:.3g}/seed{}", o.out, folder_name(spec.name), lr, seed);
      const std::string what = fmt::format("{}/{} {} lr {:.3g} seed {}", ++done, total, spec.name, lr, seed);
      say(what + ": training");
      const TrainSummary s = train_one(spec, c, dir, o, stop);
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      say(fmt::format("{}: {} at step {}, train {:.4f}, val {:.4f} ({})", what, s.status, s.step,
                      s.train_loss, s.val_loss, elapsed_and_eta(elapsed, done, total - done)));
      if (s.status == "interrupted") return false;
      if (!lead) continue;  // rank 0 wrote the run's files; the race's are its to write
      if (s.status != "completed") acc.row.status = s.status;
      acc.row.step = std::min(acc.row.step, s.step);
      acc.train_sum += s.train_loss;
      acc.val_sum += s.val_loss;
      acc.curves.push_back(read_loss_curve(dir + "/train.jsonl"));
    }
    if (lead) {
      const double n = double(acc.curves.size());
      acc.row.seeds = int(acc.curves.size());
      acc.row.train_loss = acc.train_sum / n;
      acc.row.val_loss = acc.val_sum / n;
      acc.row.curve = o.measure.apply(mean_curve(acc.curves));
    }
    return true;
  };

  for (const auto& spec : o.specs) {
    Seeds chosen;
    double chosen_score = std::numeric_limits<double>::infinity();
    for (double lr : grid) {
      Seeds acc;
      acc.row.preset = spec.name, acc.row.lr = lr, acc.row.status = "completed";
      acc.row.step = std::numeric_limits<int64_t>::max();
      if (!train_seeds(spec, lr, 0, o.seeds, acc)) {
        result.interrupted = true;
        return result;
      }
      const double score = acc.row.status == "completed" && std::isfinite(acc.row.val_loss)
                               ? acc.row.val_loss
                               : std::numeric_limits<double>::infinity();
      if (score < chosen_score || chosen.row.preset.empty()) chosen = acc, chosen_score = score;
    }
    // More seeds at the chosen rate alone: the lr is picked on the first seeds, then confirmed.
    // Rank 0 alone knows the losses, so its choice is the one every rank trains.
    if (o.confirm_seeds > 0 && o.comm)
      chosen.row.lr = std::stod(o.comm->broadcast("race-confirm-lr-" + spec.name,
                                                  fmt::format("{:.17g}", chosen.row.lr)));
    if (o.confirm_seeds > 0 && !train_seeds(spec, chosen.row.lr, o.seeds, o.confirm_seeds, chosen)) {
      result.interrupted = true;
      return result;
    }
    if (lead) result.best.push_back(chosen.row);
  }
  if (!lead) return result;
  result.target = measure_reach(result.best, o.reference, result.reach_step);

  fs::create_directories(o.out);
  Json meta = run_metadata("race");
  meta["train"] = train_config_to_json(o.config);
  meta["depth"] = o.specs.front().depth;
  meta["seeds"] = o.seeds;
  meta["confirm_seeds"] = o.confirm_seeds;
  meta["lr_grid"] = grid;
  meta["reference"] = {{"preset", o.reference}, {"step", result.reach_step}, {"loss", result.target},
                       {"measure", o.measure.label()}};
  for (const auto& spec : o.specs) meta["configs"].push_back(spec_to_json(spec));
  meta["headline"] = race_headline(result.best);
  write_file_atomic(o.out + "/race.csv", race_csv(result.best));
  write_file_atomic(o.out + "/run.json", meta.dump(2) + "\n");
  render_plot(race_plot_script(result.best, o.measure, result.target,
                               fmt::format("{} at depth {}, width {}: training loss", o.config.data,
                                           o.specs.front().depth, o.specs.front().width)),
              o.out + "/race", 1000, 650);
  return result;
}

}  // namespace sigprop
