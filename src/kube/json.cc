#include "kube/json.h"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace arca::kube {
namespace {

using Json = nlohmann::json;

// simdjson's parser keeps about 15 bytes of buffers per byte of the largest document it parsed.
// Documents up to kPooledParserBytes go through one of at most kPooledParsers parsers kept for
// reuse (so that a restore's 64 workers do not each keep one: about 2 MiB in all), larger ones up
// to kSimdjsonMaxBytes through one made for the call, and larger ones still (rare: the API server
// takes ~1.5 MiB an object) through nlohmann, whose tree needs no such buffers.
constexpr size_t kPooledParserBytes = size_t{16} << 10;
constexpr size_t kPooledParsers = 8;
constexpr size_t kSimdjsonMaxBytes = size_t{256} << 10;

class ParserPool {
 public:
  std::unique_ptr<simdjson::dom::parser> Take() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<simdjson::dom::parser> p = std::move(free_.back());
        free_.pop_back();
        return p;
      }
    }
    return std::make_unique<simdjson::dom::parser>();
  }
  void Give(std::unique_ptr<simdjson::dom::parser> p) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kPooledParsers) {
      free_.push_back(std::move(p));
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<simdjson::dom::parser>> free_;
};

// The value of a simdjson result whose type was checked (so it cannot fail).
template <typename T, typename SimdjsonResult>
T Take(SimdjsonResult&& r) {
  T v{};
  const simdjson::error_code error = std::forward<SimdjsonResult>(r).get(v);
  (void)error;
  return v;
}

Json Convert(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      Json j = Json::object();
      auto& members = j.get_ref<Json::object_t&>();
      for (simdjson::dom::key_value_pair member : Take<simdjson::dom::object>(e.get_object())) {
        // The last of duplicate keys wins, as in nlohmann's parser. Keys mostly come sorted
        // (Go writes maps so): then the new member goes at the end without a search.
        if (members.empty() || members.rbegin()->first < member.key) {
          members.emplace_hint(members.end(), std::string(member.key), Convert(member.value));
        } else {
          members.insert_or_assign(std::string(member.key), Convert(member.value));
        }
      }
      return j;
    }
    case simdjson::dom::element_type::ARRAY: {
      Json j = Json::array();
      auto& items = j.get_ref<Json::array_t&>();
      const auto array = Take<simdjson::dom::array>(e.get_array());
      items.reserve(array.size());
      for (simdjson::dom::element item : array) {
        items.push_back(Convert(item));
      }
      return j;
    }
    case simdjson::dom::element_type::STRING:
      return Json(std::string(Take<std::string_view>(e.get_string())));
    case simdjson::dom::element_type::INT64: {
      const auto v = Take<int64_t>(e.get_int64());
      // nlohmann's parser makes every non-negative integer unsigned.
      return v >= 0 ? Json(static_cast<uint64_t>(v)) : Json(v);
    }
    case simdjson::dom::element_type::UINT64:
      return Json(Take<uint64_t>(e.get_uint64()));
    case simdjson::dom::element_type::DOUBLE:
      return Json(Take<double>(e.get_double()));
    case simdjson::dom::element_type::BOOL:
      return Json(Take<bool>(e.get_bool()));
    case simdjson::dom::element_type::NULL_VALUE:
      return Json(nullptr);
  }
  return Json(nullptr);
}

bool ParseWith(simdjson::dom::parser& parser, std::string_view text, Json* out) {
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return false;
  }
  *out = Convert(root);
  return true;
}

uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Whether any of the eight bytes of `v` is below 0x20, '"' or '\\' (bit tricks on a word:
// a byte below n makes (b - n) borrow into its top bit; x ^ broadcast(c) has a zero byte where
// a byte equals c).
bool NeedsEscape(uint64_t v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
  const bool control = ((v - kOnes * 0x20) & ~v & kHigh) != 0;
  return control || has_zero(v ^ (kOnes * '"')) || has_zero(v ^ (kOnes * '\\'));
}

// Appends `s` quoted and escaped as nlohmann's serializer does (ensure_ascii off).
void AppendString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none of them needs escaping.
    while (i + 8 <= s.size() && !NeedsEscape(Load8(s.data() + i))) {
      i += 8;
    }
    if (i >= s.size()) {
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out.append(u, sizeof(u));
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

template <typename Int>
void AppendInt(Int v, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 24 bytes hold any 64-bit integer
  out.append(buf, end);
}

// False at the first string (or key) that is not valid UTF-8.
bool Append(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const Json::object_t&>()) {
        if (!first) {
          out += ',';
        }
        first = false;
        if (!simdjson::validate_utf8(key.data(), key.size())) {
          return false;
        }
        AppendString(key, out);
        out += ':';
        if (!Append(value, out)) {
          return false;
        }
      }
      out += '}';
      return true;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& item : j.get_ref<const Json::array_t&>()) {
        if (!first) {
          out += ',';
        }
        first = false;
        if (!Append(item, out)) {
          return false;
        }
      }
      out += ']';
      return true;
    }
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      if (!simdjson::validate_utf8(s.data(), s.size())) {
        return false;
      }
      AppendString(s, out);
      return true;
    }
    case Json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return true;
    case Json::value_t::null:
      out += "null";
      return true;
    case Json::value_t::number_integer:
      AppendInt(j.get<int64_t>(), out);
      return true;
    case Json::value_t::number_unsigned:
      AppendInt(j.get<uint64_t>(), out);
      return true;
    case Json::value_t::number_float:
    case Json::value_t::binary:
    case Json::value_t::discarded:
      out += j.dump();  // nlohmann's shortest round-trip form of a double; the rest are rare
      return true;
  }
  return true;
}

}  // namespace

Json ParseJson(std::string_view text) {
  Json out;
  if (text.size() <= kPooledParserBytes) {
    static ParserPool pool;  // a cache of buffers, shared by every thread
    std::unique_ptr<simdjson::dom::parser> parser = pool.Take();
    const bool parsed = ParseWith(*parser, text, &out);
    pool.Give(std::move(parser));
    if (parsed) {
      return out;
    }
  } else if (text.size() <= kSimdjsonMaxBytes) {
    simdjson::dom::parser parser;
    if (ParseWith(parser, text, &out)) {
      return out;
    }
  }
  return Json::parse(text, nullptr, false);
}

std::string DumpJson(const Json& value, size_t size_hint) {
  std::string out;
  out.reserve(size_hint);
  if (!Append(value, out)) {
    return value.dump();  // throws nlohmann's type_error 316 for the invalid UTF-8
  }
  return out;
}

}  // namespace arca::kube
