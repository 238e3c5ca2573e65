#include "kube/list_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <nlohmann/json.hpp>
#include <random>

namespace arca::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Parsed {
  std::vector<std::string> items;
  ListMeta meta;
  Status status;
};

// Feeds `doc` in chunks of the given sizes (cycled).
Parsed ParseInChunks(std::string_view doc, const std::vector<size_t>& sizes) {
  Parsed out;
  ListStreamParser parser([&](std::string_view item) {
    out.items.emplace_back(item);
    return OkStatus();
  });
  size_t pos = 0;
  for (size_t k = 0; pos < doc.size(); ++k) {
    const size_t n = std::min(sizes[k % sizes.size()], doc.size() - pos);
    out.status = parser.Feed(doc.substr(pos, n));
    if (!out.status.ok()) {
      return out;
    }
    pos += n;
  }
  out.status = parser.Finish();
  out.meta = parser.meta();
  return out;
}

constexpr std::string_view kList = R"({"kind":"ConfigMapList","apiVersion":"v1",
  "metadata":{"resourceVersion":"4242","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEi","remainingItemCount":17},
  "items":[
    {"metadata":{"name":"a","namespace":"ns1","labels":{"app":"web","tier":"front"}},
     "data":{"x":"}]{[\"","y":"\\"}},
    {"metadata":{"name":"b","namespace":"ns1"},"data":{"nested":"[[[{{{"},"list":[1,[2,[3]],{"k":[]}]},
    {"metadata":{"name":"c\u00e9"},"data":{"emoji":"\ud83d\ude00 ü"}}
  ]})";

TEST(ListStreamTest, DeliversEveryItemAndTheListMetadata) {
  Parsed p = ParseInChunks(kList, {kList.size()});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.items.size(), 3u);
  EXPECT_EQ(p.meta.kind, "ConfigMapList");
  EXPECT_EQ(p.meta.api_version, "v1");
  EXPECT_EQ(p.meta.resource_version, "4242");
  EXPECT_EQ(p.meta.continue_token, "eyJ2IjoibWV0YS5rOHMuaW8vdjEi");
  EXPECT_EQ(p.meta.remaining_item_count, 17);
  // Each item is exactly the JSON of that element.
  const nlohmann::json whole = nlohmann::json::parse(kList);
  for (size_t i = 0; i < p.items.size(); ++i) {
    EXPECT_EQ(nlohmann::json::parse(p.items[i]), whole["items"][i]) << i;
  }
  EXPECT_EQ(p.items[0].front(), '{');
  EXPECT_EQ(p.items[0].back(), '}');
}

TEST(ListStreamTest, ChunkBoundariesDoNotMatter) {
  const Parsed whole = ParseInChunks(kList, {kList.size()});
  for (size_t size : {1, 2, 3, 5, 7, 16, 64}) {
    Parsed p = ParseInChunks(kList, {size});
    ASSERT_TRUE(p.status.ok()) << size << ": " << p.status.ToString();
    EXPECT_EQ(p.items, whole.items) << size;
    EXPECT_EQ(p.meta.continue_token, whole.meta.continue_token);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<size_t> sizes;
    sizes.reserve(20);
    for (int k = 0; k < 20; ++k) {
      sizes.push_back(1 + rng() % 40);
    }
    Parsed p = ParseInChunks(kList, sizes);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    EXPECT_EQ(p.items, whole.items);
  }
}

