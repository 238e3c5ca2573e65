// File: kube/label_selector.h
//
// Label selectors as Kubernetes defines them (k8s.io/apimachinery/pkg/labels): parsing the string
// form used in `?labelSelector=` and on the command line, matching a set of labels, and converting
// a metav1.LabelSelector (matchLabels/matchExpressions) to the same form.
//
// Grammar (whitespace between tokens is ignored):
//   selector    := "" | requirement ("," requirement)*
//   requirement := "!" key | key | key ("=" | "==" | "!=") value
//                | key ("in" | "notin") "(" [value ("," value)*] ")" | key (">" | "<") integer
// Keys are qualified names and values label values (kube/validation.h).
//
// Semantics: `a=b` and `a in (b,c)` need the label; `a!=b` and `a notin (b)` also match objects
// without it; `a` means the label exists, `!a` that it does not; `a>1`/`a<1` need the label
// with an integer value. Requirements are ANDed.
//
// Example:
//   ASSIGN_OR_RETURN(LabelSelector sel, LabelSelector::Parse("app=web,tier notin (db)"));
//   if (sel.Matches(labels)) ...
//   std::string query = sel.ToString();  // canonical: sorted by key, "==" written as "="
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::kube {

using Labels = std::map<std::string, std::string, std::less<>>;

enum class SelectorOp {
  kEquals,
  kNotEquals,
  kIn,
  kNotIn,
  kExists,
  kDoesNotExist,
  kGreaterThan,
  kLessThan,
};

// One requirement of a selector. `values` is sorted and free of duplicates; it holds exactly one
// value for kEquals, kNotEquals, kGreaterThan and kLessThan, at least one for kIn and kNotIn,
// and none for kExists and kDoesNotExist.
struct Requirement {
  std::string key;
  SelectorOp op = SelectorOp::kExists;
  std::vector<std::string> values;

  // Checks the rules above and the key and values, and sorts the values.
  static Result<Requirement> Make(std::string key, SelectorOp op, std::vector<std::string> values);

  bool Matches(const Labels& labels) const;
  std::string ToString() const;

  friend bool operator==(const Requirement&, const Requirement&) = default;
};

class LabelSelector {
 public:
  // Matches everything (the empty selector).
  LabelSelector() = default;

  // Parses the string form. Errors: kInvalidArgument, naming the position and what was expected.
  static Result<LabelSelector> Parse(std::string_view text);

  // Converts a metav1.LabelSelector object. An empty object selects everything; JSON null
  // selects nothing. Errors: kInvalidArgument for a wrong shape, an unknown operator, values on
  // Exists/DoesNotExist, no values on In/NotIn, or invalid keys and values.
  static Result<LabelSelector> FromLabelSelector(const nlohmann::json& selector);

  // Builds a selector from requirements (sorted by key here, as Kubernetes does).
  static LabelSelector FromRequirements(std::vector<Requirement> requirements);

  // A selector that matches nothing (what a null metav1.LabelSelector means).
  static LabelSelector Nothing();

  bool Matches(const Labels& labels) const;

  // True when the selector matches every object.
  bool Empty() const { return !nothing_ && requirements_.empty(); }

  // The canonical string form, which Parse reads back to an equal selector. "" for the empty
  // selector; Nothing() has no string form and also gives "" (do not send it to a server).
  std::string ToString() const;

  const std::vector<Requirement>& Requirements() const { return requirements_; }

  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;

 private:
  std::vector<Requirement> requirements_;
  bool nothing_ = false;
};

}  // namespace arca::kube
