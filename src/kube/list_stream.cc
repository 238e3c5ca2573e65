#include "kube/list_stream.h"

#include <simdjson.h>

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <nlohmann/json.hpp>
#include <vector>

namespace arca::kube {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The index of the first '"' or '\\' in p[i, n), or n: where a JSON string's content can end.
// Sixteen bytes at a time: most of a list's bytes are long string values (data, annotations).
size_t FindQuoteOrBackslash(const char* p, size_t i, size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int mask =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
    i += 16;
  }
#endif
  while (i < n && p[i] != '"' && p[i] != '\\') {
    ++i;
  }
  return i;
}

// Receives a top-level field of the list object other than "items".
using FieldCallback = std::function<Status(std::string_view key, std::string_view value)>;

// A byte-level JSON structure scanner. In list mode it walks the root object, captures the raw
// text of each root field (passed to `on_field`) and of each element of the root "items" array
// (passed to `on_item`). In sequence mode it captures each root value.
class StructureScanner {
 public:
  enum class Mode { kList, kSequence };

  StructureScanner(Mode mode, ItemCallback on_item, FieldCallback on_field, size_t max_value)
      : on_item_(std::move(on_item)),
        on_field_(std::move(on_field)),
        max_value_(max_value),
        state_(mode == Mode::kList ? State::kRoot : State::kSequence) {}

  Status Feed(std::string_view chunk) {
    if (!error_.ok()) {
      return error_;
    }
    error_ = Scan(chunk);
    return error_;
  }

  bool Done() const { return state_ == State::kDone; }
  bool AtBoundary() const { return state_ == State::kSequence; }
  Status error() const { return error_; }

 private:
  enum class State {
    kRoot,         // before the root object
    kExpectKey,    // in the root object, before a key or '}'
    kInKey,        // inside a root key string
    kExpectColon,  // after a root key
    kExpectValue,  // after ':'
    kAfterValue,   // after a root value: ',' or '}'
    kItems,        // in "items", before an element or ']'
    kAfterItem,    // after an element: ',' or ']'
    kCapture,      // inside a value being captured
    kDone,         // after the root object
    kSequence,     // sequence mode, between values
  };
  enum class Kind { kContainer, kString, kScalar };
  enum class Target { kItem, kField, kSequence };

  static Status Malformed(std::string_view what) {
    return InvalidArgumentError("malformed JSON in list response: " + std::string(what));
  }

  void BeginCapture(Kind kind, Target target, size_t i) {
    state_ = State::kCapture;
    kind_ = kind;
    target_ = target;
    base_depth_ = stack_.size();
    // The capture loop sees the opening bracket or quote itself.
    in_string_ = false;
    escape_ = false;
    buf_.clear();
    seg_start_ = i;
  }

  // Finishes the value that ends just before chunk[end].
  Status EndCapture(std::string_view chunk, size_t end) {
    std::string_view value;
    if (buf_.empty()) {
      value = chunk.substr(seg_start_, end - seg_start_);
    } else {
      buf_.append(chunk.data() + seg_start_, end - seg_start_);
      value = buf_;
    }
    if (value.size() > max_value_) {
      return ResourceExhaustedError("an item of the list response is larger than " +
                                    std::to_string(max_value_) + " bytes");
    }
    switch (target_) {
      case Target::kItem:
        state_ = State::kAfterItem;
        return on_item_(value);
      case Target::kField:
        state_ = State::kAfterValue;
        return on_field_(key_, value);
      case Target::kSequence:
        state_ = State::kSequence;
        return on_item_(value);
    }
    return OkStatus();
  }

  Status Push(char open) {
    stack_.push_back(open);
    return OkStatus();
  }

  Status Pop(char close) {
    if (stack_.empty() || (close == '}' ? '{' : '[') != stack_.back()) {
      return Malformed(std::string("unbalanced '") + close + "'");
    }
    stack_.pop_back();
    return OkStatus();
  }

