#include "cli/download.h"
