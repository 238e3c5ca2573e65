#include "kube/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kube/encoding.h"

namespace arca::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kubeconfig-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = std::filesystem::path(dir_) / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  std::string dir_;
};

constexpr const char* kFull = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: certs/ca.pem
    tls-server-name: api.internal
    proxy-url: http://proxy:3128
- name: c2
  cluster:
    server: https://c2.example.com
    certificate-authority-data: Q0EgUEVN
    insecure-skip-tls-verify: true
users:
- name: cert-user
  user:
    client-certificate: certs/client.crt
    client-key: /abs/client.key
- name: data-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: token-user
  user:
    token: s3cr3t
    tokenFile: token.txt
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, c1]
      env:
      - name: REGION
        value: eu
      provideClusterInfo: true
      interactiveMode: Never
contexts:
- name: dev
  context: {cluster: c1, user: token-user, namespace: team-a}
- name: prod
  context: {cluster: c2, user: data-user}
)";

TEST_F(KubeconfigTest, ParsesEveryField) {
  Result<Kubeconfig> r = ParseKubeconfig(kFull, "/home/me/.kube", "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Kubeconfig& c = *r;
  EXPECT_EQ(c.current_context, "dev");
  ASSERT_EQ(c.clusters.size(), 2u);
  const ClusterConfig& c1 = c.clusters.at("c1");
  EXPECT_EQ(c1.server, "https://10.0.0.1:6443/");
  EXPECT_EQ(c1.certificate_authority, "/home/me/.kube/certs/ca.pem");
  EXPECT_EQ(c1.tls_server_name, "api.internal");
  EXPECT_EQ(c1.proxy_url, "http://proxy:3128");
  EXPECT_FALSE(c1.insecure_skip_tls_verify);
  const ClusterConfig& c2 = c.clusters.at("c2");
  EXPECT_EQ(c2.certificate_authority_data, "CA PEM");
  EXPECT_TRUE(c2.insecure_skip_tls_verify);

  EXPECT_EQ(c.users.at("cert-user").client_certificate, "/home/me/.kube/certs/client.crt");
  EXPECT_EQ(c.users.at("cert-user").client_key, "/abs/client.key");
  EXPECT_EQ(c.users.at("data-user").client_certificate_data, "CERT");
  EXPECT_EQ(c.users.at("data-user").client_key_data, "KEY");
  EXPECT_EQ(c.users.at("token-user").token, "s3cr3t");
  EXPECT_EQ(c.users.at("token-user").token_file, "/home/me/.kube/token.txt");
  const auto& exec = c.users.at("exec-user").exec;
  ASSERT_TRUE(exec.has_value());
  EXPECT_EQ(exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(exec->command, "/home/me/.kube/./bin/get-token");
  EXPECT_THAT(exec->args, ElementsAre("--cluster", "c1"));
  EXPECT_THAT(exec->env, ElementsAre(Pair("REGION", "eu")));
  EXPECT_TRUE(exec->provide_cluster_info);
  EXPECT_EQ(exec->interactive_mode, "Never");

  EXPECT_EQ(c.contexts.at("dev").cluster, "c1");
  EXPECT_EQ(c.contexts.at("dev").user, "token-user");
  EXPECT_EQ(c.contexts.at("dev").namespace_name, "team-a");
}

TEST_F(KubeconfigTest, ExecCommandWithoutSlashIsLookedUpOnPath) {
  Result<Kubeconfig> r = ParseKubeconfig(R"(
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}
)",
                                         "/dir", "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->users.at("u").exec->command, "aws");
  EXPECT_EQ(r->users.at("u").exec->interactive_mode, "IfAvailable");
}

TEST_F(KubeconfigTest, RejectsBadInput) {
  struct Case {
    const char* yaml;
    StatusCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"clusters: [", StatusCode::kInvalidArgument, "kubeconfig test: yaml-cpp"},
           {"- a\n- b\n", StatusCode::kInvalidArgument, "is not a YAML map"},
           {"clusters: {}", StatusCode::kInvalidArgument, "clusters must be a list"},
           {"clusters: [{cluster: {server: x}}]", StatusCode::kInvalidArgument, "has no name"},
           {"users: [{name: u, user: [1]}]", StatusCode::kInvalidArgument, "user must be a map"},
           {"users: [{name: u, user: {client-key-data: 'not base64!'}}]",
            StatusCode::kInvalidArgument, "user \"u\": client-key-data is not valid base64"},
           {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
            "command: x}}}]",
            StatusCode::kInvalidArgument, "interactiveMode must be set"},
           {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, "
            "command: x}}}]",
            StatusCode::kInvalidArgument, "is not client.authentication.k8s.io/v1 or v1beta1"},
           {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1}}}]",
            StatusCode::kInvalidArgument, "exec needs a command"},
           {"users: [{name: u, user: {auth-provider: {name: gcp}}}]", StatusCode::kUnimplemented,
            "auth-provider"},
           {"clusters: [{name: c, cluster: {insecure-skip-tls-verify: maybe}}]",
            StatusCode::kInvalidArgument, "bad conversion"},
       }) {
    Result<Kubeconfig> r = ParseKubeconfig(c.yaml, "", "test");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), c.code) << c.yaml;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.yaml;
    EXPECT_THAT(r.status().message(), Not(HasSubstr("not base64!")));
  }
}

