#include "core/time.h"

#include <gtest/gtest.h>

namespace fw {
namespace {

TEST(Time, ParsesUtcAndOffsets) {
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_rfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*parse_rfc3339("1969-12-31T19:00:00-05:00"), 0);
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(*parse_rfc3339("1970-01-01 00:00:00.000001Z"), 1);
  EXPECT_EQ(*parse_rfc3339("2026-11-23T14:05:00Z"), 1795442700LL * kMicrosPerSecond);
}

TEST(Time, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-23T14:05:00", "2026-11-23T14:05:00Zx", "2026-11-23T25:00:00Z",
        "2026-11-23T14:05:00.Z", "abcd-ef-ghTij:kl:mnZ"}) {
    EXPECT_FALSE(parse_rfc3339(bad).ok()) << bad;
  }
}

TEST(Time, FormatsRoundTrip) {
  for (Timestamp t : {0LL, 1'500'000LL, 1795442700LL * kMicrosPerSecond + 123456, -1'000'000LL}) {
    EXPECT_EQ(*parse_rfc3339(format_rfc3339(t)), t);
  }
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_date(1795442700LL * kMicrosPerSecond), "2026-11-23");
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(100);
  EXPECT_EQ(clock.now(), 100);
  clock.advance(50);
  EXPECT_EQ(clock.now(), 150);
}

}  // namespace
}  // namespace fw
