#include "restore/contents_reader.h"

namespace arca::restore {

BackupContentsReader::BackupContentsReader(ItemHandler on_item, archive::TarReaderLimits limits)
    : on_item_(std::move(on_item)),
      tar_([this](const archive::TarEntry& e) { return OnEntry(e); }, limits),
      gunzip_(tar_.AsSink()) {}

Status BackupContentsReader::OnEntry(const archive::TarEntry& entry) {
  if (entry.name == archive::kVersionEntry) {
    std::string_view v = entry.content;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) {
      v.remove_suffix(1);
    }
    format_version_ = std::string(v);
    if (format_version_ != archive::kFormatVersion && format_version_ != "1") {
      return FailedPreconditionError("the backup's format version is \"" + format_version_ +
                                     "\"; this Arca reads 1 and " +
                                     std::string(archive::kFormatVersion));
    }
    return OkStatus();
  }
  Result<archive::ItemPathParts> parts = archive::ParseItemPath(entry.name);
  if (!parts.ok() || !parts->version_dir.empty()) {
    ++skipped_;  // not an item, or a versioned copy of one
    return OkStatus();
  }
  ++items_;
  return on_item_(BackupItem{*parts, entry.content});
}

Status BackupContentsReader::Finish() {
  RETURN_IF_ERROR(gunzip_.Finish());
  return tar_.Finish();
}

}  // namespace arca::restore
