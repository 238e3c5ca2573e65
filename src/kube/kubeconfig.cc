#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kube/encoding.h"

namespace arca::kube {
namespace {

constexpr std::string_view kServiceAccountDir = "var/run/secrets/kubernetes.io/serviceaccount";

std::string Resolve(std::string_view dir, std::string path) {
  if (path.empty() || path.front() == '/' || dir.empty()) {
    return path;
  }
  std::string out(dir);
  if (out.back() != '/') {
    out += '/';
  }
  return out + path;
}

std::string DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return ".";
  }
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

// The string at `node[key]`, or "" when absent or null. Throws YAML::Exception on a wrong type.
std::string Str(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && !v.IsNull() ? v.as<std::string>() : std::string();
}

bool Bool(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && !v.IsNull() && v.as<bool>();
}

// Decodes a `*-data` field; the error names the field, never the value.
Result<std::string> Data(const YAML::Node& node, const char* key, std::string_view where) {
  const std::string raw = Str(node, key);
  if (raw.empty()) {
    return std::string();
  }
  Result<std::string> decoded = Base64Decode(raw);
  if (!decoded.ok()) {
    return InvalidArgumentError(std::string(where) + ": " + key + " is not valid base64");
  }
  return decoded;
}

// Calls `fn(name, body)` for each `{name: ..., <field>: {...}}` entry of the list `key`.
template <typename Fn>
Status ForEachNamed(const YAML::Node& root, const char* key, const char* field,
                    std::string_view source, Fn&& fn) {
  const YAML::Node list = root[key];
  if (!list || list.IsNull()) {
    return OkStatus();
  }
  if (!list.IsSequence()) {
    return InvalidArgumentError("kubeconfig " + std::string(source) + ": " + key +
                                " must be a list");
  }
  for (const YAML::Node& entry : list) {
    const std::string name = Str(entry, "name");
    if (name.empty()) {
      return InvalidArgumentError("kubeconfig " + std::string(source) + ": an entry of " + key +
                                  " has no name");
    }
    YAML::Node body = entry[field];
    if (!body || body.IsNull()) {
      body = YAML::Node(YAML::NodeType::Map);
    }
    if (!body.IsMap()) {
      return InvalidArgumentError("kubeconfig " + std::string(source) + ": " + key + " \"" + name +
                                  "\": " + field + " must be a map");
    }
    RETURN_IF_ERROR(fn(name, body));
  }
  return OkStatus();
}

Result<ExecConfig> ParseExec(const YAML::Node& node, std::string_view dir,
                             const std::string& where) {
  ExecConfig exec;
  exec.api_version = Str(node, "apiVersion");
  exec.command = Str(node, "command");
  if (exec.command.find('/') != std::string::npos) {
    exec.command = Resolve(dir, exec.command);
  }
  if (const YAML::Node args = node["args"]; args && args.IsSequence()) {
    for (const YAML::Node& arg : args) {
      exec.args.push_back(arg.as<std::string>());
    }
  }
  if (const YAML::Node env = node["env"]; env && env.IsSequence()) {
    for (const YAML::Node& var : env) {
      exec.env.emplace_back(Str(var, "name"), Str(var, "value"));
    }
  }
  exec.provide_cluster_info = Bool(node, "provideClusterInfo");
  exec.interactive_mode = Str(node, "interactiveMode");
  if (exec.command.empty()) {
    return InvalidArgumentError(where + ": exec needs a command");
  }
  if (exec.api_version == "client.authentication.k8s.io/v1") {
    if (exec.interactive_mode.empty()) {
      return InvalidArgumentError(where + ": exec interactiveMode must be set for " +
                                  exec.api_version);
    }
  } else if (exec.api_version == "client.authentication.k8s.io/v1beta1") {
    if (exec.interactive_mode.empty()) {
      exec.interactive_mode = "IfAvailable";
    }
  } else {
    return InvalidArgumentError(where + ": exec apiVersion \"" + exec.api_version +
                                "\" is not client.authentication.k8s.io/v1 or v1beta1");
  }
  if (exec.interactive_mode != "Never" && exec.interactive_mode != "IfAvailable" &&
      exec.interactive_mode != "Always") {
    return InvalidArgumentError(where + ": exec interactiveMode \"" + exec.interactive_mode +
                                "\" is not Never, IfAvailable or Always");
  }
  return exec;
}

Result<Kubeconfig> ParseRoot(const YAML::Node& root, std::string_view dir,
                             std::string_view source) {
  Kubeconfig config;
  if (!root || root.IsNull()) {
    return config;
  }
  if (!root.IsMap()) {
    return InvalidArgumentError("kubeconfig " + std::string(source) + " is not a YAML map");
  }
  config.current_context = Str(root, "current-context");
  RETURN_IF_ERROR(ForEachNamed(
      root, "clusters", "cluster", source,
      [&](const std::string& name, const YAML::Node& node) -> Status {
        const std::string where =
            "kubeconfig " + std::string(source) + ": cluster \"" + name + "\"";
        ClusterConfig cluster;
        cluster.server = Str(node, "server");
        cluster.certificate_authority = Resolve(dir, Str(node, "certificate-authority"));
        ASSIGN_OR_RETURN(cluster.certificate_authority_data,
                         Data(node, "certificate-authority-data", where));
        cluster.insecure_skip_tls_verify = Bool(node, "insecure-skip-tls-verify");
        cluster.tls_server_name = Str(node, "tls-server-name");
        cluster.proxy_url = Str(node, "proxy-url");
        config.clusters.emplace(name, std::move(cluster));
        return OkStatus();
      }));
  RETURN_IF_ERROR(ForEachNamed(
      root, "users", "user", source,
      [&](const std::string& name, const YAML::Node& node) -> Status {
        const std::string where = "kubeconfig " + std::string(source) + ": user \"" + name + "\"";
        UserConfig user;
        user.client_certificate = Resolve(dir, Str(node, "client-certificate"));
        ASSIGN_OR_RETURN(user.client_certificate_data,
                         Data(node, "client-certificate-data", where));
        user.client_key = Resolve(dir, Str(node, "client-key"));
        ASSIGN_OR_RETURN(user.client_key_data, Data(node, "client-key-data", where));
        user.token = Str(node, "token");
        user.token_file = Resolve(dir, Str(node, "tokenFile"));
        user.username = Str(node, "username");
        user.password = Str(node, "password");
        if (const YAML::Node exec = node["exec"]; exec && !exec.IsNull()) {
          ASSIGN_OR_RETURN(user.exec, ParseExec(exec, dir, where));
        }
        if (const YAML::Node provider = node["auth-provider"]; provider && !provider.IsNull()) {
          return UnimplementedError(where + ": auth-provider plugins are not supported; use exec");
        }
        config.users.emplace(name, std::move(user));
        return OkStatus();
      }));
  RETURN_IF_ERROR(ForEachNamed(root, "contexts", "context", source,
                               [&](const std::string& name, const YAML::Node& node) -> Status {
                                 ContextConfig context;
                                 context.cluster = Str(node, "cluster");
                                 context.user = Str(node, "user");
                                 context.namespace_name = Str(node, "namespace");
                                 config.contexts.emplace(name, std::move(context));
                                 return OkStatus();
                               }));
  return config;
}

Result<std::string> PemFrom(const std::string& data, const std::string& file) {
  if (!data.empty()) {
    return data;
  }
  if (file.empty()) {
    return std::string();
  }
  return ReadFileToString(file);
}

}  // namespace

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return NotFoundError("file " + path + " does not exist");
    }
    if (err == EACCES) {
      return PermissionDeniedError("file " + path + " is not readable");
    }
    return InternalError("cannot open " + path + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return InternalError("cannot read " + path);
  }
  return text.str();
}