  // Scans captured bytes from chunk[i]; returns the index after the value's end, or
  // chunk.size() when the value continues into the next chunk.
  Result<size_t> ScanCapture(std::string_view chunk, size_t i) {
    const size_t n = chunk.size();
    if (kind_ == Kind::kScalar) {
      while (i < n) {
        const char c = chunk[i];
        if (c == ',' || c == '}' || c == ']' || IsWs(c)) {
          RETURN_IF_ERROR(EndCapture(chunk, i));
          return i;  // the delimiter is processed by the outer state
        }
        ++i;
      }
      return n;
    }
    while (i < n) {
      if (in_string_) {
        // Fast path: jump to the next quote or backslash.
        if (!escape_) {
          i = FindQuoteOrBackslash(chunk.data(), i, n);
        }
        if (i >= n) {
          return n;
        }
        if (escape_) {
          escape_ = false;
          ++i;
          continue;
        }
        if (chunk[i] == '\\') {
          escape_ = true;
          ++i;
          continue;
        }
        in_string_ = false;  // the closing quote
        ++i;
        if (kind_ == Kind::kString) {
          RETURN_IF_ERROR(EndCapture(chunk, i));
          return i;
        }
        continue;
      }
      const char c = chunk[i];
      switch (c) {
        case '"':
          in_string_ = true;
          break;
        case '{':
        case '[':
          RETURN_IF_ERROR(Push(c));
          break;
        case '}':
        case ']':
          RETURN_IF_ERROR(Pop(c));
          if (stack_.size() == base_depth_) {
            RETURN_IF_ERROR(EndCapture(chunk, i + 1));
            return i + 1;
          }
          break;
        default:
          break;
      }
      ++i;
    }
    return n;
  }

  // Starts capturing a value whose first byte is chunk[i].
  Status StartValue(std::string_view chunk, size_t i, Target target) {
    const char c = chunk[i];
    if (c == '{' || c == '[') {
      BeginCapture(Kind::kContainer, target, i);
      // The opening bracket is pushed inside the capture, so base depth is the depth before it.
      return OkStatus();
    }
    if (c == '"') {
      BeginCapture(Kind::kString, target, i);
      return OkStatus();
    }
    if (c == '}' || c == ']' || c == ',' || c == ':') {
      return Malformed(std::string("unexpected '") + c + "'");
    }
    BeginCapture(Kind::kScalar, target, i);
    return OkStatus();
  }

