#include "objstore/fs_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "http/uri.h"

namespace arca::objstore {
namespace {

constexpr size_t kIoChunk = 1 << 20;
constexpr int kMaxListKeys = 1000;
constexpr int kPutAttempts = 5;

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int Get() const { return fd_; }
  bool IsValid() const { return fd_ >= 0; }
  // Closes now and reports the result.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status ErrnoStatus(int err, const std::string& what) {
  const char* name = strerrordesc_np(err);
  const char* code = strerrorname_np(err);
  std::string message = what + ": " + (name != nullptr ? name : "unknown error") + " (" +
                        (code != nullptr ? code : std::to_string(err)) + ")";
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(message));
    case EINTR:
    case EAGAIN:
    case EIO:
      return UnavailableError(std::move(message));
    case ENAMETOOLONG:
      return InvalidArgumentError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

std::string Etag(const struct stat& st) {
  char buffer[64];
  const auto ns = static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                  static_cast<unsigned long long>(st.st_mtim.tv_nsec);
  std::snprintf(buffer, sizeof(buffer), "%llx-%llx", static_cast<unsigned long long>(st.st_size),
                ns);
  return buffer;
}

ObjectInfo InfoFromStat(const std::string& key, const struct stat& st) {
  ObjectInfo info;
  info.key = ObjectKey(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.etag = Etag(st);
  info.last_modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return info;
}

std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t kSeed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%016llx%08llx",
                static_cast<unsigned long long>(kSeed ^ static_cast<uint64_t>(::getpid())),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return std::string(kFsTempPrefix) + buffer;
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus(errno, "write " + path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return OkStatus();
}

Status FsyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.IsValid()) {
    return ErrnoStatus(errno, "open directory " + dir.string());
  }
  if (::fsync(fd.Get()) != 0) {
    return ErrnoStatus(errno, "fsync directory " + dir.string());
  }
  return OkStatus();
}

// Walks `dir` (relative `rel`, empty or ending in '/') and adds every object key under it that
// starts with `prefix`.
Status Walk(const std::filesystem::path& dir, const std::string& rel, const std::string& prefix,
            std::vector<std::pair<std::string, struct stat>>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return OkStatus();  // removed while listing, or nothing there
    }
    return ErrnoStatus(errno, "open directory " + dir.string());
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  std::vector<std::string> subdirs;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) {
      if (errno != 0) {
        return ErrnoStatus(errno, "read directory " + dir.string());
      }
      break;
    }
    const std::string_view name(entry->d_name);
    if (name == "." || name == ".." || name.starts_with(kFsTempPrefix)) {
      continue;
    }
    const std::string key = rel + std::string(name);
    // Skip subtrees and files that cannot match the prefix.
    const size_t common = std::min(key.size(), prefix.size());
    if (key.compare(0, common, prefix, 0, common) != 0) {
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;
      }
      return ErrnoStatus(errno, "stat " + (dir / name).string());
    }
    if (S_ISDIR(st.st_mode)) {
      subdirs.emplace_back(name);
    } else if (S_ISREG(st.st_mode) && key.size() >= prefix.size()) {
      out.emplace_back(key, st);
    }
  }
  closer.reset();
  for (const std::string& sub : subdirs) {
    RETURN_IF_ERROR(Walk(dir / sub, rel + sub + "/", prefix, out));
  }
  return OkStatus();
}

}  // namespace

Status ValidateFsKey(std::string_view key) {
  const auto refuse = [key](std::string_view why) {
    std::string shown(key);
    std::replace(shown.begin(), shown.end(), '\0', '?');
    return InvalidArgumentError("key '" + shown +
                                "' is refused by the filesystem store: " + std::string(why));
  };
  if (key.empty()) {
    return refuse("it is empty");
  }
  if (key.find('\0') != std::string_view::npos) {
    return refuse("it contains a NUL byte");
  }
  if (key.front() == '/') {
    return refuse("it is absolute");
  }
  if (key.back() == '/') {
    return refuse("it ends in '/'");
  }
  size_t start = 0;
  while (start <= key.size()) {
    const size_t end = std::min(key.find('/', start), key.size());
    const std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) {
      return refuse("it has an empty segment ('//')");
    }
    if (segment == "." || segment == "..") {
      return refuse("it has a '.' or '..' segment");
    }
    if (segment.starts_with(kFsTempPrefix)) {
      return refuse("segments starting '.arca-tmp-' are reserved");
    }
    if (segment.size() > NAME_MAX) {
      return refuse("a segment is longer than 255 bytes");
    }
    start = end + 1;
  }
  return OkStatus();
}