TEST(ListStreamTest, LongStringsWithEscapesAtEveryOffset) {
  // Strings are skipped sixteen bytes at a time: put a quote, a backslash or a bracket at each
  // offset of a long value, and cut the input at every offset of a 16-byte block too.
  std::string doc = R"({"metadata":{},"items":[)";
  std::vector<nlohmann::json> expected;
  for (int offset = 0; offset < 40; ++offset) {
    for (const char* special : {"\"", "\\", "}]", "\\\""}) {
      std::string value = std::string(static_cast<size_t>(offset), 'a') + special +
                          std::string(static_cast<size_t>(37 - offset % 17), 'b');
      expected.push_back({{"metadata", {{"name", "n" + std::to_string(expected.size())}}},
                          {"data", {{"v", value}}}});
      doc += (expected.size() > 1 ? "," : "") + expected.back().dump();
    }
  }
  doc += "]}";
  for (const std::vector<size_t>& sizes :
       std::vector<std::vector<size_t>>{{doc.size()}, {1}, {15}, {16}, {17}, {31, 33}}) {
    Parsed p = ParseInChunks(doc, sizes);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    ASSERT_EQ(p.items.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(nlohmann::json::parse(p.items[i]), expected[i]) << i << " chunk " << sizes[0];
    }
  }
}

TEST(ListStreamTest, MetadataAfterItemsAndOtherShapes) {
  Parsed p = ParseInChunks(R"({"items":[{"a":1}],"extra":[1,{"x":"]"}],"n":-1.5e3,"t":true,
                               "s":"str","z":null,"metadata":{"resourceVersion":"9"}})",
                           {3});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_THAT(p.items, ElementsAre(R"({"a":1})"));
  EXPECT_EQ(p.meta.resource_version, "9");
  EXPECT_EQ(p.meta.continue_token, "");
  EXPECT_FALSE(p.meta.remaining_item_count.has_value());

  Parsed empty = ParseInChunks(R"({"kind":"PodList","metadata":{},"items":[]})", {4});
  ASSERT_TRUE(empty.status.ok());
  EXPECT_TRUE(empty.items.empty());

  Parsed null_items = ParseInChunks(R"({"items":null})", {4});
  ASSERT_TRUE(null_items.status.ok()) << null_items.status.ToString();
  EXPECT_TRUE(null_items.items.empty());

  Parsed scalars = ParseInChunks(R"({"items":[1, "two" ,[3],{"4":4}]})", {1});
  ASSERT_TRUE(scalars.status.ok()) << scalars.status.ToString();
  EXPECT_THAT(scalars.items, ElementsAre("1", "\"two\"", "[3]", R"({"4":4})"));
}

TEST(ListStreamTest, MalformedInput) {
  struct Case {
    const char* doc;
    StatusCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"[1,2]", StatusCode::kInvalidArgument, "not a JSON object"},
           {R"({"items":[{"a":1}])", StatusCode::kInvalidArgument, "ended early"},
           {R"({"items":[{"a":1])", StatusCode::kInvalidArgument, "unbalanced ']'"},
           {R"({"items":{"a":1}})", StatusCode::kInvalidArgument, "items is not an array"},
           {R"({"items":[{"a":1} {"b":2}]})", StatusCode::kInvalidArgument,
            "expected ',' or ']' between items"},
           {R"({"items":[]} x)", StatusCode::kInvalidArgument, "data after the end"},
           {R"({items:[]})", StatusCode::kInvalidArgument, "expected a key"},
           {R"({"items" []})", StatusCode::kInvalidArgument, "expected ':'"},
           {R"({"items":[],"metadata":{"continue":"x"})", StatusCode::kInvalidArgument,
            "ended early"},
           {"", StatusCode::kInvalidArgument, "ended early"},
       }) {
    for (size_t size : {1, 1000}) {
      Parsed p = ParseInChunks(c.doc, {size});
      EXPECT_EQ(p.status.code(), c.code) << c.doc;
      EXPECT_THAT(p.status.message(), HasSubstr(c.message)) << c.doc;
    }
  }
}

TEST(ListStreamTest, CallbackErrorsStopTheParse) {
  int calls = 0;
  ListStreamParser parser([&](std::string_view) {
    ++calls;
    return AbortedError("enough");
  });
  Status s = parser.Feed(R"({"items":[{"a":1},{"b":2}]})");
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(parser.Feed("").code(), StatusCode::kAborted);
  EXPECT_EQ(parser.Finish().code(), StatusCode::kAborted);
  EXPECT_EQ(calls, 1);
}

