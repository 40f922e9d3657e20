// Argument checks shared by the optimizers and schedules (private to src/optimizers).
// Messages follow Keras: "<who>: `<arg>` must be in [0, 1). Received: <arg>=1.5".
#pragma once

#include "dtrain/core/error.hpp"

#include <string>

namespace dtrain::optimizers::detail {

std::string format_number(double v);

enum class Bound { kClosed, kOpen, kNone };

// Throws ArgumentError unless v is finite and lo (<= or <) v (<= or <) hi.
void check_range(const std::string& who, const char* arg, double v, double lo, Bound lo_bound,
                 double hi, Bound hi_bound);

inline void check_non_negative(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, 0.0, Bound::kClosed, 0.0, Bound::kNone);
}
inline void check_positive(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, 0.0, Bound::kOpen, 0.0, Bound::kNone);
}
inline void check_unit_interval_open(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, 0.0, Bound::kClosed, 1.0, Bound::kOpen);  // [0, 1)
}
inline void check_unit_interval_closed(const std::string& who, const char* arg, double v) {
  check_range(who, arg, v, 0.0, Bound::kClosed, 1.0, Bound::kClosed);  // [0, 1]
}

}  // namespace dtrain::optimizers::detail
