#include "sources/label_schedule.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "model/json_codec.h"
#include "testing/paths.h"

namespace fw {
namespace {

using fw::testing::TempDir;

constexpr Timestamp kT0 = 1767225600LL * kMicrosPerSecond;

LabelEvent make_label(const std::string& id, Timestamp labelled_at, Label label) {
  LabelEvent l;
  l.transaction_id = id;
  l.account_id = "A-" + id;
  l.merchant_id = "M1";
  l.transaction_ts = kT0;
  l.labelled_at = labelled_at;
  l.label = label;
  l.source = "chargeback";
  return l;
}

std::vector<std::string> ids(const std::vector<LabelEvent>& labels) {
  std::vector<std::string> out;
  for (const auto& l : labels) out.push_back(l.transaction_id);
  return out;
}

TEST(LabelSchedule, HandsOutLabelsInLabelledAtOrderOnlyOnceDue) {
  TempDir dir;
  const std::string path = dir.file("labels.jsonl");
  {
    std::ofstream out(path);
    // Out of order on purpose: the schedule sorts by labelled_at, ties in file order.
    out << to_json(make_label("c", kT0 + 3 * kMicrosPerDay, Label::kFraud)) << "\n";
    out << to_json(make_label("a", kT0 + 1 * kMicrosPerDay, Label::kFraud)) << "\n";
    out << "\n";
    out << to_json(make_label("b", kT0 + 2 * kMicrosPerDay, Label::kLegit)) << "\n";
    out << to_json(make_label("b2", kT0 + 2 * kMicrosPerDay, Label::kFraud)) << "\n";
  }
  auto s = LabelSchedule::load(path);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->size(), 4u);
  EXPECT_TRUE(s->rejected().empty());

  std::vector<LabelEvent> due;
  s->take_due(kT0 + kMicrosPerDay - 1, due);
  EXPECT_TRUE(due.empty()) << "a label must not arrive before its labelled_at";
  s->take_due(kT0 + kMicrosPerDay, due);
  EXPECT_EQ(ids(due), (std::vector<std::string>{"a"}));
  s->take_due(kT0 + 2 * kMicrosPerDay, due);
  EXPECT_EQ(ids(due), (std::vector<std::string>{"a", "b", "b2"}));
  EXPECT_EQ(s->remaining(), 1u);
  s->take_due(kT0 + 2 * kMicrosPerDay, due);  // nothing is handed out twice
  EXPECT_EQ(due.size(), 3u);
  s->take_due(kT0 + 100 * kMicrosPerDay, due);
  EXPECT_EQ(ids(due), (std::vector<std::string>{"a", "b", "b2", "c"}));
  EXPECT_EQ(s->remaining(), 0u);
  EXPECT_EQ(due[1].label, Label::kLegit);
  EXPECT_EQ(due[1].merchant_id, "M1");
}

TEST(LabelSchedule, FinalLabelIsTheLatestVerdictWhetherDueOrNot) {
  TempDir dir;
  const std::string path = dir.file("labels.jsonl");
  {
    std::ofstream out(path);
    out << to_json(make_label("x", kT0 + 5 * kMicrosPerDay, Label::kLegit)) << "\n";
    out << to_json(make_label("x", kT0 + 1 * kMicrosPerDay, Label::kFraud)) << "\n";
  }
  auto s = LabelSchedule::load(path);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->final_label("x"), Label::kLegit);
  EXPECT_EQ(s->final_label("unknown"), std::nullopt);
}

TEST(LabelSchedule, BadLinesAreDeadLettersNamingLineAndField) {
  TempDir dir;
  const std::string path = dir.file("labels.jsonl");
  {
    std::ofstream out(path);
    out << to_json(make_label("ok", kT0, Label::kFraud)) << "\n";  // line 1
    out << "{\"transaction_id\":\"t\"\n";                          // line 2: truncated
    out << R"({"transaction_id":"t","account_id":"A","transaction_ts":"2026-01-01T00:00:00Z",)"
        << R"("labelled_at":"yesterday","label":"fraud"})"
        << "\n";  // line 3: bad time
    out << R"({"transaction_id":"t","account_id":"A","transaction_ts":"2026-01-01T00:00:00Z",)"
        << R"("labelled_at":"2026-01-02T00:00:00Z","label":"maybe"})";  // line 4, no newline
  }
  auto s = LabelSchedule::load(path);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->size(), 1u);
  ASSERT_EQ(s->rejected().size(), 3u);
  EXPECT_EQ(s->rejected()[0].source, "file:" + path + ":2");
  EXPECT_EQ(s->rejected()[1].source, "file:" + path + ":3");
  EXPECT_EQ(s->rejected()[1].field, "labelled_at");
  EXPECT_EQ(s->rejected()[2].source, "file:" + path + ":4");
  EXPECT_EQ(s->rejected()[2].field, "label");
  EXPECT_NE(s->rejected()[2].raw.find("maybe"), std::string::npos);
}

TEST(LabelSchedule, AMissingFileIsAnErrorNamingIt) {
  auto s = LabelSchedule::load("/nonexistent/labels.jsonl");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "labels");
  EXPECT_NE(s.error().reason.find("/nonexistent/labels.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace fw
