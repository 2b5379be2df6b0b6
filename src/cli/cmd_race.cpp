// `sigprop race`: trains several presets on the same data, seeds and budget, each at its best
// learning rate from a grid, and compares their loss curves. Resumable: finished runs are reused,
// interrupted ones continue from their checkpoints.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/model_options.h"
#include "cli/train_options.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/run_folder.h"
#include "core/runtime.h"
#include "report/gnuplot.h"
#include "report/race_report.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace sigprop::cli {
namespace {

struct RaceArgs {
  ModelOptions model;
  TrainConfig config;
  int depth = 32, seeds = 1;
  std::vector<double> lr_grid;
  std::string reference = "pre-ln", out = "runs/race", device = "cpu";
  int64_t reach_step = 0;  // 0 = the last step
  RaceMeasure measure;
};

const std::vector<std::string> kDefaultRace = {"post-ln", "pre-ln", "post-ln-simremove",
                                               "post-ln-scaled", "shaped", "vanilla-espa-tat",
                                               "vanilla-vskipinit-tat"};

// Trains (or reuses, or resumes) one run; returns its summary.
TrainSummary train_one(const ModelSpec& spec, const TrainConfig& config, const std::string& dir,
                       const torch::Device& device, const std::atomic<bool>* stop) {
  if (fs::exists(dir + "/run.json")) {
    const Json meta = Json::parse(read_file(dir + "/run.json"));
    ModelSpec adapted = spec;
    make_dataset(config.data, config.seq)->adapt(adapted);
    if (meta.at("config") != spec_to_json(adapted) || meta.at("train") != train_config_to_json(config))
      throw ConfigError(dir + " holds a run with a different configuration; use another --out");
    if (fs::exists(dir + "/summary.json")) {
      const Json s = Json::parse(read_file(dir + "/summary.json"));
      if (s.at("status") != "interrupted") {
        TrainSummary out;
        out.status = s.at("status");
        out.step = s.at("step");
        out.train_loss = s["train_loss"].is_number() ? s["train_loss"].get<double>() : NAN;
        out.val_loss = s["val_loss"].is_number() ? s["val_loss"].get<double>() : NAN;
        return out;
      }
    }
    return Trainer::resume(dir, 0, device)->run(stop);
  }
  return Trainer(spec, config, dir, device).run(stop);
}

void run(RaceArgs& a) {
  const torch::Device device = parse_device(a.device);
  a.config.validate();
  if (a.seeds < 1) throw ConfigError("--seeds must be >= 1");
  refuse_set_depth(a.model);  // --depth (default 32) sets every model's depth
  auto specs = resolve_specs(a.model, kDefaultRace);
  for (auto& s : specs) {
    s.depth = a.depth;
    try {
      s.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{} at depth {}: {}", s.name, a.depth, e.what()));
    }
  }
  const std::vector<double> grid = a.lr_grid.empty() ? std::vector<double>{a.config.lr} : a.lr_grid;
  for (double lr : grid)
    if (!(lr > 0)) throw ConfigError(fmt::format("--lr-grid {} is not allowed: rates are > 0", lr));
  const int64_t reach_step = a.reach_step > 0 ? a.reach_step : a.config.steps;
  const auto* stop = install_interrupt_flag();

  std::vector<RaceRow> best;
  const int total = int(specs.size() * grid.size()) * a.seeds;
  int done = 0;
  const auto race_start = std::chrono::steady_clock::now();
  for (const auto& spec : specs) {
    RaceRow chosen;
    double chosen_score = std::numeric_limits<double>::infinity();
    for (double lr : grid) {
      RaceRow row;
      row.preset = spec.name, row.lr = lr, row.status = "completed";
      row.step = std::numeric_limits<int64_t>::max();
      std::vector<LossCurve> curves;
      double train_sum = 0, val_sum = 0;
      for (int seed = 0; seed < a.seeds; ++seed) {
        TrainConfig c = a.config;
        c.lr = lr, c.seed = uint64_t(seed);
        std::string folder = spec.name;  // a label may hold "1/sqrt(L)" and spaces
        std::replace_if(folder.begin(), folder.end(), [](char c) { return c == '/' || c == ' '; }, '_');
        const std::string dir = fmt::format("{}/runs/{}/lr{:.3g}/seed{}", a.out, folder, lr, seed);
        fmt::print(stderr, "[race] {}/{} {} lr {:.3g} seed {} ...", ++done, total, spec.name, lr, seed);
        const TrainSummary s = train_one(spec, c, dir, device, stop);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - race_start).count();
        fmt::print(stderr, " {} at step {}, train {:.4f}, val {:.4f} ({})\n", s.status, s.step,
                   s.train_loss, s.val_loss, elapsed_and_eta(elapsed, done, total - done));
        if (s.status == "interrupted") {
          fmt::print(stderr, "[race] interrupted; rerun the same command to continue\n");
          std::exit(kExitInterrupted);
        }
        if (s.status != "completed") row.status = s.status;
        row.step = std::min(row.step, s.step);
        train_sum += s.train_loss;
        val_sum += s.val_loss;
        curves.push_back(read_loss_curve(dir + "/train.jsonl"));
      }
      row.train_loss = train_sum / a.seeds;
      row.val_loss = val_sum / a.seeds;
      row.curve = a.measure.apply(mean_curve(curves));
      const double score = row.status == "completed" && std::isfinite(row.val_loss)
                               ? row.val_loss
                               : std::numeric_limits<double>::infinity();
      if (score < chosen_score || chosen.preset.empty()) chosen = row, chosen_score = score;
    }
    best.push_back(chosen);
  }

