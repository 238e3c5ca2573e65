#include "request_replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "kube/list_stream.h"

namespace arca::bench {
namespace {

using Json = nlohmann::json;

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The metadata.name of a POST's body, or "".
std::string PostedName(const std::string& method, const std::string& body_text) {
  if (method == "POST") {
    const Json body = Json::parse(body_text, nullptr, false);
    const Json* md = body.is_object() && body.contains("metadata") ? &body["metadata"] : nullptr;
    if (md != nullptr && md->is_object() && md->contains("name") && (*md)["name"].is_string()) {
      return (*md)["name"].get<std::string>();
    }
  }
  return "";
}

std::string PlaybackKey(const std::string& method, const std::string& url,
                        const std::string& body) {
  return method + " " + url + " " + PostedName(method, body);
}

}  // namespace

std::string ObjectOf(const RecordedRequest& r) {
  std::string path = r.url.substr(0, r.url.find('?'));
  if (const std::string name = PostedName(r.method, r.body); !name.empty()) {
    path += "/" + name;
  }
  return path;
}

ReplayPlan PlanReplay(const std::vector<RecordedRequest>& records) {
  ReplayPlan plan;
  plan.after.assign(records.size(), std::nullopt);
  std::vector<size_t> order(records.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return records[a].start < records[b].start; });
  double latest_end = 0;
  std::map<std::string, size_t> last_on_object;  // within the current phase
  for (size_t i : order) {
    const RecordedRequest& r = records[i];
    if (plan.phases.empty() || r.start >= latest_end) {
      plan.phases.emplace_back();
      last_on_object.clear();
    }
    plan.phases.back().push_back(i);
    latest_end = std::max(latest_end, r.end);
    const std::string object = ObjectOf(r);
    if (auto it = last_on_object.find(object); it != last_on_object.end()) {
      plan.after[i] = it->second;
    }
    last_on_object[object] = i;
  }
  return plan;
}

