#include "cli/cluster.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>

#include "cli/format.h"
#include "kube/label_selector.h"

namespace arca::cli {

void ClusterFlags::AddTo(CLI::App& command) {
  kube.AddTo(command);
  command.add_option("-n,--namespace", namespace_name,
                     "The namespace of the server and its resources (default $VELERO_NAMESPACE, "
                     "else velero)");
}

std::string ClusterFlags::Namespace() const {
  if (!namespace_name.empty()) {
    return namespace_name;
  }
  const char* env = std::getenv("VELERO_NAMESPACE");
  return env != nullptr && env[0] != '\0' ? env : "velero";
}

Result<VeleroClient> VeleroClient::Connect(const ClusterFlags& flags, Clock& clock) {
  ASSIGN_OR_RETURN(kube::ConnectionPtr conn, flags.kube.Connect(clock));
  return VeleroClient(std::move(conn), flags.Namespace(), clock);
}

VeleroClient::VeleroClient(kube::ConnectionPtr connection, std::string namespace_name, Clock& clock)
    : connection_(std::move(connection)),
      client_(&connection_->client()),
      namespace_(std::move(namespace_name)),
      clock_(&clock) {}

VeleroClient::VeleroClient(kube::Client& client, std::string namespace_name, Clock& clock)
    : client_(&client), namespace_(std::move(namespace_name)), clock_(&clock) {}

kube::ResourceRef VeleroClient::Ref(const std::string& resource, const std::string& name) const {
  kube::ResourceRef ref;
  ref.gvr = {"velero.io", "v1", resource};
  ref.namespace_name = namespace_;
  ref.name = name;
  return ref;
}

Status VeleroClient::Explain(const Status& status, const std::string& resource,
                             const std::string& name) const {
  std::string what = resource + ".velero.io";
  if (!name.empty()) {
    what += " \"" + name + "\"";
  }
  if (status.code() == StatusCode::kNotFound) {
    if (name.empty() || status.message().find("the server could not find the requested "
                                              "resource") != std::string::npos) {
      return Status(status.code(), what + ": the API server does not serve " + resource +
                                       ".velero.io; install the CRDs with `arca install` (" +
                                       status.message() + ")");
    }
    return Status(status.code(), what + " not found in namespace " + namespace_ +
                                     " (pick another with -n/--namespace or $VELERO_NAMESPACE)");
  }
  return Status(status.code(), what + " in namespace " + namespace_ + ": " + status.message());
}

namespace {

Result<nlohmann::json> ParseObject(const Result<std::string>& body) {
  if (!body.ok()) {
    return body.status();
  }
  nlohmann::json j = nlohmann::json::parse(*body, nullptr, false);
  if (!j.is_object()) {
    return InternalError("the API server answered with something that is not a JSON object");
  }
  return j;
}

}  // namespace

Result<nlohmann::json> VeleroClient::Create(const std::string& resource,
                                            const nlohmann::json& object) {
  Result<nlohmann::json> out = ParseObject(client_->Create(Ref(resource, ""), object.dump()));
  if (!out.ok()) {
    const std::string name =
        object.contains("metadata") ? object["metadata"].value("name", "") : std::string();
    if (out.status().code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, resource + ".velero.io \"" + name +
                                                    "\" already exists in namespace " + namespace_ +
                                                    "; choose another name");
    }
    return Explain(
        out.status(), resource,
        name.empty() || out.status().code() == StatusCode::kNotFound ? std::string() : name);
  }
  return out;
}

Result<nlohmann::json> VeleroClient::Get(const std::string& resource, const std::string& name) {
  Result<nlohmann::json> out = ParseObject(client_->Get(Ref(resource, name)));
  if (!out.ok()) {
    return Explain(out.status(), resource, name);
  }
  return out;
}

Result<std::vector<nlohmann::json>> VeleroClient::List(const std::string& resource,
                                                       const std::string& label_selector) {
  std::vector<nlohmann::json> items;
  kube::ListOptions options;
  options.label_selector = label_selector;
  options.limit = 500;
  Status st = client_->List(
      Ref(resource, ""), options,
      [&items](std::string_view item) {
        nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
        if (j.is_object()) {
          items.push_back(std::move(j));
        }
        return OkStatus();
      },
      [&items] { items.clear(); });
  if (!st.ok()) {
    return Explain(st, resource, "");
  }
  std::sort(items.begin(), items.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["metadata"].value("name", "") < b["metadata"].value("name", "");
  });
  return items;
}

Result<nlohmann::json> VeleroClient::MergePatch(const std::string& resource,
                                                const std::string& name,
                                                const nlohmann::json& patch) {
  Result<nlohmann::json> out =
      ParseObject(client_->Patch(Ref(resource, name), kube::PatchType::kMerge, patch.dump()));
  if (!out.ok()) {
    return Explain(out.status(), resource, name);
  }
  return out;
}

Status VeleroClient::Delete(const std::string& resource, const std::string& name) {
  Result<std::string> out = client_->Delete(Ref(resource, name));
  if (!out.ok()) {
    return Explain(out.status(), resource, name);
  }
  return OkStatus();
}

