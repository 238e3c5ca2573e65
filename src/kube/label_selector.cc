#include "kube/label_selector.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "kube/validation.h"

namespace arca::kube {
namespace {

enum class Tok {
  kEnd,
  kIdentifier,
  kComma,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kBang,
  kIn,
  kNotIn,
  kOpenParen,
  kCloseParen,
  kGreater,
  kLess,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t pos = 0;
};

bool IsSpecial(char c) {
  return c == ',' || c == '=' || c == '!' || c == '(' || c == ')' || c == '<' || c == '>';
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) {
      ++i;
    }
    if (i >= s.size()) {
      out.push_back({Tok::kEnd, "", i});
      return out;
    }
    const size_t start = i;
    const char c = s[i];
    if (IsSpecial(c)) {
      const bool next_eq = i + 1 < s.size() && s[i + 1] == '=';
      Tok kind = Tok::kEnd;
      size_t len = 1;
      switch (c) {
        case ',':
          kind = Tok::kComma;
          break;
        case '(':
          kind = Tok::kOpenParen;
          break;
        case ')':
          kind = Tok::kCloseParen;
          break;
        case '<':
          kind = Tok::kLess;
          break;
        case '>':
          kind = Tok::kGreater;
          break;
        case '=':
          kind = next_eq ? Tok::kDoubleEquals : Tok::kEquals;
          len = next_eq ? 2 : 1;
          break;
        default:  // '!'
          kind = next_eq ? Tok::kNotEquals : Tok::kBang;
          len = next_eq ? 2 : 1;
          break;
      }
      i += len;
      out.push_back({kind, std::string(s.substr(start, len)), start});
      continue;
    }
    while (i < s.size() && !IsSpace(s[i]) && !IsSpecial(s[i])) {
      ++i;
    }
    std::string word(s.substr(start, i - start));
    Tok kind = Tok::kIdentifier;
    if (word == "in") {
      kind = Tok::kIn;
    } else if (word == "notin") {
      kind = Tok::kNotIn;
    }
    out.push_back({kind, std::move(word), start});
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Lex(text)) {}

  Result<std::vector<Requirement>> ParseAll() {
    std::vector<Requirement> out;
    if (Peek().kind == Tok::kEnd) {
      return out;
    }
    while (true) {
      ASSIGN_OR_RETURN(Requirement r, ParseRequirement());
      out.push_back(std::move(r));
      const Token& t = Next();
      if (t.kind == Tok::kEnd) {
        return out;
      }
      if (t.kind != Tok::kComma) {
        return Unexpected(t, "',' or end of selector");
      }
    }
  }

 private:
  const Token& Peek() const { return tokens_[index_]; }
  const Token& Next() {
    const Token& t = tokens_[index_];
    if (index_ + 1 < tokens_.size()) {
      ++index_;
    }
    return t;
  }

  static Status Unexpected(const Token& t, std::string_view expected) {
    const std::string found = t.kind == Tok::kEnd ? "end of selector" : "'" + t.text + "'";
    return InvalidArgumentError("label selector: found " + found + " at position " +
                                std::to_string(t.pos) + ", expected " + std::string(expected));
  }

  Result<Requirement> ParseRequirement() {
    if (Peek().kind == Tok::kBang) {
      Next();
      const Token& key = Next();
      if (key.kind != Tok::kIdentifier) {
        return Unexpected(key, "a label key after '!'");
      }
      return Requirement::Make(key.text, SelectorOp::kDoesNotExist, {});
    }
    const Token& key = Next();
    if (key.kind != Tok::kIdentifier) {
      return Unexpected(key, "a label key");
    }
    if (Peek().kind == Tok::kEnd || Peek().kind == Tok::kComma) {
      return Requirement::Make(key.text, SelectorOp::kExists, {});
    }
    const Token& op = Next();
    switch (op.kind) {
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        return ParseSingle(key.text, SelectorOp::kEquals);
      case Tok::kNotEquals:
        return ParseSingle(key.text, SelectorOp::kNotEquals);
      case Tok::kGreater:
        return ParseSingle(key.text, SelectorOp::kGreaterThan);
      case Tok::kLess:
        return ParseSingle(key.text, SelectorOp::kLessThan);
      case Tok::kIn:
        return ParseSet(key.text, SelectorOp::kIn);
      case Tok::kNotIn:
        return ParseSet(key.text, SelectorOp::kNotIn);
      default:
        return Unexpected(op, "an operator (=, ==, !=, in, notin, >, <), ',' or end of selector");
    }
  }