TEST(ListStreamTest, OversizedItemsAreRefused) {
  ListStreamParser parser([](std::string_view) { return OkStatus(); }, 20);
  EXPECT_TRUE(parser.Feed(R"({"items":[{"a":"0123456789"},)").ok());  // 18 bytes
  Status s = parser.Feed(R"({"a":"01234567890123456789)");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("larger than 20 bytes"));

  // Also when the whole item arrives in one chunk.
  ListStreamParser whole([](std::string_view) { return OkStatus(); }, 20);
  EXPECT_EQ(whole.Feed(R"({"items":[{"a":"01234567890123456789"}]})").code(),
            StatusCode::kResourceExhausted);
}

TEST(ListStreamTest, MemoryDoesNotGrowWithTheNumberOfItems) {
  // Generates a list of 200,000 items (about 40 MB) chunk by chunk, never holding it whole.
  const std::string item_prefix =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-)";
  const std::string item_suffix = R"(","namespace":"ns","resourceVersion":"1"},"data":{"k":")" +
                                  std::string(100, 'v') + R"("}})";
  int64_t seen = 0;
  size_t bytes = 0;
  ListStreamParser parser([&](std::string_view item) {
    ++seen;
    bytes += item.size();
    return OkStatus();
  });
  ASSERT_TRUE(
      parser.Feed(R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"7"},"items":[)").ok());
  const size_t heap_before = mallinfo2().uordblks;
  size_t heap_max = heap_before;
  std::string chunk;
  constexpr int kItems = 200000;
  for (int i = 0; i < kItems; ++i) {
    chunk += i == 0 ? "" : ",";
    chunk += item_prefix;
    chunk += std::to_string(i);
    chunk += item_suffix;
    if (chunk.size() > 16384 || i + 1 == kItems) {
      // Split each chunk unevenly so items straddle chunk boundaries.
      const size_t cut = chunk.size() / 3;
      ASSERT_TRUE(parser.Feed(std::string_view(chunk).substr(0, cut)).ok());
      ASSERT_TRUE(parser.Feed(std::string_view(chunk).substr(cut)).ok());
      chunk.clear();
      heap_max = std::max(heap_max, static_cast<size_t>(mallinfo2().uordblks));
    }
  }
  ASSERT_TRUE(parser.Feed("]}").ok());
  ASSERT_TRUE(parser.Finish().ok());
  EXPECT_EQ(seen, kItems);
  EXPECT_EQ(parser.items(), kItems);
  EXPECT_GT(bytes, 30u * 1000 * 1000);
  // The parser holds at most one item at a time: growth stays far below the list's size.
  EXPECT_LT(heap_max - heap_before, 256u * 1024) << "heap grew by " << heap_max - heap_before;
}

TEST(JsonSeqSplitterTest, SplitsAWatchStream) {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
      "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"}\\\"\"}}}\n"
      "  {\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"12\"}}}\n";
  for (size_t size : {1, 3, 1000}) {
    std::vector<std::string> values;
    JsonSeqSplitter splitter([&](std::string_view v) {
      values.emplace_back(v);
      return OkStatus();
    });
    for (size_t pos = 0; pos < stream.size(); pos += size) {
      ASSERT_TRUE(splitter.Feed(std::string_view(stream).substr(pos, size)).ok());
    }
    EXPECT_TRUE(splitter.AtBoundary());
    ASSERT_EQ(values.size(), 3u) << size;
    EXPECT_EQ(nlohmann::json::parse(values[1])["object"]["metadata"]["name"], "}\"");
  }
  JsonSeqSplitter half([](std::string_view) { return OkStatus(); });
  EXPECT_TRUE(half.Feed("{\"type\":").ok());
  EXPECT_FALSE(half.AtBoundary());
  JsonSeqSplitter bad([](std::string_view) { return OkStatus(); });
  EXPECT_EQ(bad.Feed("[1]").code(), StatusCode::kInvalidArgument);
}

