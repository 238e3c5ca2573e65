#include "backup/contents.h"

#include <algorithm>

#include "archive/velero_layout.h"

namespace arca::backup {

std::string TypeMetaMembers(std::string_view api_version, std::string_view kind) {
  return "\"apiVersion\":" + nlohmann::json(std::string(api_version)).dump() +
         ",\"kind\":" + nlohmann::json(std::string(kind)).dump();
}

std::string WithTypeMeta(std::string_view item_json, std::string_view members) {
  size_t brace = item_json.find('{');
  if (brace == std::string_view::npos) {
    return std::string(item_json);
  }
  std::string_view rest = item_json.substr(brace + 1);
  size_t first = rest.find_first_not_of(" \t\r\n");
  bool empty_object = first != std::string_view::npos && rest[first] == '}';
  std::string out;
  out.reserve(item_json.size() + members.size() + 1);
  out.append(item_json.substr(0, brace + 1));
  out.append(members);
  if (!empty_object) {
    out += ',';
  }
  out.append(rest);
  return out;
}

std::string WithTypeMeta(std::string_view item_json, std::string_view api_version,
                         std::string_view kind) {
  return WithTypeMeta(item_json, TypeMetaMembers(api_version, kind));
}

void ResourceList::Add(const ItemRef& ref) {
  std::string& entries = by_type_[ref.ApiVersion() + "/" + ref.kind];
  if (!ref.ns.empty()) {
    entries += ref.ns;
    entries += '/';
  }
  entries += ref.name;
  entries += '\0';
  ++count_;
}

void ResourceList::AddEntry(const std::string& key, std::string_view entry) {
  std::string& entries = by_type_[key];
  entries += entry;
  entries += '\0';
  ++count_;
}

namespace {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

std::string ResourceList::ToJsonText() const {
  std::string out;
  // Appending to a string cannot fail.
  (void)WriteJson([&out](std::string_view chunk) {
    out.append(chunk);
    return OkStatus();
  });
  return out;
}

Status ResourceList::WriteJson(const archive::ByteSink& sink) const {
  constexpr size_t kChunk = 64 << 10;
  std::string out = "{";
  out.reserve(kChunk + 4096);
  const auto flush = [&](bool force) -> Status {
    if (out.size() >= kChunk || (force && !out.empty())) {
      RETURN_IF_ERROR(sink(out));
      out.clear();
    }
    return OkStatus();
  };
  bool first_type = true;
  for (const auto& [key, entries] : by_type_) {
    std::vector<std::string_view> names;
    for (size_t start = 0; start < entries.size();) {
      size_t end = entries.find('\0', start);
      names.emplace_back(entries.data() + start, end - start);
      start = end + 1;
    }
    std::sort(names.begin(), names.end());
    if (!first_type) {
      out += ',';
    }
    first_type = false;
    AppendJsonString(out, key);
    out += ":[";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      AppendJsonString(out, names[i]);
      RETURN_IF_ERROR(flush(false));
    }
    out += ']';
  }
  out += '}';
  return flush(true);
}

nlohmann::json ResourceList::ToJson() const { return nlohmann::json::parse(ToJsonText()); }

void BackupResults::Add(Result& r, std::string_view ns, bool cluster, std::string message) {
  if (!ns.empty()) {
    r.namespaces[std::string(ns)].push_back(std::move(message));
  } else if (cluster) {
    r.cluster.push_back(std::move(message));
  } else {
    r.velero.push_back(std::move(message));
  }
}

void BackupResults::AddWarning(std::string_view ns, bool cluster, std::string message) {
  Add(warnings_, ns, cluster, std::move(message));
  ++warnings_count_;
}

void BackupResults::AddError(std::string_view ns, bool cluster, std::string message) {
  Add(errors_, ns, cluster, std::move(message));
  ++errors_count_;
}

nlohmann::json BackupResults::Result::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (!velero.empty()) {
    j["velero"] = velero;
  }
  if (!cluster.empty()) {
    j["cluster"] = cluster;
  }
  if (!namespaces.empty()) {
    j["namespaces"] = namespaces;
  }
  return j;
}

nlohmann::json BackupResults::ToJson() const {
  return nlohmann::json{{"errors", errors_.ToJson()}, {"warnings", warnings_.ToJson()}};
}

BackupContentsWriter::BackupContentsWriter(archive::ByteSink sink, archive::GzipOptions gzip,
                                           std::chrono::system_clock::time_point now)
    : gzip_(std::move(sink), gzip), tar_(gzip_.AsSink()), now_(now) {}

Status BackupContentsWriter::Begin() {
  return tar_.AddFile(archive::kVersionEntry, std::string(archive::kFormatVersion) + "\n", now_);
}

Status BackupContentsWriter::AddItem(const ItemRef& ref, std::string_view item_json) {
  std::string gr = ref.GroupResource();
  RETURN_IF_ERROR(tar_.AddFile(archive::ItemPath(gr, ref.ns, ref.name), item_json, now_));
  RETURN_IF_ERROR(tar_.AddFile(
      archive::ItemPath(gr, ref.ns, ref.name, archive::PreferredVersionDir(ref.version)), item_json,
      now_));
  resource_list_.Add(ref);
  return OkStatus();
}

Status BackupContentsWriter::Finish() {
  RETURN_IF_ERROR(tar_.Finish());
  return gzip_.Finish();
}

Result<std::string> GzipWritten(const std::function<Status(const archive::ByteSink&)>& write) {
  std::string out;
  archive::GzipOptions options;
  options.workers = 0;
  options.block_size = 256 << 10;
  archive::GzipWriter gz(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      options);
  RETURN_IF_ERROR(write(gz.AsSink()));
  RETURN_IF_ERROR(gz.Finish());
  return out;
}

Result<std::string> GzipDocument(std::string_view text) {
  return GzipWritten([text](const archive::ByteSink& sink) { return sink(text); });
}

}  // namespace arca::backup
