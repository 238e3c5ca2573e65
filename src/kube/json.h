// File: kube/json.h
//
// Fast equivalents of nlohmann::json::parse(text, nullptr, false) and nlohmann::json::dump() for
// the hot path of a restore, where every backed-up object is parsed, changed and written again.
// nlohmann's own parser reads a character at a time, and its serializer escapes one; on objects
// of a few KiB of data they cost most of a restore's CPU besides the HTTP exchange. These give
// the same results several times faster:
//
//   ParseJson  parses with simdjson's DOM parser (SIMD, validating UTF-8) and builds the
//              nlohmann value from it. The value is the one nlohmann's parser gives: a
//              non-negative integer is number_unsigned, a negative one number_integer, anything
//              with a fraction or exponent number_float (only "-0" differs: unsigned 0 here,
//              signed 0 there, equal and printed alike), and of duplicate keys the last one wins.
//              Text simdjson does not take (malformed JSON, integers beyond 64 bits, nesting
//              deeper than 1024) goes to nlohmann's parser, so the answer is always nlohmann's,
//              a discarded value for text that is not JSON.
//   DumpJson   writes the compact text nlohmann's dump() writes, byte for byte: strings escaped
//              as nlohmann escapes them (\" \\ \b \f \n \r \t, other control characters as
//              \u00xx), numbers as nlohmann prints them. A string that is not valid UTF-8 makes
//              it call dump(), which throws nlohmann's type_error 316 as before.
//
// Thread-safe (the parsers' buffers are pooled).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace arca::kube {

// nlohmann::json::parse(text, nullptr, false), faster.
nlohmann::json ParseJson(std::string_view text);

// value.dump(), faster. `size_hint`: the expected length, to allocate once.
std::string DumpJson(const nlohmann::json& value, size_t size_hint = 0);

}  // namespace arca::kube
