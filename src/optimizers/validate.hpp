// Argument checks shared by the optimizers and schedules (private to src/optimizers).
// Messages follow Keras: "<who>: `<arg>` must be in [0, 1). Received: <arg>=1.5".
#pragma once

#include "dtrain/core/error.hpp"

#include <string>

namespace dtrain::optimizers::detail {

std::string format_number(double v);

enum class Bound { kClosed, kOpen, kNone };

// The finite values lo (<= or <) v (<= or <) hi; kNone leaves that side open.
struct Range {
  double lo = 0.0;
  Bound lo_bound = Bound::kNone;
  double hi = 0.0;
  Bound hi_bound = Bound::kNone;
};
inline constexpr Range kNonNegative{0.0, Bound::kClosed, 0.0, Bound::kNone};   // >= 0
inline constexpr Range kPositive{0.0, Bound::kOpen, 0.0, Bound::kNone};        // > 0
inline constexpr Range kNonPositive{0.0, Bound::kNone, 0.0, Bound::kClosed};   // <= 0
inline constexpr Range kUnitOpen{0.0, Bound::kClosed, 1.0, Bound::kOpen};      // [0, 1)
inline constexpr Range kUnitClosed{0.0, Bound::kClosed, 1.0, Bound::kClosed};  // [0, 1]

// Throws ArgumentError unless v is in r.
void check_range(const std::string& who, const char* arg, double v, const Range& r);

inline void check_non_negative(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, kNonNegative);
}
inline void check_positive(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, kPositive);
}
inline void check_unit_interval_closed(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, kUnitClosed);
}

}  // namespace dtrain::optimizers::detail
