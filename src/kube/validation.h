// File: kube/validation.h
//
// Kubernetes' name and label validation rules (k8s.io/apimachinery/pkg/util/validation), used by
// the label selector parser and by code that builds object names. Each function returns OK or an
// InvalidArgument error whose message says which rule the text breaks; the text itself is quoted
// in the message, so never pass secrets.
#pragma once

#include <string_view>

#include "common/status.h"

namespace arca::kube {

// A label key or annotation key: an optional DNS-1123 subdomain prefix and '/', then a name of
// at most 63 characters made of alphanumerics, '-', '_' and '.', starting and ending with an
// alphanumeric ("app", "app.kubernetes.io/name").
Status ValidateQualifiedName(std::string_view name);

// A label value: empty, or at most 63 characters with the same character rules as a name.
Status ValidateLabelValue(std::string_view value);

// A DNS-1123 subdomain: at most 253 characters of lower-case alphanumerics, '-' and '.', starting
// and ending with an alphanumeric.
Status ValidateDns1123Subdomain(std::string_view name);

}  // namespace arca::kube