Result<nlohmann::json> VeleroClient::WaitFor(
    const std::string& resource, const std::string& name,
    const std::function<bool(const nlohmann::json&)>& done,
    const std::function<void(const nlohmann::json&)>& on_update, std::chrono::milliseconds timeout,
    std::chrono::milliseconds every) {
  const auto deadline = clock_->Now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(nlohmann::json obj, Get(resource, name));
    if (on_update) {
      on_update(obj);
    }
    if (done(obj)) {
      return obj;
    }
    if (timeout.count() > 0 && clock_->Now() >= deadline) {
      return DeadlineExceededError("timed out waiting for " + resource + ".velero.io \"" + name +
                                   "\" in namespace " + namespace_ +
                                   " (is `arca server` running for that namespace?)");
    }
    clock_->SleepFor(every);
  }
}

Result<Fetched> ConnectAndFetch(const ClusterFlags& cluster, std::string_view singular,
                                const std::string& resource, const std::vector<std::string>& names,
                                const std::string& selector) {
  if (!names.empty() && !selector.empty()) {
    return InvalidArgumentError("give " + std::string(singular) +
                                " names or -l/--selector, not both");
  }
  ASSIGN_OR_RETURN(VeleroClient client, VeleroClient::Connect(cluster, RealClock()));
  std::vector<nlohmann::json> items;
  if (names.empty()) {
    ASSIGN_OR_RETURN(items, client.List(resource, selector));
  } else {
    for (const std::string& name : names) {
      ASSIGN_OR_RETURN(nlohmann::json obj, client.Get(resource, name));
      items.push_back(std::move(obj));
    }
  }
  return Fetched{std::move(client), std::move(items)};
}

Status Selection::Validate(std::string_view singular) const {
  const int given = (names.empty() ? 0 : 1) + (all ? 1 : 0) + (selector.empty() ? 0 : 1);
  if (given != 1) {
    return InvalidArgumentError("you must specify exactly one of: specific " +
                                std::string(singular) +
                                " name(s), the --all flag, or the --selector flag");
  }
  if (!selector.empty()) {
    Result<kube::LabelSelector> parsed = kube::LabelSelector::Parse(selector);
    if (!parsed.ok()) {
      return InvalidArgumentError("-l/--selector \"" + selector +
                                  "\": " + parsed.status().message() +
                                  "; write e.g. -l app=web,tier in (front,back)");
    }
  }
  return OkStatus();
}

Result<std::vector<nlohmann::json>> SelectObjects(VeleroClient& client, const std::string& resource,
                                                  const Selection& selection, CommandContext& ctx) {
  if (selection.names.empty()) {
    return client.List(resource, selection.all ? "" : selection.selector);
  }
  std::vector<nlohmann::json> out;
  std::set<std::string> seen;
  for (const std::string& name : selection.names) {
    if (!seen.insert(name).second) {
      continue;
    }
    Result<nlohmann::json> obj = client.Get(resource, name);
    if (!obj.ok()) {
      ctx.Fail(obj.status());
      continue;
    }
    out.push_back(std::move(*obj));
  }
  return out;
}

Confirmation AskConfirmation(std::istream& in, std::ostream& out) {
  while (true) {
    out << "Are you sure you want to continue (Y/N)? " << std::flush;
    std::string line;
    if (!std::getline(in, line)) {
      out << "\n";
      return Confirmation::kNoInput;
    }
    line = Trim(line);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line == "y" || line == "Y") {
      return Confirmation::kYes;
    }
    if (line == "n" || line == "N") {
      return Confirmation::kNo;
    }
  }
}

bool ConfirmOrRefuse(bool confirmed, std::istream& in, CommandContext& ctx) {
  if (confirmed) {
    return true;
  }
  switch (AskConfirmation(in, ctx.out)) {
    case Confirmation::kYes:
      return true;
    case Confirmation::kNo:
      ctx.out << "Nothing was deleted.\n";
      return false;
    case Confirmation::kNoInput:
      ctx.Fail(FailedPreconditionError(
          "no answer on standard input, so nothing was deleted; answer Y or N, or pass --confirm "
          "to delete without asking"));
      return false;
  }
  return false;
}

void AddSelectionFlags(CLI::App& command, Selection& selection, const std::string& plural) {
  command.add_option("NAMES", selection.names, "The " + plural + " by name");
  command.add_flag("--all", selection.all, "All " + plural);
  command.add_option("-l,--selector", selection.selector,
                     "Only " + plural + " matching this label selector");
}

std::optional<VeleroClient> StartSelectionCommand(const ClusterFlags& cluster,
                                                  const Selection& selection,
                                                  std::string_view singular, bool confirmed,
                                                  std::istream* in, CommandContext& ctx) {
  if (Status valid = selection.Validate(singular); !valid.ok()) {
    ctx.Fail(valid);
    return std::nullopt;
  }
  if (in != nullptr && !ConfirmOrRefuse(confirmed, *in, ctx)) {
    return std::nullopt;
  }
  Result<VeleroClient> client = VeleroClient::Connect(cluster, RealClock());
  if (!client.ok()) {
    ctx.Fail(client.status());
    return std::nullopt;
  }
  return std::move(*client);
}

}  // namespace arca::cli