TEST(ObjectMetaParserTest, ReadsMetadataWithSimdjson) {
  ObjectMetaParser parser;
  Result<ObjectMeta> m = parser.Parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"prod","uid":"u-1","resourceVersion":"77",
      "labels":{"app":"web","esc\"aped":"v\u00e9"},"annotations":{"a":"b"},
      "managedFields":[{"manager":"kubectl"}]},
    "spec":{"replicas":3,"template":{"metadata":{"name":"inner"}}}})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->api_version, "apps/v1");
  EXPECT_EQ(m->kind, "Deployment");
  EXPECT_EQ(m->name, "web");
  EXPECT_EQ(m->namespace_name, "prod");
  EXPECT_EQ(m->uid, "u-1");
  EXPECT_EQ(m->resource_version, "77");
  EXPECT_EQ(m->labels.at("app"), "web");
  EXPECT_EQ(m->labels.at("esc\"aped"), "v\xc3\xa9");

  // Reusable, and cluster-scoped objects have no namespace.
  Result<ObjectMeta> ns = parser.Parse(R"({"kind":"Namespace","metadata":{"name":"x"}})");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->name, "x");
  EXPECT_EQ(ns->namespace_name, "");
  EXPECT_TRUE(ns->labels.empty());
  EXPECT_EQ(ns->deletion_timestamp, "");

  // Objects being deleted carry a deletionTimestamp (null counts as absent).
  Result<ObjectMeta> dying = parser.Parse(
      R"({"metadata":{"name":"d","deletionTimestamp":"2026-01-02T03:04:05Z","finalizers":["f"]}})");
  ASSERT_TRUE(dying.ok()) << dying.status().ToString();
  EXPECT_EQ(dying->deletion_timestamp, "2026-01-02T03:04:05Z");
  Result<ObjectMeta> null_ts =
      parser.Parse(R"({"metadata":{"name":"d","deletionTimestamp":null}})");
  ASSERT_TRUE(null_ts.ok()) << null_ts.status().ToString();
  EXPECT_EQ(null_ts->deletion_timestamp, "");

  for (const char* bad : {"", "[]", R"({"metadata":{"name":5}})", R"({"metadata":[]})",
                          R"({"metadata":{"labels":{"a":1}}})", R"({"metadata":{"name":"x")"}) {
    EXPECT_EQ(parser.Parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ObjectMetaParserTest, WatchEvents) {
  ObjectMetaParser parser;
  auto event = parser.ParseWatchEvent(
      R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->first, "MODIFIED");
  EXPECT_EQ(nlohmann::json::parse(event->second)["metadata"]["name"], "a");
  EXPECT_EQ(parser.ParseWatchEvent(R"({"type":"ADDED"})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parser.ParseWatchEvent("nope").status().code(), StatusCode::kInvalidArgument);
}

TEST(ObjectMetaParserTest, RawMetadataFieldSkimsToOneField) {
  ObjectMetaParser parser;
  const std::string object =
      R"({"kind":"ConfigMap","data":{"metadata":"not this one"},"metadata":{"name":"a",)"
      R"("labels":{"k":"v"},"managedFields":[{"manager":"m","fieldsV1":{"f:data":{}}}],)"
      R"("generation":3},"status":{}})";
  Result<std::string> mf = parser.RawMetadataField(object, "managedFields");
  ASSERT_TRUE(mf.ok()) << mf.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*mf),
            nlohmann::json::parse(R"([{"manager":"m","fieldsV1":{"f:data":{}}}])"));
  EXPECT_EQ(*parser.RawMetadataField(object, "labels"), R"({"k":"v"})");
  EXPECT_EQ(*parser.RawMetadataField(object, "generation"), "3");
  EXPECT_EQ(*parser.RawMetadataField(object, "uid"), "");
  EXPECT_EQ(*parser.RawMetadataField(R"({"kind":"X"})", "managedFields"), "");
  EXPECT_EQ(parser.RawMetadataField("[1]", "managedFields").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parser.RawMetadataField(R"({"metadata":{"managedFields":[{)", "managedFields")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parser.RawMetadataField(R"({"metadata":7})", "managedFields").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::kube
