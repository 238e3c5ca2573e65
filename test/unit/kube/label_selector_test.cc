#include "kube/label_selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace arca::kube {
namespace {

using ::testing::HasSubstr;

LabelSelector MustParse(std::string_view text) {
  Result<LabelSelector> r = LabelSelector::Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : LabelSelector::Nothing();
}

TEST(LabelSelectorTest, EmptySelectsEverything) {
  LabelSelector sel = MustParse("");
  EXPECT_TRUE(sel.Empty());
  EXPECT_TRUE(sel.Matches({}));
  EXPECT_TRUE(sel.Matches({{"a", "b"}}));
  EXPECT_EQ(sel.ToString(), "");
  EXPECT_TRUE(MustParse("   ").Empty());
}

TEST(LabelSelectorTest, ParsesEveryOperator) {
  LabelSelector sel = MustParse("a=b,c!=d,e in (y, x),e notin (z),!f,g,h==i,n>5,m<10");
  ASSERT_EQ(sel.Requirements().size(), 9u);
  // Sorted by key, stable for equal keys.
  EXPECT_EQ(sel.ToString(), "a=b,c!=d,e in (x,y),e notin (z),!f,g,h=i,m<10,n>5");
  EXPECT_EQ(sel.Requirements()[2].op, SelectorOp::kIn);
  EXPECT_EQ(sel.Requirements()[2].values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(sel.Requirements()[4].op, SelectorOp::kDoesNotExist);
  EXPECT_EQ(sel.Requirements()[5].op, SelectorOp::kExists);
}

TEST(LabelSelectorTest, ToStringRoundTrips) {
  for (const char* text :
       {"a=b", "a!=b,c", "x in (a,b,c),y notin (d)", "!a,b=", "p.io/k=v", "a in (,b)", "n>1"}) {
    LabelSelector sel = MustParse(text);
    LabelSelector again = MustParse(sel.ToString());
    EXPECT_EQ(sel, again) << text;
    EXPECT_EQ(again.ToString(), sel.ToString());
  }
}

TEST(LabelSelectorTest, WhitespaceIsIgnored) {
  EXPECT_EQ(MustParse("  a = b ,  c  in(x ,y) , ! d ").ToString(), "a=b,c in (x,y),!d");
}

TEST(LabelSelectorTest, EmptyValues) {
  LabelSelector sel = MustParse("a=");
  EXPECT_TRUE(sel.Matches({{"a", ""}}));
  EXPECT_FALSE(sel.Matches({{"a", "x"}}));
  EXPECT_FALSE(sel.Matches({}));
  LabelSelector set = MustParse("a in (x,)");
  EXPECT_TRUE(set.Matches({{"a", ""}}));
  EXPECT_TRUE(set.Matches({{"a", "x"}}));
  EXPECT_FALSE(set.Matches({{"a", "y"}}));
}

TEST(LabelSelectorTest, MatchSemantics) {
  const Labels labels{{"app", "web"}, {"tier", "front"}, {"n", "7"}};
  struct Case {
    const char* selector;
    bool matches;
  };
  for (const Case& c : std::vector<Case>{
           {"app=web", true},
           {"app==web", true},
           {"app=db", false},
           {"missing=x", false},
           {"app!=db", true},
           {"app!=web", false},
           {"missing!=x", true},
           {"tier in (front,back)", true},
           {"tier in (back)", false},
           {"missing in (x)", false},
           {"tier notin (back)", true},
           {"tier notin (front)", false},
           {"missing notin (x)", true},
           {"app", true},
           {"missing", false},
           {"!missing", true},
           {"!app", false},
           {"n>6", true},
           {"n>7", false},
           {"n<8", true},
           {"app<8", false},
           {"missing>1", false},
           {"app=web,tier=front", true},
           {"app=web,tier=back", false},
       }) {
    EXPECT_EQ(MustParse(c.selector).Matches(labels), c.matches) << c.selector;
  }
}

TEST(LabelSelectorTest, MalformedInputGivesClearErrors) {
  struct Case {
    const char* selector;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"a=b,", "found end of selector at position 4, expected a label key"},
           {",a", "found ',' at position 0, expected a label key"},
           {"a b", "found 'b' at position 2, expected an operator"},
           {"a in x", "expected '(' after 'in'"},
           {"a in (x", "found end of selector at position 7, expected ',' or ')'"},
           {"a in ()", "'in' needs at least one value"},
           {"a notin ()", "'notin' needs at least one value"},
           {"a=b=c", "found '=' at position 3"},
           {"a=(b)", "found '(' at position 2, expected a value"},
           {"!", "expected a label key after '!'"},
           {"!a=b", "found '=' at position 2, expected ',' or end of selector"},
           {"a>", "found end of selector at position 2, expected a value"},
           {"a>x", "'>' needs an integer, got \"x\""},
           {"-a=b", "label selector key"},
           {"a=-b", "label value \"-b\" is not valid"},
           {"a in (b c)", "found 'c' at position 8, expected ',' or ')'"},
       }) {
    Result<LabelSelector> r = LabelSelector::Parse(c.selector);
    ASSERT_FALSE(r.ok()) << c.selector;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.selector;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.selector;
  }
}

