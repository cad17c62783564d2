#include "training/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace fw {
namespace {

template <typename F>
std::vector<std::pair<double, double>> thin(const std::vector<CurvePoint>& curve, F point) {
  std::vector<std::pair<double, double>> out;
  const size_t step = std::max<size_t>(1, curve.size() / 200);
  for (size_t i = 0; i < curve.size(); i += step) out.push_back(point(curve[i]));
  if (!curve.empty() && (curve.size() - 1) % step != 0) out.push_back(point(curve.back()));
  return out;
}

}  // namespace

std::vector<float> score_rows(const TreeModel& model, const Dataset& data, size_t begin,
                              size_t end) {
  std::vector<float> scores;
  scores.reserve(end - begin);
  FeatureVector v;
  for (size_t i = begin; i < end; ++i) {
    const float* row = data.row(i);
    for (size_t f = 0; f < kFeatureCount; ++f) v.values[f] = row[f];
    v[ScoreSlot::kAnomalyScore] = data.anomaly.empty() ? NAN : data.anomaly[i];
    scores.push_back(static_cast<float>(model.predict(v)));
  }
  return scores;
}

EvaluationReport evaluate_scores(const Dataset& data, size_t begin, size_t end,
                                 std::span<const float> scores, double threshold, size_t k) {
  EvaluationReport r;
  const std::span<const float> labels(data.y.data() + begin, end - begin);
  r.rows = end - begin;
  r.threshold = threshold;
  r.k = k;
  if (r.rows > 0) {
    r.from = data.ts[begin];
    r.to = data.ts[end - 1];
  }
  const std::vector<CurvePoint> curve = score_curve(scores, labels);
  r.positives = curve.empty() ? 0 : curve.back().tp;
  r.roc_auc = roc_auc(curve);
  r.average_precision = average_precision(curve);
  r.at_threshold = confusion_at(scores, labels, threshold);
  for (double fpr : {0.001, 0.005, 0.01, 0.05})
    r.recall_at_fpr.emplace_back(fpr, recall_at_fpr(curve, fpr));
  r.precision_at_k = account_precision_at_k(
      scores, labels, std::span<const Timestamp>(data.ts.data() + begin, r.rows),
      std::span<const uint64_t>(data.account.data() + begin, r.rows), k);
  for (size_t i = begin; i < end; ++i) {
    if (data.y[i] < 0.5F) continue;
    PatternRecall& p = r.by_pattern[data.pattern_names[data.pattern[i]]];
    ++p.frauds;
    p.caught += scores[i - begin] >= threshold ? 1 : 0;
  }
  if (!curve.empty()) {
    const auto pos = static_cast<double>(std::max<uint64_t>(1, curve.back().tp));
    const auto neg = static_cast<double>(std::max<uint64_t>(1, curve.back().fp));
    r.roc.emplace_back(0, 0);
    for (auto p : thin(curve, [&](const CurvePoint& c) {
           return std::pair{static_cast<double>(c.fp) / neg, static_cast<double>(c.tp) / pos};
         })) {
      r.roc.push_back(p);
    }
    r.pr = thin(curve, [&](const CurvePoint& c) {
      return std::pair{static_cast<double>(c.tp) / pos,
                       static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp)};
    });
  }
  return r;
}

nlohmann::json report_to_json(const EvaluationReport& r) {
  nlohmann::json j;
  j["rows"] = r.rows;
  j["frauds"] = r.positives;
  j["from"] = r.rows ? format_rfc3339(r.from) : "";
  j["to"] = r.rows ? format_rfc3339(r.to) : "";
  j["roc_auc"] = r.roc_auc;
  j["average_precision"] = r.average_precision;
  if (r.anomaly_roc_auc) {
    j["anomaly_score"] = {{"roc_auc", *r.anomaly_roc_auc},
                          {"average_precision", r.anomaly_average_precision.value_or(0)}};
  }
  j["threshold"] = r.threshold;
  const Confusion& c = r.at_threshold;
  j["at_threshold"] = {{"precision", c.precision()},
                       {"recall", c.recall()},
                       {"f1", c.f1()},
                       {"false_positive_rate", c.fpr()},
                       {"confusion", {{"tp", c.tp}, {"fp", c.fp}, {"fn", c.fn}, {"tn", c.tn}}}};
  nlohmann::json raf = nlohmann::json::array();
  for (auto [fpr, recall] : r.recall_at_fpr) raf.push_back({{"max_fpr", fpr}, {"recall", recall}});
  j["recall_at_fpr"] = raf;
  j["account_precision_at_k"] = {
      {"k", r.k}, {"mean", r.precision_at_k.mean}, {"days", r.precision_at_k.days}};
  nlohmann::json pat = nlohmann::json::object();
  for (const auto& [name, p] : r.by_pattern) {
    pat[name.empty() ? "(unnamed)" : name] = {
        {"frauds", p.frauds}, {"caught", p.caught}, {"recall", p.recall()}};
  }
  j["recall_by_pattern"] = pat;
  auto pts = [](const std::vector<std::pair<double, double>>& v, const char* a, const char* b) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto [x, y] : v) arr.push_back({{a, x}, {b, y}});
    return arr;
  };
  j["roc_curve"] = pts(r.roc, "fpr", "tpr");
  j["pr_curve"] = pts(r.pr, "recall", "precision");
  return j;
}

