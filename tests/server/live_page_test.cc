#include "server/live_page.h"

#include <gtest/gtest.h>

#include <string>

namespace fw {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(LivePage, IsSelfContained) {
  std::string_view page = live_page_html();
  ASSERT_GT(page.size(), 1000u);
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_TRUE(contains(page, "</html>"));
  for (std::string_view external : {"http://", "https://", "//cdn", "<link", " src=", "@import"}) {
    EXPECT_FALSE(contains(page, external)) << external;
  }
}

TEST(LivePage, NeverInsertsMarkupFromData) {
  std::string_view page = live_page_html();
  for (std::string_view unsafe : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                                  "eval(", "new Function"}) {
    EXPECT_FALSE(contains(page, unsafe)) << unsafe;
  }
  EXPECT_TRUE(contains(page, "textContent"));
}

TEST(LivePage, PollsTheApiAndShowsWhatIsAsked) {
  std::string_view page = live_page_html();
  EXPECT_TRUE(contains(page, "<title>fraudwatch - live</title>"));
  EXPECT_TRUE(contains(page, "\"/api/stats\""));
  EXPECT_TRUE(contains(page, "\"/api/alerts?limit=20\""));
  EXPECT_TRUE(contains(page, "POLL_MS = 1000"));
  EXPECT_TRUE(contains(page, "\"disconnected\""));
  for (std::string_view field :
       {"tx_per_s",   "alerts_per_s", "transactions", "decisions", "p50",
        "p99",        "sim_time",     "dead_letters", "uptime_s",  "transaction_id",
        "account_id", "created_at",   "action",       "score",     "summary",
        "amount",     "currency",     "merchant_id",  "country",   "fraud_pattern"}) {
    EXPECT_TRUE(contains(page, field)) << field;
  }
  EXPECT_TRUE(contains(page, "<svg id=\"spark\""));  // the sparkline, drawn inline
}

}  // namespace
}  // namespace fw
