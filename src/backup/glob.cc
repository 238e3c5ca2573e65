#include "backup/glob.h"

#include <string>
#include <vector>

namespace arca::backup {
namespace {

// Index just past the `]` closing the class starting at pattern[i] == '[', or npos.
size_t ClassEnd(std::string_view p, size_t i) {
  size_t j = i + 1;
  if (j < p.size() && p[j] == '!') {
    ++j;
  }
  if (j < p.size() && p[j] == ']') {
    ++j;  // a leading ']' is literal
  }
  for (; j < p.size(); ++j) {
    if (p[j] == '\\') {
      ++j;
    } else if (p[j] == ']') {
      return j + 1;
    }
  }
  return std::string_view::npos;
}

bool ClassMatches(std::string_view cls, char c) {
  // cls is the text between '[' and ']'.
  bool negate = !cls.empty() && cls[0] == '!';
  if (negate) {
    cls.remove_prefix(1);
  }
  bool hit = false;
  for (size_t i = 0; i < cls.size(); ++i) {
    char lo = cls[i];
    if (lo == '\\' && i + 1 < cls.size()) {
      lo = cls[++i];
    }
    char hi = lo;
    if (i + 2 < cls.size() && cls[i + 1] == '-') {
      hi = cls[i + 2];
      if (hi == '\\' && i + 3 < cls.size()) {
        hi = cls[i + 3];
        ++i;
      }
      i += 2;
    }
    if (c >= lo && c <= hi) {
      hit = true;
    }
  }
  return hit != negate;
}

// Index just past the `}` closing the group at pattern[i] == '{', or npos; fills alternatives.
size_t GroupEnd(std::string_view p, size_t i, std::vector<std::string_view>* alts) {
  int depth = 0;
  size_t start = i + 1;
  for (size_t j = i; j < p.size(); ++j) {
    char c = p[j];
    if (c == '\\') {
      ++j;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        alts->push_back(p.substr(start, j - start));
        return j + 1;
      }
    } else if (c == ',' && depth == 1) {
      alts->push_back(p.substr(start, j - start));
      start = j + 1;
    }
  }
  return std::string_view::npos;
}

bool Match(std::string_view p, std::string_view t) {
  size_t pi = 0;
  size_t ti = 0;
  // Backtracking point for the last '*'.
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (ti < t.size() || pi < p.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        while (pi < p.size() && p[pi] == '*') {
          ++pi;
        }
        star_p = pi;
        star_t = ti;
        continue;
      }
      if (c == '{') {
        std::vector<std::string_view> alts;
        size_t end = GroupEnd(p, pi, &alts);
        if (end != std::string_view::npos) {
          // Try each alternative followed by the rest of the pattern.
          std::string_view rest = p.substr(end);
          for (std::string_view alt : alts) {
            std::string candidate(alt);
            candidate.append(rest);
            if (Match(candidate, t.substr(ti))) {
              return true;
            }
          }
          // Fall through to star backtracking.
        } else if (ti < t.size() && t[ti] == '{') {
          ++pi;
          ++ti;
          continue;
        }
      } else if (ti < t.size()) {
        if (c == '?') {
          ++pi;
          ++ti;
          continue;
        }
        if (c == '[') {
          size_t end = ClassEnd(p, pi);
          if (end == std::string_view::npos) {
            if (t[ti] == '[') {
              ++pi;
              ++ti;
              continue;
            }
          } else if (ClassMatches(p.substr(pi + 1, end - pi - 2), t[ti])) {
            pi = end;
            ++ti;
            continue;
          }
        } else {
          char lit = c;
          size_t step = 1;
          if (c == '\\' && pi + 1 < p.size()) {
            lit = p[pi + 1];
            step = 2;
          }
          if (lit == t[ti]) {
            pi += step;
            ++ti;
            continue;
          }
        }
      }
    }
    // Mismatch: let the last '*' swallow one more character, or fail.
    if (star_p != std::string_view::npos && star_t < t.size()) {
      pi = star_p;
      ti = ++star_t;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) { return Match(pattern, text); }

bool HasGlobChars(std::string_view pattern) {
  return pattern.find_first_of("*?[{") != std::string_view::npos;
}

}  // namespace arca::backup
