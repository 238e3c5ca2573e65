// File: api/names.h
//
// Label values derived from object names, as Velero makes them (GetValidName): names of at most
// 63 characters are used as they are; longer ones become their first 57 characters followed by
// the first 6 hex digits of the SHA-256 of the whole name.
#pragma once

#include <string>
#include <string_view>

namespace arca::api {

std::string GetValidName(std::string_view name);

}  // namespace arca::api
