// File: restore/contents_reader.h
//
// BackupContentsReader reads a backup tarball as it streams in (from ObjectStore::Get, say) and
// hands over each item at its unversioned path, the one Velero's restore reads
// (../shared/reference/velero-api.md §3). The "<version>-preferredversion" copies and other
// version directories are skipped; entries that are not item paths are counted and ignored, as
// Velero ignores unexpected files. A corrupt or hostile tarball is an error (see archive/tar.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "archive/gzip.h"
#include "archive/tar.h"
#include "archive/velero_layout.h"
#include "common/status.h"

namespace arca::restore {

struct BackupItem {
  const archive::ItemPathParts& path;
  std::string_view json;  // valid only during the callback
};

class BackupContentsReader {
 public:
  using ItemHandler = std::function<Status(const BackupItem& item)>;
  explicit BackupContentsReader(ItemHandler on_item, archive::TarReaderLimits limits = {});

  // Where the compressed tarball goes.
  archive::ByteSink Sink() { return gunzip_.AsSink(); }
  // Ends the stream: kDataLoss when it was cut short; kFailedPrecondition for a format version
  // this reader does not know.
  Status Finish();

  // "1.1.0", "1", or "" when the tarball had no metadata/version.
  const std::string& format_version() const { return format_version_; }
  uint64_t items() const { return items_; }
  // Entries skipped because they are not items at the unversioned path.
  uint64_t skipped() const { return skipped_; }
  // Entries that were not regular files (links, directories, devices): skipped by the tar
  // reader, never followed. Velero's and Arca's tarballs have none.
  uint64_t non_regular_entries() const { return tar_.skipped_entries(); }

 private:
  Status OnEntry(const archive::TarEntry& entry);

  ItemHandler on_item_;
  archive::TarReader tar_;
  archive::GunzipStream gunzip_;
  std::string format_version_;
  uint64_t items_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace arca::restore
