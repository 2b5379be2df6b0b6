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

}  // namespace

void validate(const RaceOptions& o) {
  o.config.validate();
  if (o.seeds < 1) throw ConfigError("--seeds must be >= 1");
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
  const int total = int(o.specs.size() * grid.size()) * o.seeds;
  int done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& spec : o.specs) {
    RaceRow chosen;
    double chosen_score = std::numeric_limits<double>::infinity();
    for (double lr : grid) {
      RaceRow row;
      row.preset = spec.name, row.lr = lr, row.status = "completed";
      row.step = std::numeric_limits<int64_t>::max();
      std::vector<LossCurve> curves;
      double train_sum = 0, val_sum = 0;
      for (int seed = 0; seed < o.seeds; ++seed) {
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
        if (s.status == "interrupted") {
          result.interrupted = true;
          return result;
        }
        if (!lead) continue;  // rank 0 wrote the run's files; the race's are its to write
        if (s.status != "completed") row.status = s.status;
        row.step = std::min(row.step, s.step);
        train_sum += s.train_loss;
        val_sum += s.val_loss;
        curves.push_back(read_loss_curve(dir + "/train.jsonl"));
      }
      row.train_loss = train_sum / o.seeds;
      row.val_loss = val_sum / o.seeds;
      row.curve = o.measure.apply(mean_curve(curves));
      const double score = row.status == "completed" && std::isfinite(row.val_loss)
                               ? row.val_loss
                               : std::numeric_limits<double>::infinity();
      if (score < chosen_score || chosen.preset.empty()) chosen = row, chosen_score = score;
    }
    if (lead) result.best.push_back(chosen);
  }
  if (!lead) return result;
  result.target = measure_reach(result.best, o.reference, result.reach_step);

  fs::create_directories(o.out);
  Json meta = run_metadata("race");
  meta["train"] = train_config_to_json(o.config);
  meta["depth"] = o.specs.front().depth;
  meta["seeds"] = o.seeds;
  meta["lr_grid"] = grid;
  meta["reference"] = {{"preset", o.reference}, {"step", result.reach_step}, {"loss", result.target},
                       {"measure", o.measure.label()}};
  for (const auto& spec : o.specs) meta["configs"].push_back(spec_to_json(spec));
  write_file_atomic(o.out + "/race.csv", race_csv(result.best));
  write_file_atomic(o.out + "/run.json", meta.dump(2) + "\n");
  render_plot(race_plot_script(result.best, o.measure, result.target,
                               fmt::format("{} at depth {}, width {}: training loss", o.config.data,
                                           o.specs.front().depth, o.specs.front().width)),
              o.out + "/race", 1000, 650);
  return result;
}

}  // namespace sigprop
