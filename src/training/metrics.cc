#include "training/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

namespace fw {

std::vector<CurvePoint> score_curve(std::span<const float> scores, std::span<const float> labels) {
  std::vector<uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
  std::vector<CurvePoint> curve;
  uint64_t tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const uint32_t r = order[i];
    if (labels[r] > 0.5F) {
      ++tp;
    } else {
      ++fp;
    }
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[r]) {
      curve.push_back({scores[r], tp, fp});
    }
  }
  return curve;
}

double roc_auc(const std::vector<CurvePoint>& curve) {
  if (curve.empty()) return 0.5;
  const double p = static_cast<double>(curve.back().tp);
  const double n = static_cast<double>(curve.back().fp);
  if (p == 0 || n == 0) return 0.5;
  double area = 0;
  uint64_t prev_tp = 0, prev_fp = 0;
  for (const CurvePoint& c : curve) {
    area += static_cast<double>(c.fp - prev_fp) * static_cast<double>(c.tp + prev_tp) / 2;
    prev_tp = c.tp;
    prev_fp = c.fp;
  }
  return area / (p * n);
}

double average_precision(const std::vector<CurvePoint>& curve) {
  if (curve.empty() || curve.back().tp == 0) return 0;
  const double p = static_cast<double>(curve.back().tp);
  double ap = 0;
  uint64_t prev_tp = 0;
  for (const CurvePoint& c : curve) {
    const double precision = static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp);
    ap += static_cast<double>(c.tp - prev_tp) / p * precision;
    prev_tp = c.tp;
  }
  return ap;
}

double recall_at_fpr(const std::vector<CurvePoint>& curve, double max_fpr) {
  if (curve.empty() || curve.back().tp == 0) return 0;
  const double p = static_cast<double>(curve.back().tp);
  const double n = static_cast<double>(curve.back().fp);
  double best = 0;
  for (const CurvePoint& c : curve) {
    const double fpr = n > 0 ? static_cast<double>(c.fp) / n : 0;
    if (fpr <= max_fpr) best = std::max(best, static_cast<double>(c.tp) / p);
  }
  return best;
}

Confusion confusion_at(std::span<const float> scores, std::span<const float> labels,
                       double threshold) {
  Confusion c;
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool flagged = scores[i] >= threshold;
    const bool fraud = labels[i] > 0.5F;
    if (flagged && fraud) ++c.tp;
    if (flagged && !fraud) ++c.fp;
    if (!flagged && fraud) ++c.fn;
    if (!flagged && !fraud) ++c.tn;
  }
  return c;
}

std::string ThresholdPolicy::describe() const {
  switch (kind) {
    case Kind::kBestF1:
      return "best F1";
    case Kind::kTargetPrecision:
      return fmt::format("precision >= {}", target_precision);
    case Kind::kCost:
      return fmt::format("min cost (FP {}, FN {})", cost_false_positive, cost_false_negative);
  }
  return "";
}

Result<ThresholdPolicy> parse_threshold_policy(const std::string& text, const std::string& field) {
  ThresholdPolicy p;
  auto number = [&](const std::string& s, double& out) {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
  };
  if (text == "f1") return p;
  if (text.rfind("precision:", 0) == 0) {
    p.kind = ThresholdPolicy::Kind::kTargetPrecision;
    if (!number(text.substr(10), p.target_precision) || p.target_precision <= 0 ||
        p.target_precision > 1) {
      return make_error(field, "precision:P needs 0 < P <= 1");
    }
    return p;
  }
  if (text.rfind("cost:", 0) == 0) {
    p.kind = ThresholdPolicy::Kind::kCost;
    const std::string rest = text.substr(5);
    const size_t comma = rest.find(',');
    if (comma == std::string::npos || !number(rest.substr(0, comma), p.cost_false_positive) ||
        !number(rest.substr(comma + 1), p.cost_false_negative) || p.cost_false_positive < 0 ||
        p.cost_false_negative < 0) {
      return make_error(field, "cost:FP,FN needs two non-negative numbers");
    }
    return p;
  }
  return make_error(field, fmt::format("'{}' is not f1, precision:P or cost:FP,FN", text));
}

double choose_threshold(const std::vector<CurvePoint>& curve, const ThresholdPolicy& policy) {
  // Scores are floats: the next float above the highest flags nothing.
  const double none =
      curve.empty() ? 1.0 : std::nextafter(static_cast<float>(curve.front().threshold), 2.0F);
  if (curve.empty() || curve.back().tp == 0) return none;
  const auto p = static_cast<double>(curve.back().tp);
  double best_threshold = none;
  double best = -1;
  if (policy.kind == ThresholdPolicy::Kind::kCost) {
    best = p * policy.cost_false_negative;  // flag nothing: every fraud missed
  }
  for (const CurvePoint& c : curve) {
    const double precision = static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp);
    const double recall = static_cast<double>(c.tp) / p;
    switch (policy.kind) {
      case ThresholdPolicy::Kind::kBestF1: {
        const double f1 =
            precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        if (f1 > best) {
          best = f1;
          best_threshold = c.threshold;
        }
        break;
      }
      case ThresholdPolicy::Kind::kTargetPrecision:
        if (precision >= policy.target_precision && recall > best) {
          best = recall;
          best_threshold = c.threshold;
        }
        break;
      case ThresholdPolicy::Kind::kCost: {
        const double cost = static_cast<double>(c.fp) * policy.cost_false_positive +
                            (p - static_cast<double>(c.tp)) * policy.cost_false_negative;
        if (cost < best) {
          best = cost;
          best_threshold = c.threshold;
        }
        break;
      }
    }
  }
  return best_threshold;
}

PrecisionAtK account_precision_at_k(std::span<const float> scores, std::span<const float> labels,
                                    std::span<const Timestamp> ts,
                                    std::span<const uint64_t> accounts, size_t k) {
  struct AccountDay {
    float score = -1;
    bool fraud = false;
  };
  std::map<int64_t, std::unordered_map<uint64_t, AccountDay>> days;
  for (size_t i = 0; i < scores.size(); ++i) {
    const int64_t day = ts[i] >= 0 ? ts[i] / kMicrosPerDay : (ts[i] + 1) / kMicrosPerDay - 1;
    AccountDay& a = days[day][accounts[i]];
    a.score = std::max(a.score, scores[i]);
    a.fraud = a.fraud || labels[i] > 0.5F;
  }
  PrecisionAtK out;
  double sum = 0;
  std::vector<AccountDay> ranked;
  for (const auto& [day, accts] : days) {
    ranked.clear();
    for (const auto& [id, a] : accts) ranked.push_back(a);
    const size_t n = std::min(k, ranked.size());
    if (n == 0) continue;
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                      [](const AccountDay& a, const AccountDay& b) { return a.score > b.score; });
    size_t hits = 0;
    for (size_t i = 0; i < n; ++i) hits += ranked[i].fraud ? 1 : 0;
    sum += static_cast<double>(hits) / static_cast<double>(n);
    ++out.days;
  }
  out.mean = out.days > 0 ? sum / static_cast<double>(out.days) : 0;
  return out;
}

}  // namespace fw