  Status Scan(std::string_view chunk) {
    size_t i = 0;
    const size_t n = chunk.size();
    while (i < n) {
      const char c = chunk[i];
      switch (state_) {
        case State::kCapture: {
          ASSIGN_OR_RETURN(i, ScanCapture(chunk, i));
          if (state_ == State::kCapture) {
            // The value continues in the next chunk.
            buf_.append(chunk.data() + seg_start_, n - seg_start_);
            if (buf_.size() > max_value_) {
              return ResourceExhaustedError("an item of the list response is larger than " +
                                            std::to_string(max_value_) + " bytes");
            }
            seg_start_ = 0;
            return OkStatus();
          }
          continue;
        }
        case State::kRoot:
          if (c == '{') {
            RETURN_IF_ERROR(Push(c));
            state_ = State::kExpectKey;
          } else if (!IsWs(c)) {
            return Malformed("the response is not a JSON object");
          }
          break;
        case State::kExpectKey:
          if (c == '"') {
            key_.clear();
            state_ = State::kInKey;
          } else if (c == '}') {
            RETURN_IF_ERROR(Pop(c));
            state_ = State::kDone;
          } else if (!IsWs(c)) {
            return Malformed("expected a key");
          }
          break;
        case State::kInKey:
          if (escape_) {
            escape_ = false;
            key_ += c;
          } else if (c == '\\') {
            escape_ = true;
            key_ += c;
          } else if (c == '"') {
            state_ = State::kExpectColon;
          } else {
            key_ += c;
          }
          break;
        case State::kExpectColon:
          if (c == ':') {
            state_ = State::kExpectValue;
          } else if (!IsWs(c)) {
            return Malformed("expected ':'");
          }
          break;
        case State::kExpectValue:
          if (IsWs(c)) {
            break;
          }
          if (key_ == "items" && c == '[') {
            RETURN_IF_ERROR(Push(c));
            state_ = State::kItems;
            break;
          }
          if (key_ == "items" && c != 'n') {
            return Malformed("items is not an array");
          }
          RETURN_IF_ERROR(StartValue(chunk, i, Target::kField));
          continue;  // the capture state scans from this byte
        case State::kAfterValue:
          if (c == ',') {
            state_ = State::kExpectKey;
          } else if (c == '}') {
            RETURN_IF_ERROR(Pop(c));
            state_ = State::kDone;
          } else if (!IsWs(c)) {
            return Malformed("expected ',' or '}'");
          }
          break;
        case State::kItems:
          if (IsWs(c)) {
            break;
          }
          if (c == ']') {
            RETURN_IF_ERROR(Pop(c));
            state_ = State::kAfterValue;
            break;
          }
          RETURN_IF_ERROR(StartValue(chunk, i, Target::kItem));
          continue;
        case State::kAfterItem:
          if (c == ',') {
            state_ = State::kItems;
          } else if (c == ']') {
            RETURN_IF_ERROR(Pop(c));
            state_ = State::kAfterValue;
          } else if (!IsWs(c)) {
            return Malformed("expected ',' or ']' between items");
          }
          break;
        case State::kDone:
          if (!IsWs(c)) {
            return Malformed("data after the end of the response");
          }
          break;
        case State::kSequence:
          if (IsWs(c)) {
            break;
          }
          if (c != '{') {
            return Malformed("a streamed value is not an object");
          }
          RETURN_IF_ERROR(StartValue(chunk, i, Target::kSequence));
          continue;
      }
      ++i;
    }
    return OkStatus();
  }

  ItemCallback on_item_;
  FieldCallback on_field_;
  const size_t max_value_;
  State state_;
  std::vector<char> stack_;
  std::string key_;
  bool in_string_ = false;
  bool escape_ = false;
  // The value being captured.
  Kind kind_ = Kind::kContainer;
  Target target_ = Target::kItem;
  size_t base_depth_ = 0;
  std::string buf_;
  size_t seg_start_ = 0;
  Status error_;
};

}  // namespace

class ListStreamParser::Scanner : public StructureScanner {
  using StructureScanner::StructureScanner;
};

ListStreamParser::ListStreamParser(ItemCallback on_item, size_t max_item_bytes) {
  scanner_ = std::make_unique<Scanner>(
      StructureScanner::Mode::kList,
      [this, on_item = std::move(on_item)](std::string_view item) -> Status {
        ++items_;
        return on_item(item);
      },
      [this](std::string_view key, std::string_view value) -> Status {
        if (key != "metadata" && key != "kind" && key != "apiVersion") {
          return OkStatus();
        }
        const nlohmann::json v = nlohmann::json::parse(value, nullptr, false);
        if (key == "kind" && v.is_string()) {
          meta_.kind = v.get<std::string>();
        } else if (key == "apiVersion" && v.is_string()) {
          meta_.api_version = v.get<std::string>();
        } else if (key == "metadata" && v.is_object()) {
          if (auto it = v.find("resourceVersion"); it != v.end() && it->is_string()) {
            meta_.resource_version = it->get<std::string>();
          }
          if (auto it = v.find("continue"); it != v.end() && it->is_string()) {
            meta_.continue_token = it->get<std::string>();
          }
          if (auto it = v.find("remainingItemCount"); it != v.end() && it->is_number_integer()) {
            meta_.remaining_item_count = it->get<int64_t>();
          }
        } else if (v.is_discarded()) {
          return InvalidArgumentError("malformed JSON in list response: bad " + std::string(key));
        }
        return OkStatus();
      },
      max_item_bytes);
}

