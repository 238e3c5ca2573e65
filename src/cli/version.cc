#include "cli/version.h"

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/duration.h"
#include "kube/connection.h"

namespace arca::cli {

void PrintVersion(const BuildInfo& info, std::ostream& out) {
  out << "Client:\n"
      << "\tVersion: v" << info.version << "\n"
      << "\tGit commit: " << info.git_commit << "\n"
      << "\tBuild date: " << info.build_date << "\n";
}

Result<std::string> AskServerVersion(kube::Client& client, const std::string& namespace_name,
                                     Clock& clock, std::chrono::milliseconds timeout) {
  kube::ResourceRef ref;
  ref.gvr = {"velero.io", "v1", "serverstatusrequests"};
  ref.namespace_name = namespace_name;
  const nlohmann::json request = {{"apiVersion", "velero.io/v1"},
                                  {"kind", "ServerStatusRequest"},
                                  {"metadata", {{"generateName", "arca-cli-"}}}};
  Result<std::string> created = client.Create(ref, request.dump());
  if (!created.ok()) {
    return Status(created.status().code(), "creating a ServerStatusRequest in namespace " +
                                               namespace_name + ": " + created.status().message());
  }
  nlohmann::json obj = nlohmann::json::parse(*created, nullptr, false);
  if (!obj.is_object()) {
    return InternalError("the API server answered the ServerStatusRequest with no object");
  }
  ref.name = obj["metadata"].value("name", "");
  const auto deadline = clock.Now() + timeout;
  while (true) {
    Result<std::string> got = client.Get(ref);
    if (got.ok()) {
      nlohmann::json ssr = nlohmann::json::parse(*got, nullptr, false);
      const nlohmann::json status =
          ssr.is_object() ? ssr.value("status", nlohmann::json::object()) : nlohmann::json();
      if (status.is_object() && status.value("phase", "") == "Processed") {
        return status.value("serverVersion", std::string());
      }
    } else if (got.status().code() != StatusCode::kNotFound) {
      return got.status();
    }
    if (clock.Now() >= deadline) {
      return DeadlineExceededError(
          "timed out waiting for server status request to be processed (is `arca server` "
          "running for namespace " +
          namespace_name + "?)");
    }
    clock.SleepFor(std::chrono::milliseconds(100));
  }
}

void AddVersionCommand(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    bool client_only = false;
    std::string timeout = "5s";
    std::string namespace_name;
    KubeFlags kube;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* version = app.add_subcommand("version", "Print the version of Arca");
  version->add_flag("--client-only", flags->client_only, "Only print the client's version");
  version->add_option("--timeout", flags->timeout, "How long to wait for the server's answer")
      ->capture_default_str();
  version->add_option("-n,--namespace", flags->namespace_name,
                      "The server's namespace (default $VELERO_NAMESPACE, else velero)");
  flags->kube.AddTo(*version);
  version->callback([flags, &ctx] {
    PrintVersion(GetBuildInfo(), ctx.out);
    if (flags->client_only) {
      return;
    }
    Result<api::Duration> timeout = api::ParseDuration(flags->timeout);
    if (!timeout.ok() || *timeout <= api::Duration::zero()) {
      ctx.Fail(InvalidArgumentError("--timeout " + flags->timeout +
                                    ": give a positive duration such as 5s"));
      return;
    }
    std::string ns = flags->namespace_name;
    if (ns.empty()) {
      const char* env = std::getenv("VELERO_NAMESPACE");
      ns = env != nullptr && env[0] != '\0' ? env : "velero";
    }
    Clock& clock = RealClock();
    Result<std::string> server = [&]() -> Result<std::string> {
      ASSIGN_OR_RETURN(kube::ConnectionPtr conn, flags->kube.Connect(clock));
      return AskServerVersion(conn->client(), ns, clock,
                              std::chrono::duration_cast<std::chrono::milliseconds>(*timeout));
    }();
    ctx.out << "\nServer:\n";
    if (server.ok()) {
      ctx.out << "\tVersion: " << *server << "\n";
    } else {
      ctx.out << "\t<error getting server version: " << server.status().message() << ">\n";
    }
  });
}

}  // namespace arca::cli