namespace {

// fopen for writing, readable by the owner only.
std::FILE* OpenPrivate(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::FILE* out = fd < 0 ? nullptr : ::fdopen(fd, "w");
  if (out == nullptr && fd >= 0) {
    ::close(fd);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<RecordingTransport>> RecordingTransport::Open(http::TransportPtr inner,
                                                                     const std::string& path,
                                                                     bool responses) {
  // Owner-only: the recording holds the client certificate's private key.
  std::FILE* out = OpenPrivate(path);
  if (out == nullptr) {
    return InternalError("cannot write the request recording " + path);
  }
  return std::unique_ptr<RecordingTransport>(
      new RecordingTransport(std::move(inner), out, responses));
}

RecordingTransport::RecordingTransport(http::TransportPtr inner, std::FILE* out, bool responses)
    : inner_(std::move(inner)), responses_(responses), out_(out) {}

RecordingTransport::~RecordingTransport() { std::fclose(out_); }

Result<http::Response> RecordingTransport::Send(const http::Request& request,
                                                const http::BodySink* sink) {
  const double start = SteadySeconds();
  std::string streamed;
  const http::BodySink keep = [&](std::string_view chunk) {
    streamed.append(chunk);
    return (*sink)(chunk);
  };
  Result<http::Response> r = inner_->Send(request, responses_ && sink != nullptr ? &keep : sink);
  const double end = SteadySeconds();
  Json line = {{"start", start},
               {"end", end},
               {"method", request.method},
               {"url", request.url},
               {"headers", request.headers},
               {"body", request.body},
               {"status", r.ok() ? r->status : -1}};
  if (responses_) {
    line["response"] = streamed.empty() && r.ok() ? r->body : streamed;
  }
  const std::string text = line.dump() + "\n";
  const std::lock_guard<std::mutex> lock(mu_);
  if (request.client_cert_pem + request.client_key_pem != last_cert_) {
    last_cert_ = request.client_cert_pem + request.client_key_pem;
    const std::string cert =
        Json{{"cert", request.client_cert_pem}, {"key", request.client_key_pem}}.dump() + "\n";
    std::fwrite(cert.data(), 1, cert.size(), out_);
  }
  std::fwrite(text.data(), 1, text.size(), out_);
  return r;
}

Result<std::vector<RecordedRequest>> ReadRecording(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("no request recording at " + path);
  }
  std::vector<RecordedRequest> out;
  std::string cert;
  std::string key;
  std::string text;
  while (std::getline(in, text)) {
    const Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) {
      return InvalidArgumentError("a line of " + path + " is not JSON");
    }
    if (j.contains("cert")) {
      cert = j.value("cert", "");
      key = j.value("key", "");
      continue;
    }
    RecordedRequest r;
    r.start = j.value("start", 0.0);
    r.end = j.value("end", 0.0);
    r.method = j.value("method", "");
    r.url = j.value("url", "");
    r.headers = j.value("headers", http::Headers{});
    r.body = j.value("body", "");
    r.status = j.value("status", 0);
    r.response = j.value("response", "");
    r.client_cert_pem = cert;
    r.client_key_pem = key;
    out.push_back(std::move(r));
  }
  return out;
}

Status WriteAnswers(const std::string& path, const std::vector<RecordedRequest>& records) {
  std::FILE* out = OpenPrivate(path);
  if (out == nullptr) {
    return InternalError("cannot write the recorded answers " + path);
  }
  bool ok = true;
  for (const RecordedRequest& r : records) {
    const std::string line =
        Json{{"start", r.start}, {"end", r.end},       {"method", r.method},    {"url", r.url},
             {"body", r.body},   {"status", r.status}, {"response", r.response}}
            .dump() +
        "\n";
    ok = ok && std::fwrite(line.data(), 1, line.size(), out) == line.size();
  }
  ok = std::fclose(out) == 0 && ok;
  return ok ? OkStatus() : InternalError("writing the recorded answers " + path + " failed");
}

PlaybackTransport::PlaybackTransport(const std::vector<RecordedRequest>& records) {
  for (const RecordedRequest& r : records) {
    answers_[PlaybackKey(r.method, r.url, r.body)].answers.emplace_back(r.status, r.response);
  }
}

Result<http::Response> PlaybackTransport::Send(const http::Request& request,
                                               const http::BodySink* sink) {
  http::Response resp;
  // The name is read as the API server would read it, not with the DOM the recording used.
  std::string name;
  if (request.method == "POST") {
    static thread_local kube::ObjectMetaParser parser;
    Result<kube::ObjectMeta> meta = parser.Parse(request.body);
    name = meta.ok() ? meta->name : "";
  }
  auto it = answers_.find(request.method + " " + request.url + " " + name);
  if (it == answers_.end()) {
    ++unmatched_;
    resp.status = 404;
    resp.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound",)"
                R"("code":404,"message":"not in the recording"})";
    return resp;
  }
  Answers& a = it->second;
  const auto& [status, body] = a.answers[a.next++ % a.answers.size()];
  resp.status = status;
  resp.headers = {{"Content-Type", "application/json"}};
  if (sink != nullptr && status / 100 == 2) {
    RETURN_IF_ERROR((*sink)(body));
  } else {
    resp.body = body;
  }
  return resp;
}

ReplayResult Replay(http::Transport& transport, const std::vector<RecordedRequest>& records,
                    const ReplayPlan& plan, int threads) {
  std::vector<std::vector<size_t>> next(records.size());  // requests waiting for each request
  for (size_t i = 0; i < plan.after.size(); ++i) {
    if (plan.after[i].has_value()) {
      next[*plan.after[i]].push_back(i);
    }
  }
  ReplayResult result;
  result.phases = static_cast<int64_t>(plan.phases.size());
  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> ready;
  size_t pending = 0;  // requests of the current phase not yet answered
  bool stopping = false;
  auto run = [&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stopping || !ready.empty(); });
      if (ready.empty()) {
        return;
      }
      const size_t i = ready.front();
      ready.pop_front();
      lock.unlock();
      const RecordedRequest& r = records[i];
      const http::Request req{.method = r.method,
                              .url = r.url,
                              .headers = r.headers,
                              .body = r.body,
                              .body_reader = {},
                              .body_size = -1,
                              .on_headers = {},
                              .timeout = {},
                              .client_cert_pem = r.client_cert_pem,
                              .client_key_pem = r.client_key_pem};
      Result<http::Response> resp = transport.Send(req);
      const int status = resp.ok() ? resp->status : -1;
      lock.lock();
      ++result.requests;
      if (status / 100 != r.status / 100) {
        if (result.differing++ == 0) {
          result.first_difference = r.method + " " + r.url + ": " + std::to_string(status) +
                                    ", recorded " + std::to_string(r.status);
        }
      }
      for (auto it = next[i].rbegin(); it != next[i].rend(); ++it) {
        ready.push_front(*it);  // a dependent request goes first, as the restore sends it
      }
      if (--pending == 0 || !next[i].empty()) {
        cv.notify_all();
      }
    }
  };
  std::vector<std::thread> pool;
  const double start = SteadySeconds();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(run);
  }
  for (const std::vector<size_t>& phase : plan.phases) {
    std::unique_lock<std::mutex> lock(mu);
    pending = phase.size();
    for (size_t i : phase) {
      if (!plan.after[i].has_value()) {
        ready.push_back(i);
      }
    }
    cv.notify_all();
    cv.wait(lock, [&] { return pending == 0; });
  }
  result.seconds = SteadySeconds() - start;
  {
    const std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) {
    t.join();
  }
  return result;
}

}  // namespace arca::bench
