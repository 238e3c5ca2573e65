#include "backup/filters.h"

#include <algorithm>

#include "backup/glob.h"

namespace arca::backup {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool AnyMatch(const std::vector<std::string>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return GlobMatch(p, name); });
}

bool IsAutoExcluded(std::string_view gr) {
  return std::find(std::begin(kAutoExcludedTypes), std::end(kAutoExcludedTypes), gr) !=
         std::end(kAutoExcludedTypes);
}

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::vector<std::string> ValidateNamespaceName(const std::string& ns) {
  std::vector<std::string> errs;
  if (ns.empty() || ns == "*") {
    return errs;  // "" means "no namespace" to Velero; "*" means all
  }
  auto invalid = [&](const std::string& why) {
    errs.push_back("invalid namespace \"" + ns + "\": " + why);
  };
  if (ns.find_first_of("|(){}!,") != std::string::npos) {
    invalid("unsupported glob character (only '*', '?' and '[...]' are allowed)");
    return errs;
  }
  if (ns.find("**") != std::string::npos) {
    invalid("'**' is not supported");
    return errs;
  }
  // Replace glob syntax by a letter, then check what remains as a Kubernetes namespace name.
  std::string probe;
  for (size_t i = 0; i < ns.size(); ++i) {
    char c = ns[i];
    if (c == '*' || c == '?') {
      probe += 'x';
    } else if (c == '[') {
      size_t close = ns.find(']', i + 1);
      if (close == std::string::npos) {
        invalid("unclosed '['");
        return errs;
      }
      if (close == i + 1) {
        invalid("empty '[]'");
        return errs;
      }
      probe += 'x';
      i = close;
    } else if (c == ']') {
      invalid("unbalanced ']'");
      return errs;
    } else {
      probe += c;
    }
  }
  if (!IsDnsLabel(probe)) {
    invalid(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character, at most 63 characters");
  }
  return errs;
}

void Append(std::vector<std::string>& to, std::vector<std::string> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

bool IncludesExcludes::IsExcluded(std::string_view name) const { return AnyMatch(excludes_, name); }

bool IncludesExcludes::ShouldInclude(std::string_view name) const {
  if (IsExcluded(name)) {
    return false;
  }
  return includes_.empty() || Contains(includes_, "*") || AnyMatch(includes_, name);
}

bool IncludesExcludes::IncludesEverything() const {
  return excludes_.empty() &&
         (includes_.empty() || (includes_.size() == 1 && includes_.front() == "*"));
}

NamespaceSelection ResolveNamespaces(std::vector<std::string> includes,
                                     std::vector<std::string> excludes,
                                     const std::vector<std::string>& live_namespaces) {
  NamespaceSelection out;
  bool wildcard = std::any_of(includes.begin(), includes.end(), HasGlobChars) ||
                  std::any_of(excludes.begin(), excludes.end(), HasGlobChars);
  if (includes.empty() || Contains(includes, "*") || !wildcard) {
    out.filter = IncludesExcludes(std::move(includes), std::move(excludes));
    return out;
  }
  auto expand = [&](const std::vector<std::string>& patterns) {
    std::vector<std::string> names;
    for (const std::string& p : patterns) {
      if (!HasGlobChars(p)) {
        if (!Contains(names, p)) {
          names.push_back(p);
        }
        continue;
      }
      for (const std::string& ns : live_namespaces) {
        if (GlobMatch(p, ns) && !Contains(names, ns)) {
          names.push_back(ns);
        }
      }
    }
    return names;
  };
  out.expanded = true;
  std::vector<std::string> inc = expand(includes);
  std::vector<std::string> exc = expand(excludes);
  if (inc.empty()) {
    // Nothing matched: include nothing (an empty include list would mean everything).
    out.matched_nothing = true;
    out.filter = IncludesExcludes({}, {"*"});
    return out;
  }
  out.filter = IncludesExcludes(std::move(inc), std::move(exc));
  return out;
}

bool GlobalResourceFilter::ShouldInclude(const ResourceType& type) const {
  if (!type.namespaced) {
    if (include_cluster_.has_value() && !*include_cluster_) {
      return false;
    }
    if (!include_cluster_.has_value() && type.group_resource != "namespaces" &&
        !namespaces_everything_) {
      return false;
    }
  }
  return resources_.ShouldInclude(type.group_resource);
}

bool GlobalResourceFilter::ShouldExclude(const ResourceType& type) const {
  if (type.namespaced) {
    return false;
  }
  if (include_cluster_.has_value() && !*include_cluster_) {
    return true;
  }
  if (resources_.IsExcluded(type.group_resource)) {
    return true;
  }
  return !include_cluster_.has_value() && !resources_.ShouldInclude(type.group_resource);
}

bool ScopedResourceFilter::ShouldInclude(const ResourceType& type) const {
  if (type.namespaced) {
    return namespaced_.ShouldInclude(type.group_resource);
  }
  if (Contains(cluster_.excludes(), "*") || cluster_.IsExcluded(type.group_resource)) {
    return false;
  }
  bool namespaced_everything =
      namespaced_.excludes().empty() &&
      (namespaced_.includes().empty() ||
       (namespaced_.includes().size() == 1 && namespaced_.includes().front() == "*"));
  if (cluster_.includes().empty() && cluster_.excludes().empty() && namespaces_everything_ &&
      namespaced_everything) {
    return true;  // a full backup takes every cluster-scoped type
  }
  if (type.group_resource == "namespaces") {
    return true;
  }
  return Contains(cluster_.includes(), "*") || AnyMatch(cluster_.includes(), type.group_resource);
}

bool ScopedResourceFilter::ShouldExclude(const ResourceType& type) const {
  if (type.namespaced) {
    return false;
  }
  return Contains(cluster_.excludes(), "*") || cluster_.IsExcluded(type.group_resource);
}

ResourceFilter::ResourceFilter(const ResourceFilterSpec& spec, bool namespaces_everything) {
  if (spec.UsesOldFilters()) {
    global_.emplace(IncludesExcludes(spec.included_resources, spec.excluded_resources),
                    spec.include_cluster_resources, namespaces_everything);
  } else {
    scoped_.emplace(IncludesExcludes(spec.included_cluster_scoped_resources,
                                     spec.excluded_cluster_scoped_resources),
                    IncludesExcludes(spec.included_namespace_scoped_resources,
                                     spec.excluded_namespace_scoped_resources),
                    namespaces_everything);
  }
}

bool ResourceFilter::ShouldInclude(const ResourceType& type) const {
  if (IsAutoExcluded(type.group_resource)) {
    return false;
  }
  return global_ ? global_->ShouldInclude(type) : scoped_->ShouldInclude(type);
}

bool ResourceFilter::ShouldExclude(const ResourceType& type) const {
  if (IsAutoExcluded(type.group_resource)) {
    return true;
  }
  return global_ ? global_->ShouldExclude(type) : scoped_->ShouldExclude(type);
}

std::vector<std::string> ValidateIncludesExcludes(const std::vector<std::string>& includes,
                                                  const std::vector<std::string>& excludes) {
  std::vector<std::string> errs;
  if (includes.size() > 1 && Contains(includes, "*")) {
    errs.emplace_back("includes list must either contain '*' only, or a non-empty list of items");
  }
  if (Contains(excludes, "*")) {
    errs.emplace_back("excludes list cannot contain '*'");
  }
  for (const std::string& e : excludes) {
    if (Contains(includes, e)) {
      errs.push_back("excludes list cannot contain an item in the includes list: " + e);
    }
  }
  return errs;
}

std::vector<std::string> ValidateScopedIncludesExcludes(const std::vector<std::string>& includes,
                                                        const std::vector<std::string>& excludes) {
  std::vector<std::string> errs;
  if (includes.size() > 1 && Contains(includes, "*")) {
    errs.emplace_back("includes list must either contain '*' only, or a non-empty list of items");
  }
  if (excludes.size() > 1 && Contains(excludes, "*")) {
    errs.emplace_back("excludes list must either contain '*' only, or a non-empty list of items");
  }
  if (excludes.size() == 1 && excludes.front() == "*" && !includes.empty()) {
    errs.emplace_back("when exclude is '*', include cannot have value");
  }
  for (const std::string& e : excludes) {
    if (Contains(includes, e)) {
      errs.push_back("excludes list cannot contain an item in the includes list: " + e);
    }
  }
  return errs;
}

std::vector<std::string> ValidateNamespaceFilters(const std::vector<std::string>& includes,
                                                  const std::vector<std::string>& excludes) {
  std::vector<std::string> errs;
  for (const std::string& ns : includes) {
    Append(errs, ValidateNamespaceName(ns));
  }
  for (const std::string& ns : excludes) {
    Append(errs, ValidateNamespaceName(ns));
  }
  Append(errs, ValidateIncludesExcludes(includes, excludes));
  return errs;
}

std::vector<std::string> ValidateResourceFilters(const ResourceFilterSpec& spec) {
  std::vector<std::string> errs;
  if (spec.UsesOldFilters() && spec.UsesNewFilters()) {
    errs.emplace_back(
        "include-resources, exclude-resources and include-cluster-resources are old filter "
        "parameters; include-cluster-scoped-resources, exclude-cluster-scoped-resources, "
        "include-namespace-scoped-resources and exclude-namespace-scoped-resources are new filter "
        "parameters: they cannot be used together");
  }
  if (spec.UsesNewFilters()) {
    Append(errs, ValidateScopedIncludesExcludes(spec.included_cluster_scoped_resources,
                                                spec.excluded_cluster_scoped_resources));
    Append(errs, ValidateScopedIncludesExcludes(spec.included_namespace_scoped_resources,
                                                spec.excluded_namespace_scoped_resources));
  } else {
    Append(errs, ValidateIncludesExcludes(spec.included_resources, spec.excluded_resources));
  }
  return errs;
}

}  // namespace arca::backup
