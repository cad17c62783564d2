#include "core/pan.h"

#include <gtest/gtest.h>

namespace fw {
namespace {

TEST(PanTokenizer, TokenIsStableKeyedAndNeverTheNumber) {
  PanTokenizer a("key-a"), b("key-b");
  auto t1 = a.tokenize("4111 1111 1111 1111");
  auto t2 = a.tokenize("4111-1111-1111-1111");
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(*t1, *t2);
  EXPECT_NE(*t1, *b.tokenize("4111111111111111"));
  EXPECT_EQ(t1->rfind("tok_", 0), 0u);
  EXPECT_EQ(t1->find("4111"), std::string::npos);
}

TEST(PanTokenizer, RejectsBadNumbersNamingTheField) {
  PanTokenizer t("k");
  auto bad = t.tokenize("4111111111111112");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "card_number");
  EXPECT_FALSE(t.tokenize("41111").ok());
  EXPECT_FALSE(t.tokenize("4111x111111111111").ok());
}

}  // namespace
}  // namespace fw