ListStreamParser::~ListStreamParser() = default;

Status ListStreamParser::Feed(std::string_view chunk) { return scanner_->Feed(chunk); }

Status ListStreamParser::Finish() {
  RETURN_IF_ERROR(scanner_->error());
  if (!scanner_->Done()) {
    return InvalidArgumentError("the list response ended early");
  }
  return OkStatus();
}

class JsonSeqSplitter::Scanner : public StructureScanner {
  using StructureScanner::StructureScanner;
};

JsonSeqSplitter::JsonSeqSplitter(ItemCallback on_value, size_t max_value_bytes)
    : scanner_(std::make_unique<Scanner>(StructureScanner::Mode::kSequence, std::move(on_value),
                                         nullptr, max_value_bytes)) {}

JsonSeqSplitter::~JsonSeqSplitter() = default;

Status JsonSeqSplitter::Feed(std::string_view chunk) { return scanner_->Feed(chunk); }

bool JsonSeqSplitter::AtBoundary() const { return scanner_->AtBoundary(); }

struct ObjectMetaParser::Impl {
  simdjson::ondemand::parser parser;
  std::string buffer;

  // Copies `json` into the padded buffer and starts a document.
  simdjson::error_code Load(std::string_view json, simdjson::ondemand::document& doc) {
    buffer.assign(json);
    buffer.resize(json.size() + simdjson::SIMDJSON_PADDING, ' ');
    return parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc);
  }

  // Load, then takes the document as an object. `what` names the document in errors ("" for an
  // object).
  Status LoadObject(std::string_view json, std::string_view what, simdjson::ondemand::document& doc,
                    simdjson::ondemand::object& obj);
};

ObjectMetaParser::ObjectMetaParser() : impl_(std::make_unique<Impl>()) {}
ObjectMetaParser::~ObjectMetaParser() = default;

namespace {

Status JsonError(simdjson::error_code e, std::string_view where) {
  return InvalidArgumentError("malformed object JSON (" + std::string(where) +
                              "): " + simdjson::error_message(e));
}

}  // namespace

Status ObjectMetaParser::Impl::LoadObject(std::string_view json, std::string_view what,
                                          simdjson::ondemand::document& doc,
                                          simdjson::ondemand::object& obj) {
  if (auto e = Load(json, doc); e != simdjson::SUCCESS) {
    return JsonError(e, what.empty() ? "document" : what);
  }
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) {
    return JsonError(
        e, what.empty() ? std::string("not an object") : std::string(what) + " is not an object");
  }
  return OkStatus();
}

namespace {

simdjson::error_code ReadString(simdjson::ondemand::value value, std::string& out) {
  std::string_view s;
  const simdjson::error_code e = value.get_string().get(s);
  if (e == simdjson::SUCCESS) {
    out.assign(s);
  }
  return e;
}

Status ReadMetadata(simdjson::ondemand::object metadata, ObjectMeta& out) {
  for (auto field : metadata) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return JsonError(e, "metadata key");
    }
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e != simdjson::SUCCESS) {
      return JsonError(e, "metadata value");
    }
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "name") {
      e = ReadString(value, out.name);
    } else if (key == "namespace") {
      e = ReadString(value, out.namespace_name);
    } else if (key == "uid") {
      e = ReadString(value, out.uid);
    } else if (key == "resourceVersion") {
      e = ReadString(value, out.resource_version);
    } else if (key == "deletionTimestamp") {
      simdjson::ondemand::json_type type{};
      if (e = value.type().get(type); e == simdjson::SUCCESS) {
        if (type == simdjson::ondemand::json_type::null) {
          out.deletion_timestamp.clear();
        } else {
          e = ReadString(value, out.deletion_timestamp);
        }
      }
    } else if (key == "labels") {
      simdjson::ondemand::object labels;
      if (e = value.get_object().get(labels); e == simdjson::SUCCESS) {
        for (auto label : labels) {
          std::string_view k;
          std::string v;
          if (e = label.unescaped_key().get(k); e != simdjson::SUCCESS) {
            break;
          }
          simdjson::ondemand::value lv;
          if (e = label.value().get(lv); e != simdjson::SUCCESS) {
            break;
          }
          if (e = ReadString(lv, v); e != simdjson::SUCCESS) {
            break;
          }
          out.labels.emplace(std::string(k), std::move(v));
        }
      }
    }
    if (e != simdjson::SUCCESS) {
      return JsonError(e, "metadata." + std::string(key));
    }
  }
  return OkStatus();
}

}  // namespace

