// File: objstore/s3_xml.h
//
// The XML documents of the S3 API, parsed and built with pugixml. Pure functions; no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "objstore/hash.h"
#include "objstore/object_store.h"

namespace arca::objstore {

// An S3 <Error> document.
struct S3Error {
  std::string code;        // "NoSuchKey", "AccessDenied", "SlowDown", ...
  std::string message;     // the server's text
  std::string request_id;  // <RequestId>
  std::string resource;    // <Resource>, when given
  std::string region;      // <Region>, sent with wrong-region redirects and errors
  std::string endpoint;    // <Endpoint>, sent with PermanentRedirect
};

// Parses an <Error> document. kInvalidArgument when `xml` is not one (an empty body, HTML from
// a proxy, ...).
Result<S3Error> ParseS3Error(std::string_view xml);

// Parses a ListObjectsV2 <ListBucketResult>, undoing encoding-type=url when the result says it
// was used. A truncated result without a NextContinuationToken is kDataLoss.
Result<ListPage> ParseListObjectsV2(std::string_view xml);

// The UploadId of an <InitiateMultipartUploadResult>.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

struct CompletedPart {
  int number = 0;
  std::string etag;      // as the server returned it, quotes included
  std::string checksum;  // base64, empty when no checksum algorithm is used
};

// The <CompleteMultipartUpload> body.
std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts,
                                         ChecksumAlgorithm algorithm);

// The result of CompleteMultipartUpload, which S3 may report as an <Error> inside a 200
// response: OK with the final ETag, or the error (with `*error` filled in) as kUnavailable.
Result<std::string> ParseCompleteMultipartUpload(std::string_view xml, S3Error* error);

// The quiet <Delete> body of DeleteObjects. REQUIRES: keys.size() <= 1000.
std::string BuildDeleteObjects(std::span<const ObjectKey> keys);

struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};

// The <Error> entries of a <DeleteResult>.
Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml);

// Parses S3's ISO 8601 time "2009-10-12T17:50:30.000Z".
Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

}  // namespace arca::objstore
