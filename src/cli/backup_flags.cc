#include "cli/backup_flags.h"

#include <sstream>
#include <utility>

#include "api/duration.h"
#include "cli/format.h"
#include "kube/label_selector.h"

namespace arca::cli {

void BackupSpecFlags::AddTo(CLI::App& command) {
  command
      .add_option("--include-namespaces", include_namespaces,
                  "Namespaces to include (globs allowed; default *)")
      ->delimiter(',');
  command.add_option("--exclude-namespaces", exclude_namespaces, "Namespaces to exclude")
      ->delimiter(',');
  command
      .add_option("--include-resources", include_resources,
                  "Resources to include (e.g. pods,deployments.apps; default all)")
      ->delimiter(',');
  command.add_option("--exclude-resources", exclude_resources, "Resources to exclude")
      ->delimiter(',');
  include_cluster_resources_opt = command.add_flag(
      "--include-cluster-resources", include_cluster_resources,
      "Include cluster-scoped resources (=true or =false; unset: related ones only when "
      "namespaces are filtered)");
  command
      .add_option("--include-cluster-scoped-resources", include_cluster_scoped,
                  "Cluster-scoped resources to include (* for all)")
      ->delimiter(',');
  command
      .add_option("--exclude-cluster-scoped-resources", exclude_cluster_scoped,
                  "Cluster-scoped resources to exclude (* for all)")
      ->delimiter(',');
  command
      .add_option("--include-namespace-scoped-resources", include_namespace_scoped,
                  "Namespace-scoped resources to include (* for all)")
      ->delimiter(',');
  command
      .add_option("--exclude-namespace-scoped-resources", exclude_namespace_scoped,
                  "Namespace-scoped resources to exclude (* for all)")
      ->delimiter(',');
  command.add_option("-l,--selector", selector, "Only back up objects matching this selector");
  command.add_option("--or-selector", or_selector,
                     "Objects matching any of these selectors, e.g. 'app=web or tier=db'");
  command.add_option("--ordered-resources", ordered_resources,
                     "Items backed up first, in order: 'pods=ns1/p1,ns1/p2;"
                     "persistentvolumeclaims=ns1/pvc4'");
  command.add_option("--ttl", ttl, "How long to keep the backup (default 720h0m0s)");
  command.add_option("--storage-location", storage_location,
                     "The storage location's name recorded in the backup (default \"default\")");
}

Result<api::BackupSpec> BackupSpecFlags::Build() const {
  api::BackupSpec s;
  s.included_namespaces = include_namespaces;
  s.excluded_namespaces = exclude_namespaces;
  s.included_resources = include_resources;
  s.excluded_resources = exclude_resources;
  if (include_cluster_resources_opt != nullptr && include_cluster_resources_opt->count() > 0) {
    s.include_cluster_resources = include_cluster_resources;
  }
  s.included_cluster_scoped_resources = include_cluster_scoped;
  s.excluded_cluster_scoped_resources = exclude_cluster_scoped;
  s.included_namespace_scoped_resources = include_namespace_scoped;
  s.excluded_namespace_scoped_resources = exclude_namespace_scoped;
  if (!selector.empty()) {
    ASSIGN_OR_RETURN(nlohmann::json sel, ParseSelectorFlag(selector));
    s.label_selector = std::move(sel);
  }
  if (!or_selector.empty()) {
    ASSIGN_OR_RETURN(s.or_label_selectors, ParseOrSelectorFlag(or_selector));
  }
  if (!ordered_resources.empty()) {
    ASSIGN_OR_RETURN(s.ordered_resources, ParseOrderedResources(ordered_resources));
  }
  if (!ttl.empty()) {
    Result<api::Duration> parsed = api::ParseDuration(ttl);
    if (!parsed.ok()) {
      return InvalidArgumentError("--ttl: " + parsed.status().message() +
                                  "; use a Go duration such as 720h or 24h30m");
    }
    s.ttl = *parsed;
  }
  s.storage_location = storage_location;
  return s;
}

Result<std::map<std::string, std::string>> ParseOrderedResources(std::string_view text) {
  std::map<std::string, std::string> out;
  std::stringstream ss{std::string(text)};
  std::string part;
  while (std::getline(ss, part, ';')) {
    part = Trim(part);
    if (part.empty()) {
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
      return InvalidArgumentError(
          "--ordered-resources: \"" + part +
          "\" is not of the form resource=ns/name,...; e.g. "
          "--ordered-resources 'pods=ns1/pod1,ns1/pod2;persistentvolumeclaims=ns1/pvc4'");
    }
    out[Trim(part.substr(0, eq))] = Trim(part.substr(eq + 1));
  }
  return out;
}

Result<std::vector<nlohmann::json>> ParseOrSelectorFlag(std::string_view text) {
  std::vector<nlohmann::json> out;
  const std::string all(text);
  size_t pos = 0;
  while (true) {
    const size_t next = all.find(" or ", pos);
    std::string part = Trim(all.substr(pos, next == std::string::npos ? next : next - pos));
    if (part.empty()) {
      return InvalidArgumentError("--or-selector: empty selector in \"" + all +
                                  "\"; write e.g. --or-selector 'app=web or tier=db'");
    }
    ASSIGN_OR_RETURN(nlohmann::json sel, ParseSelectorFlag(part));
    out.push_back(std::move(sel));
    if (next == std::string::npos) {
      return out;
    }
    pos = next + 4;
  }
}

Result<nlohmann::json> ParseSelectorFlag(std::string_view text) {
  Result<kube::LabelSelector> parsed = kube::LabelSelector::Parse(text);
  if (!parsed.ok()) {
    return InvalidArgumentError("invalid label selector \"" + std::string(text) +
                                "\": " + parsed.status().message() +
                                "; write e.g. app=web,tier in (front,back)");
  }
  nlohmann::json match_labels = nlohmann::json::object();
  nlohmann::json expressions = nlohmann::json::array();
  for (const kube::Requirement& r : parsed->Requirements()) {
    switch (r.op) {
      case kube::SelectorOp::kEquals:
        match_labels[r.key] = r.values.at(0);
        break;
      case kube::SelectorOp::kIn:
        expressions.push_back({{"key", r.key}, {"operator", "In"}, {"values", r.values}});
        break;
      case kube::SelectorOp::kNotEquals:
      case kube::SelectorOp::kNotIn:
        expressions.push_back({{"key", r.key}, {"operator", "NotIn"}, {"values", r.values}});
        break;
      case kube::SelectorOp::kExists:
        expressions.push_back({{"key", r.key}, {"operator", "Exists"}});
        break;
      case kube::SelectorOp::kDoesNotExist:
        expressions.push_back({{"key", r.key}, {"operator", "DoesNotExist"}});
        break;
      case kube::SelectorOp::kGreaterThan:
      case kube::SelectorOp::kLessThan:
        return InvalidArgumentError("invalid label selector \"" + std::string(text) +
                                    "\": a backup's label selector cannot use > or <");
    }
  }
  nlohmann::json out = nlohmann::json::object();
  if (!match_labels.empty()) {
    out["matchLabels"] = match_labels;
  }
  if (!expressions.empty()) {
    out["matchExpressions"] = expressions;
  }
  return out;
}

std::string FormatLabelSelector(const nlohmann::json& selector) {
  Result<kube::LabelSelector> s = kube::LabelSelector::FromLabelSelector(selector);
  if (!s.ok()) {
    return "<error>";
  }
  std::string text = s->ToString();
  return text.empty() ? "<none>" : text;
}

}  // namespace arca::cli
