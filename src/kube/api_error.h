// File: kube/api_error.h
//
// Maps a failed Kubernetes API response (an HTTP status and, usually, a metav1.Status body) to
// one Arca Status whose code says what the caller should do next:
//
//   HTTP  reason                      code                why
//   400   BadRequest                  kInvalidArgument    fix the request
//   401   Unauthorized                kUnauthenticated    credentials missing or expired
//   403   Forbidden                   kPermissionDenied   RBAC says no
//   404   NotFound                    kNotFound
//   405   MethodNotAllowed            kUnimplemented      the resource does not support the verb
//   409   AlreadyExists               kAlreadyExists      create of an existing name
//   409   Conflict (and others)       kAborted            re-read and retry the read-modify-write
//   410   Expired / Gone              kOutOfRange         resourceVersion or continue token too
//                                                         old: relist from scratch
//   413   RequestEntityTooLarge       kInvalidArgument
//   415   UnsupportedMediaType        kInvalidArgument
//   422   Invalid                     kInvalidArgument    the object failed validation
//   429   TooManyRequests             kUnavailable        retry, after Retry-After
//   500, 502, 503, 504 and others 5xx kUnavailable        retry with backoff
//   501   NotImplemented              kUnimplemented
// A 409 without a reason is kAlreadyExists for a create and kAborted otherwise.
//
// The Status message keeps the server's words, reason and code, e.g.
//   create configmaps in ns1: configmaps "x" already exists (409 AlreadyExists)
// and never holds request headers or bodies, so no credentials.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::kube {

// What a metav1.Status error body says, plus the HTTP facts around it.
struct ApiError {
  int http_status = 0;
  std::string reason;   // "NotFound", "Conflict", ... (may be empty)
  std::string message;  // the server's message, or a short prefix of a non-Status body
  // From details: the object the error is about, where the server says.
  std::string name;
  std::string group;
  std::string kind;
  // details.causes[].message, e.g. the fields that failed validation.
  std::vector<std::string> causes;
  // From the Retry-After header, or details.retryAfterSeconds.
  std::optional<std::chrono::seconds> retry_after;
};

// Reads the response of a failed request. Never fails: a body that is not a Status gives an
// ApiError with the HTTP status and the start of the body as message.
ApiError ParseApiError(int http_status, std::string_view body,
                       std::optional<std::string_view> retry_after_header);

// The Status for `error`. `context` says what was being done ("get pods ns1/web-0"); `is_create`
// decides a 409 without a reason.
Status ApiErrorToStatus(const ApiError& error, std::string_view context, bool is_create);

}  // namespace arca::kube