Result<Kubeconfig> ParseKubeconfig(std::string_view yaml, std::string_view dir,
                                   std::string_view source) {
  try {
    return ParseRoot(YAML::Load(std::string(yaml)), dir, source);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("kubeconfig " + std::string(source) + ": " + e.what());
  }
}

Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs) {
  Kubeconfig out;
  for (const Kubeconfig& c : configs) {
    out.clusters.insert(c.clusters.begin(), c.clusters.end());
    out.users.insert(c.users.begin(), c.users.end());
    out.contexts.insert(c.contexts.begin(), c.contexts.end());
    if (out.current_context.empty()) {
      out.current_context = c.current_context;
    }
  }
  return out;
}

Result<RestConfig> ResolveContext(const Kubeconfig& config, std::string_view context_override) {
  const std::string name(context_override.empty() ? config.current_context : context_override);
  if (name.empty()) {
    return InvalidArgumentError("the kubeconfig sets no current-context; pass --context");
  }
  const auto context = config.contexts.find(name);
  if (context == config.contexts.end()) {
    return NotFoundError("context \"" + name + "\" is not in the kubeconfig");
  }
  const auto cluster = config.clusters.find(context->second.cluster);
  if (cluster == config.clusters.end()) {
    return NotFoundError("cluster \"" + context->second.cluster + "\" of context \"" + name +
                         "\" is not in the kubeconfig");
  }
  RestConfig out;
  out.context_name = name;
  out.server = cluster->second.server;
  while (!out.server.empty() && out.server.back() == '/') {
    out.server.pop_back();
  }
  if (out.server.empty()) {
    return InvalidArgumentError("cluster \"" + context->second.cluster + "\" has no server");
  }
  out.ca_pem = cluster->second.certificate_authority_data;
  if (out.ca_pem.empty()) {
    out.ca_file = cluster->second.certificate_authority;
  }
  out.insecure_skip_tls_verify = cluster->second.insecure_skip_tls_verify;
  out.tls_server_name = cluster->second.tls_server_name;
  out.proxy_url = cluster->second.proxy_url;
  if (!context->second.namespace_name.empty()) {
    out.namespace_name = context->second.namespace_name;
  }
  if (context->second.user.empty()) {
    return out;
  }
  const auto user = config.users.find(context->second.user);
  if (user == config.users.end()) {
    return NotFoundError("user \"" + context->second.user + "\" of context \"" + name +
                         "\" is not in the kubeconfig");
  }
  const UserConfig& u = user->second;
  ASSIGN_OR_RETURN(out.client_certificate_pem,
                   PemFrom(u.client_certificate_data, u.client_certificate));
  ASSIGN_OR_RETURN(out.client_key_pem, PemFrom(u.client_key_data, u.client_key));
  if (out.client_certificate_pem.empty() != out.client_key_pem.empty()) {
    return InvalidArgumentError("user \"" + context->second.user +
                                "\" needs both a client certificate and a client key");
  }
  out.token = u.token;
  out.token_file = u.token_file;
  out.username = u.username;
  out.password = u.password;
  out.exec = u.exec;
  return out;
}