TEST(LabelSelectorTest, DuplicateValuesCollapse) {
  EXPECT_EQ(MustParse("a in (x,x,y)").ToString(), "a in (x,y)");
}

TEST(LabelSelectorTest, FromLabelSelectorObject) {
  const nlohmann::json json = nlohmann::json::parse(R"({
    "matchLabels": {"app": "web", "tier": "front"},
    "matchExpressions": [
      {"key": "env", "operator": "In", "values": ["prod", "dev"]},
      {"key": "zone", "operator": "NotIn", "values": ["z1"]},
      {"key": "canary", "operator": "DoesNotExist"},
      {"key": "team", "operator": "Exists", "values": []}
    ]})");
  Result<LabelSelector> sel = LabelSelector::FromLabelSelector(json);
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->ToString(), "app=web,!canary,env in (dev,prod),team,tier=front,zone notin (z1)");
  EXPECT_EQ(*sel, MustParse(sel->ToString()));
  EXPECT_TRUE(sel->Matches({{"app", "web"}, {"tier", "front"}, {"env", "dev"}, {"team", "a"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"tier", "front"}, {"env", "dev"}}));
}

TEST(LabelSelectorTest, FromLabelSelectorEmptyAndNull) {
  Result<LabelSelector> empty = LabelSelector::FromLabelSelector(nlohmann::json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Empty());
  EXPECT_TRUE(empty->Matches({{"x", "y"}}));
  Result<LabelSelector> null = LabelSelector::FromLabelSelector(nlohmann::json());
  ASSERT_TRUE(null.ok());
  EXPECT_FALSE(null->Empty());
  EXPECT_FALSE(null->Matches({}));
  EXPECT_FALSE(null->Matches({{"x", "y"}}));
}

TEST(LabelSelectorTest, FromLabelSelectorRejectsBadShapes) {
  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"([])", "must be a JSON object"},
           {R"({"matchLabels": []})", "matchLabels must be an object"},
           {R"({"matchLabels": {"a": 1}})", "is not a string"},
           {R"({"matchExpressions": {}})", "must be an array"},
           {R"({"matchExpressions": [{"key": "a"}]})", "needs string fields key and operator"},
           {R"({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})",
            "operator \"Gt\" for \"a\" is not one of"},
           {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
            "needs at least one value"},
           {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
            "takes no values"},
           {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})",
            "must be strings"},
           {R"({"matchLabels": {"bad key": "v"}})", "not a qualified name"},
       }) {
    Result<LabelSelector> r = LabelSelector::FromLabelSelector(nlohmann::json::parse(c.json));
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.json;
  }
}

}  // namespace
}  // namespace arca::kube