  // `key=` followed by ',' or the end means the empty value, as in Kubernetes.
  Result<Requirement> ParseSingle(std::string key, SelectorOp op) {
    const Token& t = Peek();
    if (t.kind == Tok::kIdentifier) {
      Next();
      return Requirement::Make(std::move(key), op, {t.text});
    }
    if ((t.kind == Tok::kEnd || t.kind == Tok::kComma) &&
        (op == SelectorOp::kEquals || op == SelectorOp::kNotEquals)) {
      return Requirement::Make(std::move(key), op, {""});
    }
    return Unexpected(t, "a value");
  }

  // `( v1, v2 )`; an empty entry, as in `(a,)`, is the empty value.
  Result<Requirement> ParseSet(std::string key, SelectorOp op) {
    const Token& open = Next();
    if (open.kind != Tok::kOpenParen) {
      return Unexpected(open,
                        "'(' after '" + std::string(op == SelectorOp::kIn ? "in" : "notin") + "'");
    }
    std::vector<std::string> values;
    if (Peek().kind == Tok::kCloseParen) {
      Next();
      return Requirement::Make(std::move(key), op, std::move(values));
    }
    while (true) {
      const Token& t = Peek();
      if (t.kind == Tok::kIdentifier) {
        values.push_back(t.text);
        Next();
      } else if (t.kind == Tok::kComma || t.kind == Tok::kCloseParen) {
        values.emplace_back();
      } else {
        return Unexpected(t, "a value, ',' or ')'");
      }
      const Token& sep = Next();
      if (sep.kind == Tok::kCloseParen) {
        return Requirement::Make(std::move(key), op, std::move(values));
      }
      if (sep.kind != Tok::kComma) {
        return Unexpected(sep, "',' or ')'");
      }
    }
  }

  std::vector<Token> tokens_;
  size_t index_ = 0;
};

bool ParseInt(std::string_view s, long long& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end && !s.empty();
}

std::string_view OpName(SelectorOp op) {
  switch (op) {
    case SelectorOp::kEquals:
      return "=";
    case SelectorOp::kNotEquals:
      return "!=";
    case SelectorOp::kIn:
      return "in";
    case SelectorOp::kNotIn:
      return "notin";
    case SelectorOp::kExists:
      return "exists";
    case SelectorOp::kDoesNotExist:
      return "!";
    case SelectorOp::kGreaterThan:
      return ">";
    case SelectorOp::kLessThan:
      return "<";
  }
  return "?";
}

}  // namespace

