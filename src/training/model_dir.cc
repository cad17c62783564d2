#include "training/model_dir.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "training/anomaly.h"

namespace fw {

std::string schema_hash_hex() { return fmt::format("0x{:016x}", feature_schema_hash()); }

Result<LoadedModel> load_model(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const std::string model_path = is_dir ? (fs::path(path) / kModelFile).string() : path;
  auto model = TreeModel::load_file(model_path);
  if (!model.ok()) return model.error();
  LoadedModel out{std::move(*model), nlohmann::json::object(), kDefaultThreshold, std::nullopt};
  // A model with the anomaly column needs the forest that computes it, from its own folder.
  auto no_forest = [&](const std::string& where) {
    return make_error(where, fmt::format("has the '{}' column (the Isolation Forest's score as a "
                                         "model input) but {} has no {}: the folder is "
                                         "incomplete; copy the whole model folder or retrain",
                                         kAnomalyColumn, is_dir ? path : "a bare model file",
                                         kIsolationForestFile));
  };
  if (!is_dir) {
    if (out.model.uses_anomaly_score()) return no_forest(model_path + ": learner.feature_names");
    return out;
  }
  const std::string forest_path = (fs::path(path) / kIsolationForestFile).string();
  if (fs::exists(forest_path, ec)) {
    auto forest = IsolationForest::load_file(forest_path);
    if (!forest.ok()) return forest.error();
    if (forest->columns() != kFeatureCount) {
      return make_error(forest_path + ": isolation_forest.columns",
                        fmt::format("{} columns; this build's features have {}", forest->columns(),
                                    kFeatureCount));
    }
    out.forest = std::move(*forest);
  }
  const std::string meta_path = (fs::path(path) / kMetadataFile).string();
  if (!fs::exists(meta_path, ec)) {
    if (out.model.uses_anomaly_score() && !out.forest) {
      return no_forest(model_path + ": learner.feature_names");
    }
    return out;
  }

  std::ifstream in(meta_path);
  if (!in) return make_error(meta_path, fmt::format("cannot open: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  if (in.tellg() > std::streamoff{64} << 20) return make_error(meta_path, "larger than 64 MiB");
  in.seekg(0);
  try {
    out.metadata = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return make_error(meta_path, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!out.metadata.is_object()) return make_error(meta_path, "expected a JSON object");
  auto hash = out.metadata.find("feature_schema_hash");
  if (hash == out.metadata.end() || !hash->is_string()) {
    return make_error(meta_path + ": feature_schema_hash", "missing or not a string");
  }
  if (hash->get<std::string>() != schema_hash_hex()) {
    return make_error(meta_path + ": feature_schema_hash",
                      fmt::format("{} differs from this build's feature schema {}: the model was "
                                  "trained on other feature definitions; retrain it",
                                  hash->get<std::string>(), schema_hash_hex()));
  }
  auto th = out.metadata.find("threshold");
  if (th != out.metadata.end()) {
    if (!th->is_number() || !(th->get<double>() >= 0 && th->get<double>() <= 1.0 + 1e-6)) {
      return make_error(meta_path + ": threshold", "must be a number from 0 to 1");
    }
    out.threshold = th->get<double>();
  }
  auto names = out.metadata.find("feature_names");
  if (names != out.metadata.end()) {
    if (!names->is_array()) return make_error(meta_path + ": feature_names", "must be an array");
    const bool declared =
        std::find(names->begin(), names->end(), std::string(kAnomalyColumn)) != names->end();
    if (declared && !out.forest) return no_forest(meta_path + ": feature_names");
    if (declared != out.model.uses_anomaly_score()) {
      return make_error(meta_path + ": feature_names",
                        fmt::format("{} the '{}' column but {} {}: the files are from different "
                                    "models",
                                    declared ? "lists" : "does not list", kAnomalyColumn,
                                    model_path, declared ? "does not have it" : "has it"));
    }
  }
  if (out.model.uses_anomaly_score() && !out.forest) {
    return no_forest(model_path + ": learner.feature_names");
  }
  return out;
}

Status write_model_dir(const std::string& dir, const std::string& model_json,
                       const nlohmann::json& metadata) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir, fmt::format("cannot create: {}", ec.message()));
  auto write = [](const std::string& path, const std::string& text) -> Status {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return make_error(path, "cannot write");
    return Status::Ok();
  };
  if (Status s = write((fs::path(dir) / kModelFile).string(), model_json); !s.ok()) return s;
  return write((fs::path(dir) / kMetadataFile).string(), metadata.dump(2) + "\n");
}

nlohmann::json feature_histograms(const Dataset& data, size_t begin, size_t end) {
  nlohmann::json out = nlohmann::json::object();
  const size_t n = end - begin;
  if (n == 0) return out;
  const size_t step = std::max<size_t>(1, n / 100000);
  std::vector<float> values;
  for (size_t f = 0; f < kFeatureCount; ++f) {
    values.clear();
    for (size_t i = begin; i < end; i += step) values.push_back(data.row(i)[f]);
    std::sort(values.begin(), values.end());
    std::vector<float> edges;
    for (int q = 1; q < 10; ++q) {
      const float e = values[values.size() * static_cast<size_t>(q) / 10];
      if (edges.empty() || e > edges.back()) edges.push_back(e);
    }
    // Bins: (-inf, e0), [e0, e1), ..., [e_last, inf).
    std::vector<double> share(edges.size() + 1, 0);
    for (float v : values) {
      const auto bin =
          static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
      share[bin] += 1.0 / static_cast<double>(values.size());
    }
    out[std::string(feature_name(static_cast<FeatureId>(f)))] = {{"edges", edges},
                                                                 {"share", share}};
  }
  return out;
}

nlohmann::json score_histogram(std::span<const float> scores) {
  std::vector<double> share(20, 0);
  for (float s : scores) {
    const auto bin = static_cast<size_t>(std::clamp(static_cast<int>(s * 20), 0, 19));
    share[bin] += 1.0 / static_cast<double>(std::max<size_t>(1, scores.size()));
  }
  return {{"bins", 20}, {"range", {0, 1}}, {"share", share}};
}

}  // namespace fw