  const double target = measure_reach(best, a.reference, reach_step);

  fs::create_directories(a.out);
  Json meta = run_metadata("race");
  meta["train"] = train_config_to_json(a.config);
  meta["depth"] = a.depth;
  meta["seeds"] = a.seeds;
  meta["lr_grid"] = grid;
  meta["reference"] = {{"preset", a.reference}, {"step", reach_step}, {"loss", target},
                       {"measure", a.measure.label()}};
  for (const auto& spec : specs) meta["configs"].push_back(spec_to_json(spec));
  write_file_atomic(a.out + "/race.csv", race_csv(best));
  write_file_atomic(a.out + "/run.json", meta.dump(2) + "\n");
  render_plot(race_plot_script(best, a.measure, target,
                               fmt::format("{} at depth {}, width {}: training loss", a.config.data,
                                           a.depth, specs.front().width)),
              a.out + "/race", 1000, 650);
  fmt::print("{}", race_table(best, a.measure, a.reference, reach_step, target));
  fmt::print("wrote {}/race.csv, run.json, race.png, race.svg; runs in {}/runs\n", a.out, a.out);
}

}  // namespace

void add_race_command(CLI::App& app) {
  static RaceArgs args;
  auto* cmd = app.add_subcommand("race", "Train several presets on the same budget and compare");
  add_model_options(cmd, args.model);
  cmd->add_option("--depth", args.depth, "depth L of every model")
      ->check(at_least(1))
      ->capture_default_str();
  add_train_options(cmd, args.config);
  cmd->add_option("--lr-grid", args.lr_grid, "learning rates to try per preset (best val loss wins)")
      ->delimiter(',');
  cmd->add_option("--seeds", args.seeds, "seeds per (preset, lr); curves are averaged")
      ->capture_default_str();
  cmd->add_option("--reference", args.reference, "preset whose loss the others must reach")
      ->capture_default_str();
  cmd->add_option("--reach-step", args.reach_step, "step of the reference loss (default: last)");
  cmd->add_option("--smooth", args.measure.smooth,
                  "judge on a moving average over this many logged points (table, figure and "
                  "steps to reach alike); 1 = the logged loss")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--out", args.out, "race folder")->capture_default_str();
  cmd->add_option("--device", args.device, "cpu | cuda | cuda:N");
  cmd->callback([] { run(args); });
}

}  // namespace sigprop::cli