LoadOptions LoadOptions::FromEnvironment(std::optional<std::string> kubeconfig_flag,
                                         std::string context) {
  const auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at startup
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
  LoadOptions out;
  out.kubeconfig_flag = std::move(kubeconfig_flag);
  out.kubeconfig_env = env("KUBECONFIG");
  out.home = env("HOME");
  out.context = std::move(context);
  out.service_host = env("KUBERNETES_SERVICE_HOST");
  out.service_port = env("KUBERNETES_SERVICE_PORT");
  return out;
}

Result<RestConfig> InClusterConfig(const LoadOptions& options) {
  if (!options.service_host || options.service_host->empty() || !options.service_port ||
      options.service_port->empty()) {
    return FailedPreconditionError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set");
  }
  const std::string dir = Resolve(options.root, std::string(kServiceAccountDir));
  RestConfig out;
  const std::string& host = *options.service_host;
  out.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               *options.service_port;
  out.token_file = dir + "/token";
  ASSIGN_OR_RETURN(std::string token, ReadFileToString(out.token_file));
  if (token.empty()) {
    return FailedPreconditionError("the service-account token " + out.token_file + " is empty");
  }
  if (FileExists(dir + "/ca.crt")) {
    out.ca_file = dir + "/ca.crt";
  }
  if (Result<std::string> ns = ReadFileToString(dir + "/namespace"); ns.ok()) {
    std::string name = *ns;
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) {
      name.pop_back();
    }
    if (!name.empty()) {
      out.namespace_name = name;
    }
  }
  return out;
}

Result<RestConfig> LoadRestConfig(const LoadOptions& options) {
  std::vector<std::string> paths;
  if (options.kubeconfig_flag && !options.kubeconfig_flag->empty()) {
    if (!FileExists(*options.kubeconfig_flag)) {
      return NotFoundError("kubeconfig " + *options.kubeconfig_flag + " does not exist");
    }
    paths.push_back(*options.kubeconfig_flag);
  } else if (options.kubeconfig_env && !options.kubeconfig_env->empty()) {
    std::string_view list = *options.kubeconfig_env;
    while (!list.empty()) {
      const size_t colon = list.find(':');
      const std::string path(list.substr(0, colon));
      list = colon == std::string_view::npos ? std::string_view() : list.substr(colon + 1);
      if (!path.empty() && FileExists(path)) {
        paths.push_back(path);
      }
    }
  } else if (options.home && !options.home->empty()) {
    const std::string path = *options.home + "/.kube/config";
    if (FileExists(path)) {
      paths.push_back(path);
    }
  }
  if (paths.empty()) {
    Result<RestConfig> in_cluster = InClusterConfig(options);
    if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kFailedPrecondition) {
      return in_cluster;
    }
    return FailedPreconditionError(
        "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, create "
        "~/.kube/config, or run in a cluster");
  }
  std::vector<Kubeconfig> configs;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    ASSIGN_OR_RETURN(Kubeconfig config, ParseKubeconfig(text, DirName(path), path));
    configs.push_back(std::move(config));
  }
  return ResolveContext(MergeKubeconfigs(configs), options.context);
}

}  // namespace arca::kube