Result<Requirement> Requirement::Make(std::string key, SelectorOp op,
                                      std::vector<std::string> values) {
  if (Status s = ValidateQualifiedName(key); !s.ok()) {
    return s.WithContext("label selector key");
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  const std::string where = "label selector requirement on \"" + key + "\"";
  switch (op) {
    case SelectorOp::kIn:
    case SelectorOp::kNotIn:
      if (values.empty()) {
        return InvalidArgumentError(where + ": '" + std::string(OpName(op)) +
                                    "' needs at least one value");
      }
      break;
    case SelectorOp::kEquals:
    case SelectorOp::kNotEquals:
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan:
      if (values.size() != 1) {
        return InvalidArgumentError(where + ": '" + std::string(OpName(op)) +
                                    "' needs exactly one value");
      }
      break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist:
      if (!values.empty()) {
        return InvalidArgumentError(where + ": an existence test takes no values");
      }
      break;
  }
  if (op == SelectorOp::kGreaterThan || op == SelectorOp::kLessThan) {
    long long unused = 0;
    if (!ParseInt(values[0], unused)) {
      return InvalidArgumentError(where + ": '" + std::string(OpName(op)) +
                                  "' needs an integer, got \"" + values[0] + "\"");
    }
  } else {
    for (const std::string& v : values) {
      if (Status s = ValidateLabelValue(v); !s.ok()) {
        return s.WithContext(where);
      }
    }
  }
  return Requirement{std::move(key), op, std::move(values)};
}

bool Requirement::Matches(const Labels& labels) const {
  const auto it = labels.find(key);
  const bool has = it != labels.end();
  const auto contains = [&](const std::string& v) {
    return std::binary_search(values.begin(), values.end(), v);
  };
  switch (op) {
    case SelectorOp::kEquals:
    case SelectorOp::kIn:
      return has && contains(it->second);
    case SelectorOp::kNotEquals:
    case SelectorOp::kNotIn:
      return !has || !contains(it->second);
    case SelectorOp::kExists:
      return has;
    case SelectorOp::kDoesNotExist:
      return !has;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan: {
      long long have = 0;
      long long want = 0;
      if (!has || !ParseInt(it->second, have) || !ParseInt(values[0], want)) {
        return false;
      }
      return op == SelectorOp::kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

std::string Requirement::ToString() const {
  switch (op) {
    case SelectorOp::kExists:
      return key;
    case SelectorOp::kDoesNotExist:
      return "!" + key;
    case SelectorOp::kIn:
    case SelectorOp::kNotIn: {
      std::string out = key + " " + std::string(OpName(op)) + " (";
      for (size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "" : ",") + values[i];
      }
      return out + ")";
    }
    default:
      return key + std::string(OpName(op)) + values[0];
  }
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  Parser parser(text);
  ASSIGN_OR_RETURN(std::vector<Requirement> requirements, parser.ParseAll());
  return FromRequirements(std::move(requirements));
}

LabelSelector LabelSelector::FromRequirements(std::vector<Requirement> requirements) {
  LabelSelector out;
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  out.requirements_ = std::move(requirements);
  return out;
}

LabelSelector LabelSelector::Nothing() {
  LabelSelector out;
  out.nothing_ = true;
  return out;
}

Result<LabelSelector> LabelSelector::FromLabelSelector(const nlohmann::json& selector) {
  if (selector.is_null()) {
    return Nothing();
  }
  if (!selector.is_object()) {
    return InvalidArgumentError("a LabelSelector must be a JSON object");
  }
  std::vector<Requirement> requirements;
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) {
      return InvalidArgumentError("LabelSelector.matchLabels must be an object");
    }
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return InvalidArgumentError("LabelSelector.matchLabels[\"" + key + "\"] is not a string");
      }
      ASSIGN_OR_RETURN(Requirement r,
                       Requirement::Make(key, SelectorOp::kEquals, {value.get<std::string>()}));
      requirements.push_back(std::move(r));
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) {
      return InvalidArgumentError("LabelSelector.matchExpressions must be an array");
    }
    for (const nlohmann::json& expr : *it) {
      if (!expr.is_object() || !expr.contains("key") || !expr["key"].is_string() ||
          !expr.contains("operator") || !expr["operator"].is_string()) {
        return InvalidArgumentError(
            "each LabelSelector.matchExpressions entry needs string fields key and operator");
      }
      const std::string key = expr["key"].get<std::string>();
      const std::string op_name = expr["operator"].get<std::string>();
      std::vector<std::string> values;
      if (auto v = expr.find("values"); v != expr.end() && !v->is_null()) {
        if (!v->is_array()) {
          return InvalidArgumentError("matchExpressions values for \"" + key +
                                      "\" must be an array");
        }
        for (const nlohmann::json& value : *v) {
          if (!value.is_string()) {
            return InvalidArgumentError("matchExpressions values for \"" + key +
                                        "\" must be strings");
          }
          values.push_back(value.get<std::string>());
        }
      }
      SelectorOp op = SelectorOp::kIn;
      if (op_name == "In") {
        op = SelectorOp::kIn;
      } else if (op_name == "NotIn") {
        op = SelectorOp::kNotIn;
      } else if (op_name == "Exists") {
        op = SelectorOp::kExists;
      } else if (op_name == "DoesNotExist") {
        op = SelectorOp::kDoesNotExist;
      } else {
        std::string message = "matchExpressions operator \"" + op_name;
        message += "\" for \"" + key + "\" is not one of In, NotIn, Exists, DoesNotExist";
        return InvalidArgumentError(std::move(message));
      }
      ASSIGN_OR_RETURN(Requirement r, Requirement::Make(key, op, std::move(values)));
      requirements.push_back(std::move(r));
    }
  }
  return FromRequirements(std::move(requirements));
}

bool LabelSelector::Matches(const Labels& labels) const {
  if (nothing_) {
    return false;
  }
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return r.Matches(labels); });
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const Requirement& r : requirements_) {
    if (!out.empty()) {
      out += ',';
    }
    out += r.ToString();
  }
  return out;
}

}  // namespace arca::kube
