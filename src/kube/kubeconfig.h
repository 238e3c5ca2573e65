// File: kube/kubeconfig.h
//
// Loading Kubernetes client configuration the way kubectl does:
//   1. `--kubeconfig PATH`: that one file, which must exist.
//   2. otherwise `$KUBECONFIG`: a ':'-separated list of files, missing ones skipped, merged so
//      that the first file to define a cluster, user or context name wins, and current-context
//      comes from the first file that sets it;
//   3. otherwise `~/.kube/config` if it exists;
//   4. otherwise the in-cluster configuration (service-account token and CA under
//      /var/run/secrets/kubernetes.io/serviceaccount, server from KUBERNETES_SERVICE_HOST/PORT).
// `--context` overrides current-context. Relative file paths in a kubeconfig (CA, client
// certificate and key, token file, an exec command containing '/') are resolved against the
// directory of the file that defined them.
//
// The result, RestConfig, is what a REST client needs: the server, TLS settings, the namespace,
// and one way to authenticate. Nothing here talks to the network or runs commands.
//
// Errors never contain tokens, keys or certificate data.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace arca::kube {

struct ClusterConfig {
  std::string server;
  std::string certificate_authority;       // a file path (resolved)
  std::string certificate_authority_data;  // PEM (decoded)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
};

// An exec credential plugin (client.authentication.k8s.io).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never, IfAvailable, Always
};

struct UserConfig {
  std::string client_certificate;       // file path
  std::string client_certificate_data;  // PEM
  std::string client_key;               // file path
  std::string client_key_data;          // PEM
  std::string token;
  std::string token_file;
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
};

struct ContextConfig {
  std::string cluster;
  std::string user;
  std::string namespace_name;
};

// One kubeconfig file, or several merged.
struct Kubeconfig {
  std::map<std::string, ClusterConfig> clusters;
  std::map<std::string, UserConfig> users;
  std::map<std::string, ContextConfig> contexts;
  std::string current_context;
};

// Parses kubeconfig YAML. `dir` is the directory relative paths are resolved against (empty:
// leave them as written). Errors: kInvalidArgument naming `source` (a path, for messages).
Result<Kubeconfig> ParseKubeconfig(std::string_view yaml, std::string_view dir,
                                   std::string_view source);

// Merges in kubectl's order: for each name, the first config that defines it wins; so does the
// first non-empty current-context.
Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs);

// How to authenticate; at most one of these is used, in this order: exec plugin, client
// certificate, token file, token, basic auth. A token file is re-read by the credential provider
// so rotated tokens are picked up.
struct RestConfig {
  std::string server;  // "https://host:port", no trailing '/'
  std::string ca_pem;
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  std::string namespace_name = "default";
  std::string context_name;  // empty for in-cluster

  std::string client_certificate_pem;
  std::string client_key_pem;
  std::string token;
  std::string token_file;
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
};

// Builds the RestConfig for `context_override` (or current-context when empty). Reads client
// certificate and key files. Errors: kNotFound for a context, cluster or user that is not
// defined; kInvalidArgument for an incomplete config; kNotFound/kPermissionDenied for unreadable
// files.
Result<RestConfig> ResolveContext(const Kubeconfig& config, std::string_view context_override);

// Where configuration comes from; empty optionals mean "not set". Tests fill this in; production
// code uses LoadOptions::FromEnvironment().
struct LoadOptions {
  std::optional<std::string> kubeconfig_flag;  // --kubeconfig
  std::optional<std::string> kubeconfig_env;   // $KUBECONFIG
  std::optional<std::string> home;             // $HOME
  std::string context;                         // --context
  // In-cluster sources.
  std::string root = "/";                   // the filesystem root for /var/run/secrets/...
  std::optional<std::string> service_host;  // $KUBERNETES_SERVICE_HOST
  std::optional<std::string> service_port;  // $KUBERNETES_SERVICE_PORT

  // KUBECONFIG, HOME and KUBERNETES_SERVICE_HOST/PORT from the process environment.
  static LoadOptions FromEnvironment(std::optional<std::string> kubeconfig_flag,
                                     std::string context);
};

// Loads per the order at the top of this file. Errors: kNotFound when an explicit --kubeconfig
// is missing; kFailedPrecondition when no configuration is found anywhere; the errors of
// ParseKubeconfig, ResolveContext and InClusterConfig.
Result<RestConfig> LoadRestConfig(const LoadOptions& options);

// The in-cluster configuration. Errors: kFailedPrecondition when not running in a cluster
// (KUBERNETES_SERVICE_HOST/PORT unset); kNotFound when the token file is missing.
Result<RestConfig> InClusterConfig(const LoadOptions& options);

// Reads a whole file. Errors: kNotFound, kPermissionDenied, kInternal; the message names the
// path but never the contents.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace arca::kube