Result<std::unique_ptr<FsStore>> FsStore::Open(const std::filesystem::path& root, bool create) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(root, ec);
  if (ec) {
    return InvalidArgumentError("filesystem store root '" + root.string() + "': " + ec.message());
  }
  if (create) {
    std::filesystem::create_directories(absolute, ec);
    if (ec) {
      return ErrnoStatus(ec.value(), "create filesystem store root " + absolute.string());
    }
  }
  auto store = std::unique_ptr<FsStore>(new FsStore(absolute.lexically_normal()));
  RETURN_IF_ERROR(store->CheckRoot());
  return store;
}

Status FsStore::CheckRoot() const {
  struct stat st {};
  if (::stat(root_.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFoundError("filesystem store root " + root_.string() + " does not exist");
    }
    return ErrnoStatus(errno, "stat filesystem store root " + root_.string());
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("filesystem store root " + root_.string() +
                                   " is not a directory");
  }
  return OkStatus();
}

std::string FsStore::Describe() const { return "file://" + root_.string(); }

Status FsStore::Put(const ObjectKey& key, const ObjectReader& reader, const PutOptions& options) {
  RETURN_IF_ERROR(ValidateFsKey(key.value()));
  RETURN_IF_ERROR(CheckRoot());
  const std::filesystem::path path = root_ / key.value();
  const std::filesystem::path dir = path.parent_path();

  // A concurrent Delete may remove a directory it found empty between our mkdir and open, so
  // creating the directory and the temporary file is retried.
  std::filesystem::path temp;
  int raw_fd = -1;
  for (int attempt = 1; attempt <= kPutAttempts && raw_fd < 0; ++attempt) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      if (ec == std::errc::not_a_directory || ec == std::errc::file_exists) {
        return FailedPreconditionError("key '" + key.value() +
                                       "' needs a directory where the filesystem store has an "
                                       "object: " +
                                       ec.message());
      }
      return ErrnoStatus(ec.value(), "create directory " + dir.string());
    }
    temp = dir / TempName();
    raw_fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (raw_fd < 0 && (errno != ENOENT || attempt == kPutAttempts)) {
      return ErrnoStatus(errno, "create " + temp.string());
    }
  }
  Fd fd(raw_fd);
  Status status = [&]() -> Status {
    // A small object of known size gets a buffer its size (the backup puts its side files side
    // by side: a chunk each would be megabytes for kilobytes of data).
    const size_t size =
        options.size_hint >= 0
            ? std::clamp<size_t>(static_cast<size_t>(options.size_hint) + 1, size_t{4096}, kIoChunk)
            : kIoChunk;
    std::vector<char> buffer(size);
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader(std::span<char>(buffer)));
      if (n == 0) {
        break;
      }
      RETURN_IF_ERROR(WriteAll(fd.Get(), buffer.data(), std::min(n, buffer.size()), temp));
    }
    if (::fsync(fd.Get()) != 0) {
      return ErrnoStatus(errno, "fsync " + temp.string());
    }
    if (fd.Close() != 0) {
      return ErrnoStatus(errno, "close " + temp.string());
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return FailedPreconditionError("key '" + key.value() +
                                     "' is a directory of other objects in the filesystem store");
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      return ErrnoStatus(errno, "rename " + temp.string() + " to " + path.string());
    }
    return FsyncDir(dir);
  }();
  if (!status.ok()) {
    ::unlink(temp.c_str());
  }
  return status;
}

