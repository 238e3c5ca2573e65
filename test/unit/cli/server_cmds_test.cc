// Unit tests of the server-mode CLI commands (schedule, backup-location) and of cli/download.h.
#include <gtest/gtest.h>
