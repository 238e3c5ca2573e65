// archive_tool: Arca's side of the tarball compatibility test (see archive_compat_test.sh).
//   archive_tool read FILE    prints "name<TAB>size<TAB>fnv1a64" for each entry
//   archive_tool write FILE   writes a sample backup tarball and prints the same listing
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "archive/gzip.h"
#include "archive/tar.h"

namespace {

uint64_t Fnv64(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void PrintEntry(std::string_view name, std::string_view content) {
  std::printf("%.*s\t%zu\t%016" PRIx64 "\n", static_cast<int>(name.size()), name.data(),
              content.size(), Fnv64(content));
}

arca::Status Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return arca::NotFoundError("cannot open " + path);
  }
  arca::archive::TarReader tar([](const arca::archive::TarEntry& e) {
    PrintEntry(e.name, e.content);
    return arca::OkStatus();
  });
  arca::archive::GunzipStream gunzip([&tar](std::string_view d) { return tar.Write(d); });
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    RETURN_IF_ERROR(gunzip.Write(std::string_view(buf.data(), in.gcount())));
  }
  RETURN_IF_ERROR(gunzip.Finish());
  return tar.Finish();
}

arca::Status Write(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  arca::archive::GzipOptions options;
  options.block_size = 64 * 1024;  // several gzip members even for this small sample
  arca::archive::GzipWriter gz(
      [&out](std::string_view d) {
        out.write(d.data(), static_cast<std::streamsize>(d.size()));
        return out ? arca::OkStatus() : arca::UnavailableError("write failed");
      },
      options);
  arca::archive::TarWriter tar(gz.AsSink());
  std::vector<std::pair<std::string, std::string>> entries = {
      {"metadata/version", "1.1.0\n"},
      {"resources/namespaces/cluster/shop.json", R"({"apiVersion":"v1","kind":"Namespace"})"},
      {"resources/configmaps/namespaces/shop/" + std::string(253, 'c') + ".json",
       std::string(5000, 'x')},
      {"resources/widgets.example.com/v1-preferredversion/namespaces/" + std::string(63, 'n') +
           "/w.json",
       "{}"},
      {"resources/secrets/namespaces/shop/empty.json", ""},
  };
  // Enough data to cross several gzip blocks.
  for (int i = 0; i < 200; ++i) {
    entries.emplace_back("resources/configmaps/namespaces/bulk/cm-" + std::to_string(i) + ".json",
                         std::string(1000 + i, static_cast<char>('a' + i % 26)));
  }
  auto now = std::chrono::system_clock::now();
  for (const auto& [name, content] : entries) {
    RETURN_IF_ERROR(tar.AddFile(name, content, now));
    PrintEntry(name, content);
  }
  RETURN_IF_ERROR(tar.Finish());
  return gz.Finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: archive_tool read|write FILE\n";
    return 2;
  }
  std::string cmd = argv[1];
  arca::Status s = cmd == "read"    ? Read(argv[2])
                   : cmd == "write" ? Write(argv[2])
                                    : arca::InvalidArgumentError("unknown command " + cmd);
  if (!s.ok()) {
    std::cerr << "archive_tool: " << s.ToString() << "\n";
    return 1;
  }
  return 0;
}
