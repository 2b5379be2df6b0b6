#include "train/loss_curve.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {

LossCurve read_loss_curve(const std::string& train_jsonl) {
  LossCurve c;
  std::istringstream in(read_file(train_jsonl));
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw DataError(train_jsonl + ":" + std::to_string(line_no) + " is not valid JSON");
    }
    if (!j.contains("loss_mean") || !j["loss_mean"].is_number()) continue;
    c.step.push_back(j["step"].get<int64_t>());
    c.loss.push_back(j["loss_mean"].get<double>());
  }
  return c;
}

LossCurve smooth(const LossCurve& curve, int window) {
  LossCurve out{curve.step, curve.loss};
  double sum = 0;
  for (size_t i = 0; i < curve.loss.size(); ++i) {
    sum += curve.loss[i];
    if (i >= size_t(window)) sum -= curve.loss[i - window];
    out.loss[i] = sum / double(std::min(i + 1, size_t(window)));
  }
  return out;
}

LossCurve mean_curve(const std::vector<LossCurve>& curves) {
  if (curves.empty()) return {};
  size_t n = curves.front().loss.size();
  for (const auto& c : curves) n = std::min(n, c.loss.size());
  LossCurve out;
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (const auto& c : curves) sum += c.loss[i];
    out.step.push_back(curves.front().step[i]);
    out.loss.push_back(sum / double(curves.size()));
  }
  return out;
}

double loss_at(const LossCurve& curve, int64_t step) {
  double value = NAN;
  for (size_t i = 0; i < curve.step.size() && curve.step[i] <= step; ++i) value = curve.loss[i];
  return value;
}

int64_t steps_to_reach(const LossCurve& curve, double target) {
  for (size_t i = 0; i < curve.step.size(); ++i)
    if (curve.loss[i] <= target) return curve.step[i];
  return -1;
}

}  // namespace sigprop
