#include "studies/race/race_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/gnuplot.h"

namespace sigprop {
namespace {

std::string reach_text(const RaceRow& r) {
  return r.reach_step < 0 ? std::string("not reached")
                          : fmt::format("{} ({:.2f}x)", r.reach_step, r.reach_ratio);
}

}  // namespace

LossCurve RaceMeasure::apply(const LossCurve& logged) const {
  return smooth > 1 ? sigprop::smooth(logged, smooth) : logged;
}

std::string RaceMeasure::label() const {
  return smooth > 1 ? fmt::format("training loss, {}-point moving average", smooth)
                    : std::string("training loss");
}

double measure_reach(std::vector<RaceRow>& rows, const std::string& reference,
                     int64_t reference_step) {
  // The reference by name; a row labelled with overrides ("pre-ln[mlp_width=256]") stands for its
  // preset when no row carries the bare name.
  double target = NAN;
  for (const auto& r : rows)
    if (r.preset == reference) target = loss_at(r.curve, reference_step);
  if (!std::isfinite(target))
    for (const auto& r : rows)
      if (r.preset.rfind(reference + "[", 0) == 0) {
        target = loss_at(r.curve, reference_step);
        break;
      }
  for (auto& r : rows) {
    r.reach_step = std::isfinite(target) ? steps_to_reach(r.curve, target) : -1;
    r.reach_ratio = r.reach_step < 0 ? NAN : double(r.reach_step) / double(reference_step);
  }
  return target;
}

std::string race_table(const std::vector<RaceRow>& rows, const RaceMeasure& measure,
                       const std::string& reference, int64_t reference_step, double target) {
  const std::string train = measure.smooth > 1 ? fmt::format("train({})", measure.smooth) : "train";
  size_t w = 22;  // labels with overrides are longer than preset names
  for (const auto& r : rows) w = std::max(w, r.preset.size());
  std::string out = fmt::format(
      "{:<{}} {:>9} {:>11} {:>6} {:>10} {:>10}  steps to {}'s {} {:.4f} (step {})\n", "preset", w,
      "lr", "status", "steps", train, "val", reference, measure.label(), target, reference_step);
  for (const auto& r : rows)
    out += fmt::format("{:<{}} {:>9.2e} {:>11} {:>6} {:>10.4f} {:>10.4f}  {}\n", r.preset, w, r.lr,
                       r.status, r.step, loss_at(r.curve, r.step), r.val_loss, reach_text(r));
  if (measure.smooth > 1)
    out += fmt::format("train({0}) and steps to reach: {1}; train as logged: race.csv\n",
                       measure.smooth, measure.label());
  return out;
}

std::string race_csv(const std::vector<RaceRow>& rows) {
  std::string out = "preset,lr,status,steps,train_loss,val_loss,reach_step,reach_ratio,seeds\n";
  for (const auto& r : rows) {
    const std::string reach =
        r.reach_step < 0 ? "," : fmt::format("{},{:.6g}", r.reach_step, r.reach_ratio);
    out += fmt::format("{},{:.6g},{},{},{:.6g},{:.6g},{},{}\n", r.preset, r.lr, r.status, r.step,
                       r.train_loss, r.val_loss, reach, r.seeds);
  }
  return out;
}

std::string race_plot_script(const std::vector<RaceRow>& rows, const RaceMeasure& measure,
                             double target, const std::string& title) {
  std::string script, plot;
  int64_t last = 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string data;
    for (size_t k = 0; k < rows[i].curve.step.size(); ++k)
      if (std::isfinite(rows[i].curve.loss[k])) {
        data += fmt::format("{} {:.6g}\n", rows[i].curve.step[k], rows[i].curve.loss[k]);
        last = std::max(last, rows[i].curve.step[k]);
      }
    script += gnuplot_datablock(fmt::format("R{}", i), data);
    plot += fmt::format("{}$R{} using 1:2 title '{} (lr {:.1e}{})' with linespoints lw 2 pi 5 {} {}",
                        i ? ", " : "", i, gnuplot_text(rows[i].preset), rows[i].lr,
                        rows[i].status == "completed" ? "" : ", " + rows[i].status,
                        series_style(i), series_marker(i));
  }
  if (std::isfinite(target))
    plot += fmt::format(", {:.6g} title 'reference loss' with lines dt 2 lc rgb 'black'", target);
  script += fmt::format(
      "set title '{}'\nset xlabel 'step'\nset ylabel '{} (nats)'\nset logscale x\n"
      "set xrange [*:{}]\nset grid\nset key top right box opaque\nplot {}\n",
      gnuplot_text(title), measure.label(), last, plot);
  return script;
}

}  // namespace sigprop
