// File: cli/download.h
//
// Fetching a backup's or restore's stored files from the CLI (logs, contents, results, resource
// lists) through a DownloadRequest, with a fallback to reading the store directly.
#pragma once

namespace arca::cli {}  // namespace arca::cli
