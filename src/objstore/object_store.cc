#include "objstore/object_store.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace arca::objstore {

ObjectReader StringReader(std::string_view data) {
  auto offset = std::make_shared<size_t>(0);
  return [data, offset](std::span<char> buffer) -> Result<size_t> {
    const size_t n = std::min(buffer.size(), data.size() - *offset);
    std::memcpy(buffer.data(), data.data() + *offset, n);
    *offset += n;
    return n;
  };
}

Status ObjectStore::PutString(const ObjectKey& key, std::string_view data) {
  PutOptions options;
  options.size_hint = static_cast<int64_t>(data.size());
  return Put(key, StringReader(data), options);
}

Result<std::string> ObjectStore::GetString(const ObjectKey& key) {
  std::string out;
  ASSIGN_OR_RETURN(ObjectInfo info, Get(key, [&out](std::string_view chunk) {
                     out.append(chunk);
                     return OkStatus();
                   }));
  static_cast<void>(info);
  return out;
}

Result<ListPage> ObjectStore::ListAll(std::string_view prefix, std::string_view delimiter) {
  ListPage all;
  ListOptions options;
  options.prefix = std::string(prefix);
  options.delimiter = std::string(delimiter);
  while (true) {
    ASSIGN_OR_RETURN(ListPage page, List(options));
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all.objects));
    std::move(page.common_prefixes.begin(), page.common_prefixes.end(),
              std::back_inserter(all.common_prefixes));
    if (page.next_continuation_token.empty()) {
      break;
    }
    options.continuation_token = std::move(page.next_continuation_token);
  }
  return all;
}

}  // namespace arca::objstore
