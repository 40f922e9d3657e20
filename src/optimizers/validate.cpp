#include "validate.hpp"

#include "dtrain/core/config.hpp"

#include <cmath>

namespace dtrain::optimizers::detail {

std::string format_number(double v) { return to_string(ConfigValue(v)); }  // shortest exact form

void check_range(const std::string& who, const char* arg, double v, double lo, Bound lo_bound,
                 double hi, Bound hi_bound) {
  bool ok = std::isfinite(v);
  if (lo_bound == Bound::kClosed) ok = ok && v >= lo;
  if (lo_bound == Bound::kOpen) ok = ok && v > lo;
  if (hi_bound == Bound::kClosed) ok = ok && v <= hi;
  if (hi_bound == Bound::kOpen) ok = ok && v < hi;
  if (ok) return;
  std::string range;
  if (hi_bound == Bound::kNone) {
    range = (lo_bound == Bound::kOpen ? "> " : ">= ") + format_number(lo);
  } else {
    range = std::string("in ") + (lo_bound == Bound::kOpen ? "(" : "[") + format_number(lo) +
            ", " + format_number(hi) + (hi_bound == Bound::kOpen ? ")" : "]");
  }
  throw ArgumentError(who + ": `" + arg + "` must be a finite number " + range +
                      ". Received: " + arg + "=" + format_number(v));
}

}  // namespace dtrain::optimizers::detail