std::string report_table(const EvaluationReport& r) {
  std::string s;
  const Confusion& c = r.at_threshold;
  s += fmt::format(
      "rows {} ({} fraud, {:.3f}%), {} .. {}\n", r.rows, r.positives,
      r.rows ? 100.0 * static_cast<double>(r.positives) / static_cast<double>(r.rows) : 0,
      r.rows ? format_rfc3339(r.from) : "-", r.rows ? format_rfc3339(r.to) : "-");
  s += fmt::format("  ROC AUC             {:.4f}\n", r.roc_auc);
  s += fmt::format("  PR AUC (avg prec.)  {:.4f}\n", r.average_precision);
  if (r.anomaly_roc_auc) {
    s += fmt::format("  anomaly score       ROC AUC {:.4f}, PR AUC {:.4f} (Isolation Forest)\n",
                     *r.anomaly_roc_auc, r.anomaly_average_precision.value_or(0));
  }
  s += fmt::format("  at threshold {:.4f}: precision {:.4f}  recall {:.4f}  F1 {:.4f}\n",
                   r.threshold, c.precision(), c.recall(), c.f1());
  s += fmt::format("  confusion           TP {}  FP {}  FN {}  TN {}\n", c.tp, c.fp, c.fn, c.tn);
  for (auto [fpr, recall] : r.recall_at_fpr) {
    s += fmt::format("  recall at FPR {:<6}{:.4f}\n", fmt::format("{}", fpr), recall);
  }
  s += fmt::format("  account precision@{} per day: {:.4f} (mean over {} days)\n", r.k,
                   r.precision_at_k.mean, r.precision_at_k.days);
  if (!r.by_pattern.empty()) {
    s += "  recall by fraud pattern at the threshold:\n";
    for (const auto& [name, p] : r.by_pattern) {
      s += fmt::format("    {:<28} {:>7} frauds  {:>7} caught  recall {:.3f}\n",
                       name.empty() ? "(unnamed)" : name, p.frauds, p.caught, p.recall());
    }
  }
  return s;
}

std::string curve_svg(const std::vector<std::pair<double, double>>& points,
                      const std::string& title, const std::string& x_label,
                      const std::string& y_label) {
  constexpr double kSize = 360, kPad = 50;
  std::string path;
  for (auto [x, y] : points) {
    path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", kPad + x * kSize,
                        kPad + (1 - y) * kSize);
  }
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{0}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect x=\"{1}\" y=\"{1}\" width=\"{2}\" height=\"{2}\" fill=\"none\" stroke=\"#888\"/>\n"
      "<text x=\"{1}\" y=\"30\" font-size=\"14\">{3}</text>\n"
      "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">{6}</text>\n"
      "<text x=\"15\" y=\"{4}\" transform=\"rotate(-90 15 {4})\" "
      "text-anchor=\"middle\">{7}</text>\n",
      kSize + 2 * kPad, kPad, kSize, title, kPad + kSize / 2, kSize + kPad + 35, x_label, y_label);
  for (int i = 0; i <= 4; ++i) {
    const double v = i / 4.0;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     kPad + v * kSize, kSize + kPad + 16, v);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kPad - 6,
                     kPad + (1 - v) * kSize + 4, v);
  }
  s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\"/>\n</svg>\n",
                   path);
  return s;
}

}  // namespace fw
