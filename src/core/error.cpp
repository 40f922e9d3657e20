#include "dtrain/core/error.hpp"

// Error is header-only today; this unit anchors the library's error vocabulary.