TEST_F(KubeconfigTest, EmptyDocumentIsAnEmptyConfig) {
  Result<Kubeconfig> r = ParseKubeconfig("", "", "test");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->clusters.empty());
}

TEST_F(KubeconfigTest, MergeFirstDefinitionWins) {
  Kubeconfig a = *ParseKubeconfig(R"(
clusters: [{name: shared, cluster: {server: https://a}}]
contexts: [{name: ca, context: {cluster: shared}}]
)",
                                  "", "a");
  Kubeconfig b = *ParseKubeconfig(R"(
current-context: cb
clusters:
- {name: shared, cluster: {server: https://b}}
- {name: only-b, cluster: {server: https://only-b}}
contexts: [{name: cb, context: {cluster: only-b}}]
)",
                                  "", "b");
  Kubeconfig c = *ParseKubeconfig("current-context: ca", "", "c");
  Kubeconfig merged = MergeKubeconfigs({a, b, c});
  EXPECT_EQ(merged.clusters.at("shared").server, "https://a");
  EXPECT_EQ(merged.clusters.at("only-b").server, "https://only-b");
  EXPECT_EQ(merged.current_context, "cb");
  EXPECT_EQ(merged.contexts.size(), 2u);
}

TEST_F(KubeconfigTest, ResolveContextBuildsRestConfig) {
  Write("certs/client.crt", "CLIENT CERT");
  Write("certs/client.key", "CLIENT KEY");
  const std::string text = R"(
current-context: dev
clusters:
- {name: c1, cluster: {server: "https://h:6443/", certificate-authority: certs/ca.pem}}
- {name: c2, cluster: {server: "https://h2", certificate-authority: x.pem,
                       certificate-authority-data: Q0EgUEVN}}
users:
- {name: files, user: {client-certificate: certs/client.crt, client-key: certs/client.key}}
- {name: half, user: {client-certificate: certs/client.crt}}
- {name: tok, user: {token: abc}}
contexts:
- {name: dev, context: {cluster: c1, user: files, namespace: ns1}}
- {name: data, context: {cluster: c2, user: tok}}
- {name: half, context: {cluster: c1, user: half}}
- {name: nouser, context: {cluster: c1}}
- {name: ghost-user, context: {cluster: c1, user: ghost}}
- {name: ghost-cluster, context: {cluster: ghost}}
)";
  Kubeconfig config = *ParseKubeconfig(text, dir_, "test");

  Result<RestConfig> dev = ResolveContext(config, "");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->context_name, "dev");
  EXPECT_EQ(dev->server, "https://h:6443");
  EXPECT_EQ(dev->ca_file, dir_ + "/certs/ca.pem");
  EXPECT_EQ(dev->ca_pem, "");
  EXPECT_EQ(dev->namespace_name, "ns1");
  EXPECT_EQ(dev->client_certificate_pem, "CLIENT CERT");
  EXPECT_EQ(dev->client_key_pem, "CLIENT KEY");

  Result<RestConfig> data = ResolveContext(config, "data");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->ca_pem, "CA PEM");
  EXPECT_EQ(data->ca_file, "");  // the data wins
  EXPECT_EQ(data->token, "abc");
  EXPECT_EQ(data->namespace_name, "default");

  Result<RestConfig> nouser = ResolveContext(config, "nouser");
  ASSERT_TRUE(nouser.ok());
  EXPECT_EQ(nouser->token, "");

  EXPECT_EQ(ResolveContext(config, "half").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveContext(config, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ResolveContext(config, "ghost-user").status().message(),
              HasSubstr("user \"ghost\" of context \"ghost-user\""));
  EXPECT_EQ(ResolveContext(config, "ghost-cluster").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolveContext(Kubeconfig{}, "").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(KubeconfigTest, MissingCertificateFileIsNotFound) {
  Kubeconfig config = *ParseKubeconfig(R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate: nope.crt, client-key: nope.key}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)",
                                       dir_, "test");
  Result<RestConfig> r = ResolveContext(config, "");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(dir_ + "/nope.crt"));
}

std::string SimpleConfig(const std::string& context, const std::string& server, bool set_current) {
  return std::string(set_current ? "current-context: " + context + "\n" : "") +
         "clusters: [{name: " + context + ", cluster: {server: \"" + server + "\"}}]\n" +
         "contexts: [{name: " + context + ", context: {cluster: " + context + "}}]\n";
}

TEST_F(KubeconfigTest, LoadOrderFlagThenEnvThenHome) {
  const std::string flag = Write("flag.yaml", SimpleConfig("f", "https://flag", true));
  const std::string one = Write("one.yaml", SimpleConfig("one", "https://one", false));
  const std::string two = Write("two/config", SimpleConfig("two", "https://two", true));
  Write("home/.kube/config", SimpleConfig("home", "https://home", true));

  LoadOptions options;
  options.home = dir_ + "/home";
  options.kubeconfig_env = one + ":" + dir_ + "/missing.yaml::" + two;
  options.kubeconfig_flag = flag;
  Result<RestConfig> r = LoadRestConfig(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server, "https://flag");

  // KUBECONFIG: current-context comes from the second file; the first file's context is
  // reachable with --context.
  options.kubeconfig_flag.reset();
  r = LoadRestConfig(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server, "https://two");
  options.context = "one";
  r = LoadRestConfig(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server, "https://one");
  options.context.clear();

  options.kubeconfig_env.reset();
  r = LoadRestConfig(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server, "https://home");

  options.kubeconfig_flag = dir_ + "/nope.yaml";
  EXPECT_EQ(LoadRestConfig(options).status().code(), StatusCode::kNotFound);
}

TEST_F(KubeconfigTest, NothingFoundIsFailedPrecondition) {
  LoadOptions options;
  options.home = dir_;
  options.root = dir_;
  Result<RestConfig> r = LoadRestConfig(options);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("no Kubernetes configuration found"));
}

TEST_F(KubeconfigTest, InClusterConfig) {
  const std::string sa = "var/run/secrets/kubernetes.io/serviceaccount/";
  Write(sa + "token", "eyJtoken");
  Write(sa + "ca.crt", "CA");
  Write(sa + "namespace", "velero\n");
  LoadOptions options;
  options.root = dir_;
  options.service_host = "10.96.0.1";
  options.service_port = "443";
  // No kubeconfig anywhere: in-cluster is the fallback.
  Result<RestConfig> r = LoadRestConfig(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server, "https://10.96.0.1:443");
  EXPECT_EQ(r->token_file, dir_ + "/" + sa + "token");
  EXPECT_EQ(r->ca_file, dir_ + "/" + sa + "ca.crt");
  EXPECT_EQ(r->namespace_name, "velero");

  options.service_host = "fd00::1";
  r = InClusterConfig(options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->server, "https://[fd00::1]:443");

  options.service_host.reset();
  EXPECT_EQ(InClusterConfig(options).status().code(), StatusCode::kFailedPrecondition);

  options.service_host = "10.96.0.1";
  options.root = dir_ + "/elsewhere";
  EXPECT_EQ(InClusterConfig(options).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace arca::kube
