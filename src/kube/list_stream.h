// File: kube/list_stream.h
//
// Streaming parsers for Kubernetes list and watch responses, so that memory depends on the
// largest object, never on how many objects a response holds.
//
// ListStreamParser takes the body of a List response (`{"kind":"ConfigMapList",
// "metadata":{...},"items":[{...},{...}]}`) in chunks of any size, as they arrive from the
// transport, and hands each element of `items` to a callback as its raw JSON text. The list's
// metadata (resourceVersion, continue, remainingItemCount) is read wherever it appears.
// It scans bytes without building any tree; each item is then parsed only as far as the caller
// needs, e.g. with ObjectMetaParser (simdjson on-demand).
//
// JsonSeqSplitter does the same for a stream of concatenated JSON values, which is what a watch
// response is: one `{"type":"ADDED","object":{...}}` after another.
//
// Example:
//   ListStreamParser parser([&](std::string_view item) { return writer.Add(item); });
//   BodySink sink = [&](std::string_view chunk) { return parser.Feed(chunk); };
//   ... transport.Send(request, &sink) ...
//   RETURN_IF_ERROR(parser.Finish());
//   next_page_token = parser.meta().continue_token;
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "kube/label_selector.h"

namespace arca::kube {

struct ListMeta {
  std::string kind;
  std::string api_version;
  std::string resource_version;
  std::string continue_token;
  std::optional<int64_t> remaining_item_count;
};

// Receives one item's JSON text. The view is valid only during the call. An error stops the
// parse and is returned from Feed.
using ItemCallback = std::function<Status(std::string_view item)>;

class ListStreamParser {
 public:
  // Items larger than this fail the parse (a safety limit; Kubernetes objects are < 1.5 MiB).
  static constexpr size_t kDefaultMaxItemBytes = size_t{64} * 1024 * 1024;

  explicit ListStreamParser(ItemCallback on_item, size_t max_item_bytes = kDefaultMaxItemBytes);
  ~ListStreamParser();
  ListStreamParser(const ListStreamParser&) = delete;
  ListStreamParser& operator=(const ListStreamParser&) = delete;

  // Consumes the next chunk. Errors: kInvalidArgument for malformed JSON or a body that is not
  // an object, kResourceExhausted for an oversized item, or the callback's error. After an error
  // every later call returns it again.
  Status Feed(std::string_view chunk);

  // Checks that the document ended. Errors: kInvalidArgument when it is incomplete.
  Status Finish();

  // Valid after Finish (and, in practice, as soon as the metadata has been read).
  const ListMeta& meta() const { return meta_; }

  // How many items were delivered so far.
  int64_t items() const { return items_; }

 private:
  class Scanner;
  std::unique_ptr<Scanner> scanner_;
  ListMeta meta_;
  int64_t items_ = 0;
};

// Splits a stream of concatenated JSON objects (whitespace or newlines between them) into the
// raw text of each.
class JsonSeqSplitter {
 public:
  explicit JsonSeqSplitter(ItemCallback on_value,
                           size_t max_value_bytes = ListStreamParser::kDefaultMaxItemBytes);
  ~JsonSeqSplitter();
  JsonSeqSplitter(const JsonSeqSplitter&) = delete;
  JsonSeqSplitter& operator=(const JsonSeqSplitter&) = delete;

  // Errors as for ListStreamParser::Feed; values must be objects.
  Status Feed(std::string_view chunk);
  // True when no value is half-read.
  bool AtBoundary() const;

 private:
  class Scanner;
  std::unique_ptr<Scanner> scanner_;
};

// The parts of metav1.ObjectMeta (and the type fields) that Arca reads from every object.
struct ObjectMeta {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  // RFC 3339; empty unless the object is being deleted (finalizers still run).
  std::string deletion_timestamp;
  Labels labels;
};

// Reads ObjectMeta from one object's JSON with simdjson on-demand, skipping everything else.
// Keeps a reusable buffer: one per thread, not thread-safe.
class ObjectMetaParser {
 public:
  ObjectMetaParser();
  ~ObjectMetaParser();
  ObjectMetaParser(const ObjectMetaParser&) = delete;
  ObjectMetaParser& operator=(const ObjectMetaParser&) = delete;

  // Errors: kInvalidArgument when `json` is not an object or its metadata is malformed.
  Result<ObjectMeta> Parse(std::string_view json);

  // The raw JSON text of `metadata.<field>` (e.g. "managedFields"), copied out, or "" when the
  // object has no such field; the rest of the object is only skimmed. Errors: kInvalidArgument
  // when `json` is not an object or is malformed on the way there.
  Result<std::string> RawMetadataField(std::string_view json, std::string_view field);

  // For a watch event (`{"type":...,"object":{...}}`): the type and the object's raw JSON,
  // copied out. Errors: kInvalidArgument.
  Result<std::pair<std::string, std::string>> ParseWatchEvent(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::kube
