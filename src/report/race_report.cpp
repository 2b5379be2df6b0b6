#include "report/race_report.h"

#include <cmath>

#include <fmt/format.h>

#include "report/gnuplot.h"

namespace sigprop {
namespace {

std::string reach_text(const RaceRow& r) {
  return r.reach_step < 0 ? std::string("not reached")
                          : fmt::format("{} ({:.2f}x)", r.reach_step, r.reach_ratio);
}

}  // namespace

std::string race_table(const std::vector<RaceRow>& rows, const std::string& reference,
                       int64_t reference_step, double target) {
  std::string out = fmt::format("{:<22} {:>9} {:>11} {:>6} {:>10} {:>10}  steps to {} loss {:.4f} (step {})\n",
                                "preset", "lr", "status", "steps", "train", "val", reference,
                                target, reference_step);
  for (const auto& r : rows)
    out += fmt::format("{:<22} {:>9.2e} {:>11} {:>6} {:>10.4f} {:>10.4f}  {}\n", r.preset, r.lr,
                       r.status, r.step, r.train_loss, r.val_loss, reach_text(r));
  return out;
}

std::string race_csv(const std::vector<RaceRow>& rows) {
  std::string out = "preset,lr,status,steps,train_loss,val_loss,reach_step,reach_ratio\n";
  for (const auto& r : rows)
    out += fmt::format("{},{:.6g},{},{},{:.6g},{:.6g},{},{:.6g}\n", r.preset, r.lr, r.status, r.step,
                       r.train_loss, r.val_loss, r.reach_step, r.reach_ratio);
  return out;
}

std::string race_plot_script(const std::vector<RaceRow>& rows, double target,
                             const std::string& title) {
  std::string script, plot;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string data;
    for (size_t k = 0; k < rows[i].curve.step.size(); ++k)
      if (std::isfinite(rows[i].curve.loss[k]))
        data += fmt::format("{} {:.6g}\n", rows[i].curve.step[k], rows[i].curve.loss[k]);
    script += gnuplot_datablock(fmt::format("R{}", i), data);
    plot += fmt::format("{}$R{} using 1:2 title '{} (lr {:.1e}{})' with lines lw 2 {}",
                        i ? ", " : "", i, rows[i].preset, rows[i].lr,
                        rows[i].status == "completed" ? "" : ", " + rows[i].status, series_style(i));
  }
  if (std::isfinite(target))
    plot += fmt::format(", {:.6g} title 'reference loss' with lines dt 2 lc rgb 'black'", target);
  script += fmt::format(
      "set title '{}'\nset xlabel 'step'\nset ylabel 'training loss (nats)'\nset logscale x\n"
      "set grid\nset key top right box opaque\nplot {}\n",
      title, plot);
  return script;
}

}  // namespace sigprop
