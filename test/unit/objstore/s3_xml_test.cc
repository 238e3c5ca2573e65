#include "objstore/s3_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::objstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(S3XmlTest, ParsesErrorDocuments) {
  auto error = ParseS3Error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>
<BucketName>missing</BucketName><Resource>/missing/x</Resource>
<RequestId>17A1B2C3D4</RequestId><HostId>abc</HostId></Error>)");
  ASSERT_TRUE(error.ok()) << error.status().ToString();
  EXPECT_EQ(error->code, "NoSuchBucket");
  EXPECT_EQ(error->message, "The specified bucket does not exist");
  EXPECT_EQ(error->request_id, "17A1B2C3D4");
  EXPECT_EQ(error->resource, "/missing/x");

  auto redirect = ParseS3Error(
      "<Error><Code>PermanentRedirect</Code><Message>m</Message><Endpoint>b.s3.eu-west-1."
      "amazonaws.com</Endpoint><Region>eu-west-1</Region></Error>");
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->region, "eu-west-1");
  EXPECT_EQ(redirect->endpoint, "b.s3.eu-west-1.amazonaws.com");

  EXPECT_EQ(ParseS3Error("<html><body>502 Bad Gateway</body></html>").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseS3Error("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseS3Error("<Error><Code>x</Code>").status().code(), StatusCode::kInvalidArgument);
}

TEST(S3XmlTest, ParsesListObjectsV2WithUrlEncoding) {
  auto page = ParseListObjectsV2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>velero</Name><Prefix>backups%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>
  <Contents><Key>backups%2Fa+b%2Bc%7E%C3%BC.json</Key>
    <LastModified>2024-01-02T03:04:05.678Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>1234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <CommonPrefixes><Prefix>backups%2Fb1%2F</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>backups%2Fb2%2F</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key.value(), "backups/a b+c~ü.json");
  EXPECT_EQ(page->objects[0].size, 1234u);
  EXPECT_EQ(page->objects[0].etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(page->objects[0].last_modified,
            std::chrono::system_clock::from_time_t(1704164645) + std::chrono::milliseconds(678));
  EXPECT_THAT(page->common_prefixes, ElementsAre("backups/b1/", "backups/b2/"));
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3XmlTest, ListWithoutEncodingKeepsKeysAndEndsWithoutToken) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b%20</Key>"
      "<Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects[0].key.value(), "a+b%20");
  EXPECT_TRUE(page->next_continuation_token.empty());

  auto empty = ParseListObjectsV2("<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());

  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>")
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ParseListObjectsV2("<Error/>").status().code(), StatusCode::kInvalidArgument);
}

TEST(S3XmlTest, MultipartDocuments) {
  EXPECT_EQ(*ParseInitiateMultipartUpload(
                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                "<UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>"),
            "VXBsb2FkIElE");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  const std::string xml = BuildCompleteMultipartUpload(
      {{1, "\"etag1\"", "AAAAAA=="}, {2, "\"etag2\"", "BBBBBB=="}}, ChecksumAlgorithm::kCrc32);
  EXPECT_THAT(xml, HasSubstr("<Part><PartNumber>1</PartNumber><ETag>\"etag1\"</ETag>"
                             "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"));
  EXPECT_THAT(xml, HasSubstr("<PartNumber>2</PartNumber>"));
  EXPECT_THAT(BuildCompleteMultipartUpload({{1, "\"e\"", ""}}, ChecksumAlgorithm::kNone),
              ::testing::Not(HasSubstr("Checksum")));

  S3Error error;
  auto ok = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>",
      &error);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "\"abc-2\"");
  // S3 can report a failure inside a 200 response.
  auto failed = ParseCompleteMultipartUpload(
      "<Error><Code>InternalError</Code><Message>try again</Message>"
      "<RequestId>R1</RequestId></Error>",
      &error);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(error.code, "InternalError");
  EXPECT_EQ(error.request_id, "R1");
}

TEST(S3XmlTest, DeleteDocumentsEscapeKeys) {
  const std::vector<ObjectKey> keys = {ObjectKey("a&b<c>.txt"), ObjectKey("plain")};
  const std::string xml = BuildDeleteObjects(keys);
  EXPECT_THAT(xml, HasSubstr("<Quiet>true</Quiet>"));
  EXPECT_THAT(xml, HasSubstr("<Object><Key>a&amp;b&lt;c&gt;.txt</Key></Object>"));
  EXPECT_THAT(xml, HasSubstr("<Object><Key>plain</Key></Object>"));

  auto failures = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>ok</Key></Deleted><Error><Key>locked</Key>"
      "<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].key, "locked");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
}

}  // namespace
}  // namespace arca::objstore
