#include "kube/json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace arca::kube {
namespace {

using Json = nlohmann::json;

// Same value and the same number types all the way down (operator== takes 1 == 1u == 1.0).
void ExpectIdentical(const Json& a, const Json& b, const std::string& where) {
  ASSERT_EQ(a.type(), b.type()) << where << ": " << a.dump() << " vs " << b.dump();
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (auto it = a.begin(); it != a.end(); ++it) {
      ASSERT_TRUE(b.contains(it.key())) << where << " lacks " << it.key();
      ExpectIdentical(it.value(), b.at(it.key()), where + "." + it.key());
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) {
      ExpectIdentical(a[i], b[i], where + "[" + std::to_string(i) + "]");
    }
  } else if (!a.is_discarded()) {
    EXPECT_EQ(a, b) << where;
  }
}

// Parses `text` both ways and compares.
void ExpectParsesAsNlohmann(const std::string& text) {
  ExpectIdentical(ParseJson(text), Json::parse(text, nullptr, false), text.substr(0, 80));
}

TEST(JsonTest, ParsesWhatNlohmannParsesWithTheSameNumberTypes) {
  for (const char* text : {
           R"({"a":1,"b":-1,"c":1.5,"d":1e3,"e":-0.0,"f":0.0,"g":18446744073709551615})",
           R"({"big":9223372036854775807,"neg":-9223372036854775808,"frac":-2.5e-3})",
           R"([true,false,null,"",[],{},[[[]]],{"x":{"y":{}}}])",
           R"("just a string")",
           "42",
           "-7",
           "3.25",
           "null",
           " \t\n{ \"a\" : [ 1 , 2 ] } \n",
           R"({"esc":"\"\\\/\b\f\n\r\t\u0001\u001f\u00e9\u20ac\ud83d\ude00"})",
           "{\"utf8\":\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"}",
           R"({"nul":"a\u0000b"})",
       }) {
    ExpectParsesAsNlohmann(text);
  }
}

TEST(JsonTest, MinusZeroIsAnIntegerZero) {
  // nlohmann keeps the sign's type (number_integer), simdjson does not tell it apart from 0
  // (number_unsigned here): equal, and printed alike.
  EXPECT_EQ(ParseJson("-0"), Json::parse("-0"));
  EXPECT_EQ(DumpJson(ParseJson("[-0]")), "[0]");
}

TEST(JsonTest, TheLastOfDuplicateKeysWinsAsInNlohmann) {
  const Json j = ParseJson(R"({"a":1,"b":2,"a":3})");
  EXPECT_EQ(j, Json::parse(R"({"a":1,"b":2,"a":3})"));
  EXPECT_EQ(j["a"], 3);
}

TEST(JsonTest, WhatSimdjsonRefusesGoesToNlohmann) {
  // Beyond 64 bits: a double in nlohmann; simdjson refuses it.
  ExpectParsesAsNlohmann(R"({"n":123456789012345678901234567890})");
  // Deeper than simdjson's 1024 levels.
  ExpectParsesAsNlohmann(std::string(2000, '[') + std::string(2000, ']'));
  // A byte-order mark.
  ExpectParsesAsNlohmann("\xef\xbb\xbf{\"a\":1}");
}

TEST(JsonTest, TextThatIsNotJsonIsDiscarded) {
  for (const char* text : {"", "{", "{\"a\":}", "[1,2", "{} x", "nul", "{'a':1}", "[1,]",
                           "{\"a\":\"\xff\"}", "\"unterminated", "01"}) {
    EXPECT_TRUE(ParseJson(text).is_discarded()) << text;
    EXPECT_TRUE(Json::parse(text, nullptr, false).is_discarded()) << text;
  }
}

TEST(JsonTest, LargeDocumentsParseTheSameWhicheverParserTakesThem) {
  // Sizes around the per-thread parser's limit and the simdjson limit.
  for (size_t size : {size_t{100}, size_t{8} << 10, size_t{20} << 10, size_t{300} << 10}) {
    Json j = {{"data", {{"payload", std::string(size, 'x')}}}, {"n", size}};
    ExpectParsesAsNlohmann(j.dump());
  }
}

