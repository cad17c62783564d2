// The flattened evaluator against Python's xgboost (Debian's python3-xgboost) on held-out rows
// of a model trained in Python: predictions, exact TreeSHAP and path attribution. This is also
// the bring-your-own-model check: the model is trained outside fraudwatch on schema names.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scoring/tree_model.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};

Table read_csv(const std::string& path, bool has_header) {
  Table t;
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::string line;
  if (has_header && std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) t.header.push_back(cell);
  }
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::strtod(cell.c_str(), nullptr));
    t.rows.push_back(std::move(row));
  }
  return t;
}

FeatureVector row_of(const Table& x, const std::vector<FeatureId>& ids, size_t r) {
  FeatureVector v;
  for (size_t c = 0; c < ids.size(); ++c) v[ids[c]] = x.rows[r][c];
  return v;
}

// Column c of the reference (one column per model feature in file order, then the bias).
void expect_contributions(const Table& ref, size_t r, const std::vector<FeatureId>& ids,
                          const std::array<double, kFeatureCount>& values, double bias,
                          double tol) {
  ASSERT_EQ(ref.rows[r].size(), ids.size() + 1);
  for (size_t c = 0; c < ids.size(); ++c) {
    EXPECT_NEAR(values[static_cast<size_t>(ids[c])], ref.rows[r][c], tol)
        << "row " << r << " feature " << feature_name(ids[c]);
  }
  EXPECT_NEAR(bias, ref.rows[r][ids.size()], tol) << "row " << r << " bias";
}

// One test so that the Python reference (seconds on a busy machine) runs once under ctest.
TEST(XgboostReference, PredictionsAndContributionsMatchPythonXgboost) {
  testing::TempDir dir;
  const std::string script =
      (testing::source_dir() / "tests/scoring/xgboost_reference.py").string();
  testing::ChildProcess py({"/usr/bin/python3", script, dir.path().string(), "11"});
  while (py.read_line(120000)) {
  }
  ASSERT_EQ(py.wait(), 0) << "python3-xgboost reference failed (scripts/install-deps.sh test "
                             "installs it):\n"
                          << py.transcript();
  auto loaded = TreeModel::load_file(dir.file("model.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  const TreeModel& model = *loaded;
  EXPECT_EQ(model.tree_count(), 60u);
  Table x = read_csv(dir.file("x.csv"), true);
  ASSERT_GT(x.rows.size(), 100u);
  std::vector<FeatureId> ids;
  for (const std::string& name : x.header) {
    auto id = find_feature(name);
    ASSERT_TRUE(id.has_value()) << name;
    ids.push_back(*id);
  }

  {
    SCOPED_TRACE("predictions within 1e-6");
    Table margin = read_csv(dir.file("margin.csv"), false);
    Table prob = read_csv(dir.file("prob.csv"), false);
    ASSERT_EQ(margin.rows.size(), x.rows.size());
    ASSERT_EQ(prob.rows.size(), x.rows.size());
    size_t missing = 0;
    for (size_t r = 0; r < x.rows.size(); ++r) {
      FeatureVector v = row_of(x, ids, r);
      for (double d : x.rows[r]) missing += std::isnan(d) ? 1 : 0;
      EXPECT_NEAR(model.margin(v), margin.rows[r][0], 1e-5) << r;
      EXPECT_NEAR(model.predict(v), prob.rows[r][0], 1e-6) << "row " << r;
    }
    EXPECT_GT(missing, 0u) << "the reference data must exercise missing values";
  }
  {
    SCOPED_TRACE("exact TreeSHAP vs pred_contribs");
    Table shap = read_csv(dir.file("shap.csv"), true);
    ASSERT_EQ(shap.rows.size(), x.rows.size());
    for (size_t r = 0; r < x.rows.size(); r += 10) {
      auto s = model.tree_shap(row_of(x, ids, r));
      expect_contributions(shap, r, ids, s.values, s.bias, 1e-4);
    }
  }
  {
    SCOPED_TRACE("path attribution vs approx_contribs");
    Table saabas = read_csv(dir.file("saabas.csv"), true);
    ASSERT_EQ(saabas.rows.size(), x.rows.size());
    for (size_t r = 0; r < x.rows.size(); ++r) {
      FeatureVector v = row_of(x, ids, r);
      auto e = model.explain(v, kFeatureCount);
      std::array<double, kFeatureCount> values{};
      double sum = e.bias;
      for (const Contribution& c : e.top) {
        values[static_cast<size_t>(c.feature)] = c.value;
        sum += c.value;
      }
      expect_contributions(saabas, r, ids, values, e.bias, 1e-4);
      EXPECT_NEAR(sum, e.margin, 1e-5) << r;
      auto top5 = model.explain(v).top;
      ASSERT_LE(top5.size(), 5u);
      for (size_t i = 1; i < top5.size(); ++i) {
        EXPECT_GE(std::fabs(top5[i - 1].value), std::fabs(top5[i].value));
      }
    }
  }
}

}  // namespace
}  // namespace fw