Result<ObjectInfo> FsStore::Get(const ObjectKey& key, const ObjectSink& sink) {
  RETURN_IF_ERROR(ValidateFsKey(key.value()));
  const std::filesystem::path path = root_ / key.value();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.IsValid()) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
      RETURN_IF_ERROR(CheckRoot());
      return NotFoundError("object '" + key.value() + "' not found in " + Describe());
    }
    return ErrnoStatus(errno, "open " + path.string());
  }
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) {
    return ErrnoStatus(errno, "stat " + path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return NotFoundError("object '" + key.value() + "' not found in " + Describe() +
                         " (it is a directory)");
  }
  std::vector<char> buffer(kIoChunk);
  while (true) {
    const ssize_t n = ::read(fd.Get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus(errno, "read " + path.string());
    }
    if (n == 0) {
      break;
    }
    RETURN_IF_ERROR(sink(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
  return InfoFromStat(key.value(), st);
}

Result<ObjectInfo> FsStore::Head(const ObjectKey& key) {
  RETURN_IF_ERROR(ValidateFsKey(key.value()));
  const std::filesystem::path path = root_ / key.value();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      RETURN_IF_ERROR(CheckRoot());
      return NotFoundError("object '" + key.value() + "' not found in " + Describe());
    }
    return ErrnoStatus(errno, "stat " + path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return NotFoundError("object '" + key.value() + "' not found in " + Describe() +
                         " (it is not a regular file)");
  }
  return InfoFromStat(key.value(), st);
}

Result<bool> FsStore::Exists(const ObjectKey& key) {
  Result<ObjectInfo> info = Head(key);
  if (info.ok()) {
    return true;
  }
  if (info.status().code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(CheckRoot());
    return false;
  }
  return info.status();
}

Result<ListPage> FsStore::List(const ListOptions& options) {
  if (options.max_keys <= 0) {
    return InvalidArgumentError("max_keys must be positive, got " +
                                std::to_string(options.max_keys));
  }
  RETURN_IF_ERROR(CheckRoot());
  const int max_keys = std::min(options.max_keys, kMaxListKeys);
  const std::string& prefix = options.prefix;
  const std::string& delimiter = options.delimiter;

  // Start at the deepest directory the prefix names in full.
  const size_t slash = prefix.rfind('/');
  const std::string start_rel = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
  if (!start_rel.empty() && !ValidateFsKey(start_rel.substr(0, start_rel.size() - 1)).ok()) {
    return ListPage{};  // no stored key can have this prefix
  }
  std::vector<std::pair<std::string, struct stat>> found;
  RETURN_IF_ERROR(Walk(root_ / start_rel, start_rel, prefix, found));
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // Tokens say what the last entry was: "k<key>" for an object, "p<prefix>" for a common prefix.
  std::string after = options.start_after;
  bool after_is_prefix = false;
  if (!options.continuation_token.empty()) {
    const char kind = options.continuation_token.front();
    if (kind != 'k' && kind != 'p') {
      return InvalidArgumentError("malformed continuation token");
    }
    after = options.continuation_token.substr(1);
    after_is_prefix = kind == 'p';
  }

  ListPage page;
  int count = 0;
  std::string last_token;
  for (const auto& [key, st] : found) {
    if (!after.empty() && (key <= after || (after_is_prefix && key.starts_with(after)))) {
      continue;
    }
    const size_t d = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
    if (d != std::string::npos) {
      std::string common = key.substr(0, d + delimiter.size());
      if (!page.common_prefixes.empty() && page.common_prefixes.back() == common) {
        continue;
      }
      if (count == max_keys) {
        page.next_continuation_token = last_token;
        break;
      }
      last_token = "p" + common;
      page.common_prefixes.push_back(std::move(common));
    } else {
      if (count == max_keys) {
        page.next_continuation_token = last_token;
        break;
      }
      last_token = "k" + key;
      page.objects.push_back(InfoFromStat(key, st));
    }
    ++count;
  }
  return page;
}

Status FsStore::Delete(const ObjectKey& key) {
  RETURN_IF_ERROR(ValidateFsKey(key.value()));
  RETURN_IF_ERROR(CheckRoot());
  std::filesystem::path path = root_ / key.value();
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) {
      return OkStatus();
    }
    return ErrnoStatus(errno, "delete " + path.string());
  }
  // Remove directories the delete left empty, up to (not including) the root.
  for (path = path.parent_path(); path != root_ && path.string().size() > root_.string().size();
       path = path.parent_path()) {
    if (::rmdir(path.c_str()) != 0) {
      break;
    }
  }
  return OkStatus();
}

Status FsStore::DeleteMany(std::span<const ObjectKey> keys) {
  size_t failed = 0;
  Status first;
  for (const ObjectKey& key : keys) {
    Status s = Delete(key);
    if (!s.ok()) {
      if (failed++ == 0) {
        first = std::move(s);
      }
    }
  }
  if (failed == 0) {
    return OkStatus();
  }
  return Status(first.code(), std::to_string(failed) + " of " + std::to_string(keys.size()) +
                                  " deletes failed; first: " + first.message());
}

Result<std::string> FsStore::PresignGet(const ObjectKey& key, std::chrono::seconds /*expiry*/) {
  ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
  static_cast<void>(info);
  return "file://" + http::UriEncode((root_ / key.value()).string(), /*encode_slash=*/false);
}

}  // namespace arca::objstore
