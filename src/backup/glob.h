// File: backup/glob.h
//
// Glob matching as Velero does it for namespace and resource filters (gobwas/glob without
// separators): `*` matches any run of characters (dots and slashes included), `?` any one
// character, `[abc]`, `[a-z]` and `[!a-z]` a character class, `{a,b}` either alternative, and `\`
// escapes the next character. Everything else matches itself.
#pragma once

#include <string_view>

namespace arca::backup {

// Whether `text` matches `pattern` in full. A malformed pattern (an unclosed `[` or `{`) matches
// only itself literally, so it can never widen a filter.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Whether `pattern` uses any glob syntax (`*`, `?`, `[`, `{`).
bool HasGlobChars(std::string_view pattern);

}  // namespace arca::backup
