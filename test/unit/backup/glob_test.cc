#include "backup/glob.h"

#include <gtest/gtest.h>

namespace arca::backup {
namespace {

struct Case {
  const char* pattern;
  const char* text;
  bool match;
};

TEST(GlobTest, Table) {
  const Case cases[] = {
      {"*", "", true},
      {"*", "anything.at.all/x", true},
      {"prod", "prod", true},
      {"prod", "prod-1", false},
      {"prod-*", "prod-1", true},
      {"prod-*", "prod-", true},
      {"prod-*", "staging-1", false},
      {"*-system", "kube-system", true},
      {"*-system", "kube-system-2", false},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {"a*b*c", "abcbc", true},
      {"team-?", "team-a", true},
      {"team-?", "team-ab", false},
      {"team-?", "team-", false},
      {"ns-[abc]", "ns-b", true},
      {"ns-[abc]", "ns-d", false},
      {"ns-[a-c]x", "ns-cx", true},
      {"ns-[!a-c]", "ns-d", true},
      {"ns-[!a-c]", "ns-a", false},
      {"*.apps", "deployments.apps", true},  // '.' is literal and '*' crosses it
      {"deployments.apps", "deploymentsXapps", false},
      {"{prod,dev}-*", "dev-1", true},
      {"{prod,dev}-*", "qa-1", false},
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"ns-[abc", "ns-[abc", true},  // malformed: literal
      {"ns-[abc", "ns-a", false},
      {"", "", true},
      {"", "x", false},
      {"**", "abc", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
  }
}

TEST(GlobTest, HasGlobChars) {
  EXPECT_TRUE(HasGlobChars("a*"));
  EXPECT_TRUE(HasGlobChars("a?"));
  EXPECT_TRUE(HasGlobChars("[a]"));
  EXPECT_FALSE(HasGlobChars("plain-name"));
}

TEST(GlobTest, PathologicalPatternIsFast) {
  // Backtracking on '*' is linear per star, not exponential.
  std::string text(2000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", text));
}

}  // namespace
}  // namespace arca::backup