Result<ObjectMeta> ObjectMetaParser::Parse(std::string_view json) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  RETURN_IF_ERROR(impl_->LoadObject(json, "", doc, obj));
  ObjectMeta out;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return JsonError(e, "key");
    }
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e != simdjson::SUCCESS) {
      return JsonError(e, "value");
    }
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "apiVersion") {
      e = ReadString(value, out.api_version);
    } else if (key == "kind") {
      e = ReadString(value, out.kind);
    } else if (key == "metadata") {
      simdjson::ondemand::object metadata;
      if (e = value.get_object().get(metadata); e == simdjson::SUCCESS) {
        RETURN_IF_ERROR(ReadMetadata(metadata, out));
      }
    }
    if (e != simdjson::SUCCESS) {
      return JsonError(e, key);
    }
  }
  return out;
}

Result<std::string> ObjectMetaParser::RawMetadataField(std::string_view json,
                                                       std::string_view field) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  RETURN_IF_ERROR(impl_->LoadObject(json, "", doc, obj));
  simdjson::ondemand::object metadata;
  if (auto e = obj["metadata"].get_object().get(metadata); e != simdjson::SUCCESS) {
    if (e == simdjson::NO_SUCH_FIELD) {
      return std::string();
    }
    return JsonError(e, "metadata");
  }
  simdjson::ondemand::value value;
  if (auto e = metadata[field].get(value); e != simdjson::SUCCESS) {
    if (e == simdjson::NO_SUCH_FIELD) {
      return std::string();
    }
    return JsonError(e, field);
  }
  simdjson::ondemand::json_type type;
  if (auto e = value.type().get(type); e != simdjson::SUCCESS) {
    return JsonError(e, field);
  }
  std::string_view raw;
  simdjson::error_code e = simdjson::SUCCESS;
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    if (e = value.get_array().get(array); e == simdjson::SUCCESS) {
      e = array.raw_json().get(raw);
    }
  } else if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    if (e = value.get_object().get(object); e == simdjson::SUCCESS) {
      e = object.raw_json().get(raw);
    }
  } else {
    raw = value.raw_json_token();
  }
  if (e != simdjson::SUCCESS) {
    return JsonError(e, field);
  }
  return std::string(raw);
}

Result<std::pair<std::string, std::string>> ObjectMetaParser::ParseWatchEvent(
    std::string_view json) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  RETURN_IF_ERROR(impl_->LoadObject(json, "watch event", doc, obj));
  std::pair<std::string, std::string> out;
  bool have_object = false;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) {
      return JsonError(e, "watch event key");
    }
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e != simdjson::SUCCESS) {
      return JsonError(e, "watch event value");
    }
    if (key == "type") {
      if (auto e = ReadString(value, out.first); e != simdjson::SUCCESS) {
        return JsonError(e, "watch event type");
      }
    } else if (key == "object") {
      std::string_view raw;
      simdjson::ondemand::object object;
      if (auto e = value.get_object().get(object); e != simdjson::SUCCESS) {
        return JsonError(e, "watch event object");
      }
      if (auto e = object.raw_json().get(raw); e != simdjson::SUCCESS) {
        return JsonError(e, "watch event object");
      }
      out.second.assign(raw);
      have_object = true;
    }
  }
  if (out.first.empty() || !have_object) {
    return InvalidArgumentError("a watch event needs a type and an object");
  }
  return out;
}

}  // namespace arca::kube
