#include "objstore/s3_xml.h"

#include <cstdio>
#include <ctime>
#include <pugixml.hpp>
#include <sstream>

#include "http/uri.h"

namespace arca::objstore {
namespace {

Result<pugi::xml_document> Load(std::string_view xml, std::string_view what) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    std::string shown(xml.substr(0, 200));
    return InvalidArgumentError("malformed " + std::string(what) + " XML (" + parsed.description() +
                                "): " + shown);
  }
  return doc;
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

std::string ToXml(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  const std::string s(text);
  const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
  if (n < 6) {
    return InvalidArgumentError("malformed time '" + s + "'");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

Result<S3Error> ParseS3Error(std::string_view xml) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, Load(xml, "S3 error"));
  const pugi::xml_node root = doc.child("Error");
  if (!root) {
    return InvalidArgumentError("not an S3 <Error> document");
  }
  S3Error error;
  error.code = Text(root, "Code");
  error.message = Text(root, "Message");
  error.request_id = Text(root, "RequestId");
  error.resource = Text(root, "Resource");
  error.region = Text(root, "Region");
  error.endpoint = Text(root, "Endpoint");
  return error;
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, Load(xml, "ListObjectsV2"));
  const pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) {
    return InvalidArgumentError("not a <ListBucketResult> document");
  }
  const bool url_encoded = Text(root, "EncodingType") == "url";
  const auto decode = [url_encoded](std::string value) -> Result<std::string> {
    if (!url_encoded) {
      return value;
    }
    return http::UriDecode(value, /*plus_is_space=*/true);
  };
  ListPage page;
  for (const pugi::xml_node contents : root.children("Contents")) {
    ObjectInfo info;
    ASSIGN_OR_RETURN(std::string key, decode(Text(contents, "Key")));
    info.key = ObjectKey(std::move(key));
    info.size = contents.child("Size").text().as_ullong();
    info.etag = Text(contents, "ETag");
    if (info.etag.size() >= 2 && info.etag.front() == '"' && info.etag.back() == '"') {
      info.etag = info.etag.substr(1, info.etag.size() - 2);
    }
    const std::string modified = Text(contents, "LastModified");
    if (!modified.empty()) {
      ASSIGN_OR_RETURN(info.last_modified, ParseIso8601(modified));
    }
    page.objects.push_back(std::move(info));
  }
  for (const pugi::xml_node prefix : root.children("CommonPrefixes")) {
    ASSIGN_OR_RETURN(std::string p, decode(Text(prefix, "Prefix")));
    page.common_prefixes.push_back(std::move(p));
  }
  const std::string truncated = Text(root, "IsTruncated");
  if (truncated == "true") {
    page.next_continuation_token = Text(root, "NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return DataLossError("a truncated ListObjectsV2 result has no NextContinuationToken");
    }
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, Load(xml, "InitiateMultipartUpload"));
  std::string id = Text(doc.child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) {
    return InvalidArgumentError("InitiateMultipartUploadResult has no UploadId");
  }
  return id;
}

std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts,
                                         ChecksumAlgorithm algorithm) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  const std::string checksum_element = "Checksum" + std::string(ChecksumAlgorithmName(algorithm));
  for (const CompletedPart& part : parts) {
    pugi::xml_node p = root.append_child("Part");
    p.append_child("PartNumber").text().set(part.number);
    p.append_child("ETag").text().set(part.etag.c_str());
    if (algorithm != ChecksumAlgorithm::kNone && !part.checksum.empty()) {
      p.append_child(checksum_element.c_str()).text().set(part.checksum.c_str());
    }
  }
  return ToXml(doc);
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view xml, S3Error* error) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, Load(xml, "CompleteMultipartUpload"));
  if (doc.child("Error")) {
    ASSIGN_OR_RETURN(*error, ParseS3Error(xml));
    return UnavailableError("CompleteMultipartUpload failed: " + error->code + ": " +
                            error->message + " (request id " + error->request_id + ")");
  }
  const pugi::xml_node root = doc.child("CompleteMultipartUploadResult");
  if (!root) {
    return InvalidArgumentError("not a <CompleteMultipartUploadResult> document");
  }
  return Text(root, "ETag");
}

std::string BuildDeleteObjects(std::span<const ObjectKey> keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  root.append_child("Quiet").text().set("true");
  for (const ObjectKey& key : keys) {
    root.append_child("Object").append_child("Key").text().set(key.value().c_str());
  }
  return ToXml(doc);
}

Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml) {
  ASSIGN_OR_RETURN(pugi::xml_document doc, Load(xml, "DeleteResult"));
  const pugi::xml_node root = doc.child("DeleteResult");
  if (!root) {
    return InvalidArgumentError("not a <DeleteResult> document");
  }
  std::vector<DeleteFailure> failures;
  for (const pugi::xml_node e : root.children("Error")) {
    failures.push_back({Text(e, "Key"), Text(e, "Code"), Text(e, "Message")});
  }
  return failures;
}

}  // namespace arca::objstore