TEST(JsonTest, DumpsWhatNlohmannDumpsByteForByte) {
  std::string every_byte;
  for (int c = 1; c < 0x80; ++c) {
    every_byte.push_back(static_cast<char>(c));
  }
  const Json j = {
      {"s", every_byte},
      {"nul", std::string("a\0b", 3)},
      {"utf8", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"},
      {"ints", {0, 1, -1, INT64_MIN, INT64_MAX, UINT64_MAX}},
      {"floats", {0.0, -0.0, 1.0, 1.5, 1e300, -2.5e-8, 0.1, 100.0}},
      {"nested", {{"a", Json::array()}, {"b", Json::object()}, {"c", nullptr}, {"d", true}}},
      {"key \"quoted\"\n", false},
  };
  EXPECT_EQ(DumpJson(j), j.dump());
  EXPECT_EQ(DumpJson(j, 10), j.dump());
  for (const Json& scalar : {Json(nullptr), Json(true), Json(3), Json(-3), Json(2.5), Json("x")}) {
    EXPECT_EQ(DumpJson(scalar), scalar.dump());
  }
}

TEST(JsonTest, EscapesAtEveryPositionOfLongStrings) {
  // The serializer skips eight bytes at a time: an escape in any lane of any word is found,
  // with and without a two-byte character shifting the lanes.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (const std::string prefix : {"", "\xc3\xa9"}) {
      for (size_t pos = 0; pos < 40; ++pos) {
        std::string s(40, 'a');
        s[pos] = special;
        const Json j = {{"s", prefix + s}};
        ASSERT_EQ(DumpJson(j), j.dump()) << int(special) << " at " << pos;
      }
    }
  }
}

TEST(JsonTest, DumpingInvalidUtf8ThrowsAsNlohmannDoes) {
  const Json bad_value = {{"a", "\xff\xfe"}};
  EXPECT_THROW((void)DumpJson(bad_value), Json::type_error);
  Json bad_key = Json::object();
  bad_key["\xc3"] = 1;
  EXPECT_THROW((void)DumpJson(bad_key), Json::type_error);
}

// Random documents: every parse and dump agrees with nlohmann's.
Json RandomValue(std::mt19937_64& rng, int depth) {
  const int kind = static_cast<int>(rng() % (depth > 4 ? 6 : 8));
  auto random_string = [&rng] {
    std::string s;
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) {
      switch (rng() % 6) {
        case 0:
          s.push_back(static_cast<char>(rng() % 0x20));  // control characters
          break;
        case 1:
          s += "\xc3\xa9";
          break;
        case 2:
          s.push_back("\"\\/"[rng() % 3]);
          break;
        default:
          s.push_back(static_cast<char>('a' + rng() % 26));
      }
    }
    return s;
  };
  switch (kind) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int64_t>(rng()) >> (rng() % 64);
    case 3:
      return rng() >> (rng() % 64);
    case 4:
      return std::ldexp(static_cast<double>(static_cast<int64_t>(rng())), -(int)(rng() % 80));
    case 5:
      return random_string();
    case 6: {
      Json a = Json::array();
      for (size_t i = rng() % 5; i > 0; --i) {
        a.push_back(RandomValue(rng, depth + 1));
      }
      return a;
    }
    default: {
      Json o = Json::object();
      for (size_t i = rng() % 5; i > 0; --i) {
        o[random_string()] = RandomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

TEST(JsonTest, RandomDocumentsAgreeWithNlohmann) {
  std::mt19937_64 rng(20261127);
  for (int i = 0; i < 3000; ++i) {
    const Json value = RandomValue(rng, 0);
    const std::string text = value.dump();
    ASSERT_EQ(DumpJson(value), text);
    ExpectParsesAsNlohmann(text);
    ExpectParsesAsNlohmann(value.dump(2));  // with whitespace
  }
}

}  // namespace
}  // namespace arca::kube
