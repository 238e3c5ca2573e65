// File: bench/request_replay.h
//
// The "ideal" restore of the restore benchmark: the API requests a real restore made, recorded,
// then sent again with nothing in between, so that what it measures is what those requests cost
// the API server under the restore's order, and nothing the client does.
//
//   RecordingTransport  an http::Transport that passes every request on and writes it, with its
//                       start, end and status, to a file as one JSON line.
//   PlanReplay          (pure) the order a replay must keep: the recording's phases (a request
//                       that started when nothing was in flight starts a new phase: that is
//                       where the restore waited for a type group to finish) and, within a
//                       phase, a request on an object waits for the phase's earlier request on
//                       the same object (a managedFields patch after its create).
//   Replay              sends the requests of each phase with `threads` in flight, phase after
//                       phase, and times it.
//
// The bound is optimistic for the restore: the tarball reads and the result uploads (object
// storage, not the API server) are left out, and the phases are as the recording shows them.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/transport.h"

namespace arca::bench {

struct RecordedRequest {
  double start = 0;  // seconds since an origin common to the recording
  double end = 0;
  std::string method;
  std::string url;
  http::Headers headers;
  std::string body;
  int status = 0;  // the recorded answer's status, -1 when the exchange failed
  // The answer's body, when the recording kept answers (RecordingTransport::Open).
  std::string response;
  // The client certificate the request carried (the recording writes it once per change).
  std::string client_cert_pem;
  std::string client_key_pem;
};

// The object a request acts on: the URL's path without its query, and for a POST to a
// collection also the body's metadata.name ("" when the body has none).
std::string ObjectOf(const RecordedRequest& r);

struct ReplayPlan {
  // Indices into the recording, phase after phase, each phase in the recorded start order.
  std::vector<std::vector<size_t>> phases;
  // after[i]: the request that must end before request i starts (same phase, same object).
  std::vector<std::optional<size_t>> after;
};

// Pure. `records` in any order.
ReplayPlan PlanReplay(const std::vector<RecordedRequest>& records);

// Passes requests to `inner` and appends each to `path` (one JSON object per line; a line with
// "cert" and "key" precedes the first request that carries a new client certificate, so the
// file is created readable by its owner only).
class RecordingTransport : public http::Transport {
 public:
  // Fails when `path` cannot be written. With `responses`, each answer's body is kept too.
  static Result<std::unique_ptr<RecordingTransport>> Open(http::TransportPtr inner,
                                                          const std::string& path,
                                                          bool responses = false);
  ~RecordingTransport() override;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override;

 private:
  RecordingTransport(http::TransportPtr inner, std::FILE* out, bool responses);
  http::TransportPtr inner_;
  const bool responses_;
  std::mutex mu_;
  std::FILE* out_;
  std::string last_cert_;
};

// An API server that answers at once from a recording made with answers: a request gets the
// answer recorded for the same method, URL and (for a POST) body's metadata.name, the recorded
// ones in turn when there were several; one that was not recorded gets 404. No TLS, no sockets:
// what a client spends with it is the client's own work.
class PlaybackTransport : public http::Transport {
 public:
  explicit PlaybackTransport(const std::vector<RecordedRequest>& records);
  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override;
  // Requests that found no recorded answer.
  int64_t unmatched() const { return unmatched_.load(); }

 private:
  struct Answers {
    std::vector<std::pair<int, std::string>> answers;  // status, body
    std::atomic<size_t> next{0};
  };
  std::map<std::string, Answers> answers_;
  std::atomic<int64_t> unmatched_{0};
};

// Reads what a RecordingTransport (or WriteAnswers) wrote.
Result<std::vector<RecordedRequest>> ReadRecording(const std::string& path);

// Writes the requests and their answers of `records` to `path` (owner-only), as ReadRecording
// reads them, without the client certificates: what a PlaybackTransport needs.
Status WriteAnswers(const std::string& path, const std::vector<RecordedRequest>& records);

struct ReplayResult {
  double seconds = 0;
  int64_t requests = 0;
  int64_t phases = 0;
  // Requests whose answer's status class (2xx, 4xx, ...) differs from the recorded one.
  int64_t differing = 0;
  std::string first_difference;
};

// Sends `records` as `plan` orders them, `threads` at a time.
ReplayResult Replay(http::Transport& transport, const std::vector<RecordedRequest>& records,
                    const ReplayPlan& plan, int threads);

}  // namespace arca::bench
