// The decisions.model codec both stores use: round trip, and corrupt rows refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "storage/reasons_json.h"

namespace fw {
namespace {

TEST(ModelJson, RoundTripsAndLeavesOutWhatWasNotComputed) {
  Decision d;
  EXPECT_FALSE(has_model_part(d));
  d.model_score = 0.5;
  d.model_version = "m\"quoted\\";
  d.contributions = {{"amount", -1.5}};
  ASSERT_TRUE(has_model_part(d));
  std::string text;
  append_model_json(text, d);
  EXPECT_EQ(text.find("shadow"), std::string::npos) << text;  // NaN: left out
  Decision back;
  ASSERT_TRUE(parse_model_json(text, back).ok()) << text;
  EXPECT_DOUBLE_EQ(back.model_score, 0.5);
  EXPECT_TRUE(std::isnan(back.shadow_score));
  EXPECT_EQ(back.model_version, d.model_version);
  ASSERT_EQ(back.contributions.size(), 1u);
  EXPECT_DOUBLE_EQ(back.contributions[0].value, -1.5);
}

TEST(ModelJson, CorruptRowsAreErrorsNamingTheField) {
  for (const char* bad :
       {"", "[1]", "{\"score\":\"high\"}", "{\"version\":3}", "{\"contributions\":{}}",
        "{\"contributions\":[{\"feature\":1}]}", "{\"contributions\":[{\"feature\":\"a\"}]}",
        "{\"score\":0.5", "{\"anomaly\":null}"}) {
    Decision d;
    Status st = parse_model_json(bad, d);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().field, "model") << bad;
  }
}

}  // namespace
}  // namespace fw
