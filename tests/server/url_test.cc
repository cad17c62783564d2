#include "server/url.h"

#include <gtest/gtest.h>

namespace fw {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
  struct Case {
    const char* in;
    bool plus_is_space;
    const char* out;
  };
  for (const Case& c : {Case{"", true, ""}, Case{"abc", true, "abc"}, Case{"a+b", true, "a b"},
                        Case{"a+b", false, "a+b"}, Case{"%41%62%2f%2F", false, "Ab//"},
                        Case{"J%C3%B6rg", true, "J\xC3\xB6rg"}, Case{"100%25", true, "100%"},
                        Case{"%2B", true, "+"}}) {
    auto r = percent_decode(c.in, c.plus_is_space);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message();
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(PercentDecode, RejectsBadEscapesNamingTheField) {
  for (const char* bad : {"%", "%4", "%zz", "abc%g1", "%00", "a%0"}) {
    auto r = percent_decode(bad, true, "path");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "path");
  }
  EXPECT_EQ(percent_decode("ab%zz", true).error().message(),
            "query: invalid percent-escape at offset 2; encode '%' as %25 and use two hex digits "
            "after '%'");
}

TEST(ParseQuery, SplitsDecodesAndKeepsFirst) {
  auto q = parse_query("limit=20&name=a+b%26c&flag&&x=1&x=2&=empty&eq=a=b");
  ASSERT_TRUE(q.ok()) << q.error().message();
  std::map<std::string, std::string> expected = {{"limit", "20"}, {"name", "a b&c"}, {"flag", ""},
                                                 {"x", "1"},      {"", "empty"},     {"eq", "a=b"}};
  EXPECT_EQ(*q, expected);
  EXPECT_TRUE(parse_query("")->empty());
  auto bad = parse_query("ok=1&limit=%zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "query.limit");
}

TEST(SplitTarget, OriginAndAbsoluteForms) {
  struct Case {
    const char* target;
    const char* path;
    const char* query;
  };
  for (const Case& c : {Case{"/", "/", ""}, Case{"/api/alerts?limit=20", "/api/alerts", "limit=20"},
                        Case{"/a%20b?", "/a b", ""}, Case{"/x?a=1?b", "/x", "a=1?b"},
                        Case{"http://h:8080/health?x=1", "/health", "x=1"},
                        Case{"http://h", "/", ""}, Case{"http://h?x=1", "/", "x=1"}}) {
    auto r = split_target(c.target);
    ASSERT_TRUE(r.ok()) << c.target << ": " << r.error().message();
    EXPECT_EQ(r->path, c.path) << c.target;
    EXPECT_EQ(r->query_string, c.query) << c.target;
  }
  for (const char* bad : {"", "*", "health", "://x/y", "/a%zz"}) {
    EXPECT_FALSE(split_target(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace fw
