#include "validate.hpp"

#include "dtrain/core/config.hpp"

#include <cmath>

namespace dtrain::optimizers::detail {

std::string format_number(double v) { return to_string(ConfigValue(v)); }  // shortest exact form

void check_range(const std::string& who, const char* arg, double v, const Range& r) {
  bool ok = std::isfinite(v);
  if (r.lo_bound == Bound::kClosed) ok = ok && v >= r.lo;
  if (r.lo_bound == Bound::kOpen) ok = ok && v > r.lo;
  if (r.hi_bound == Bound::kClosed) ok = ok && v <= r.hi;
  if (r.hi_bound == Bound::kOpen) ok = ok && v < r.hi;
  if (ok) return;
  std::string range;  // empty: any finite number
  if (r.lo_bound != Bound::kNone && r.hi_bound != Bound::kNone) {
    range = std::string(" in ") + (r.lo_bound == Bound::kOpen ? "(" : "[") + format_number(r.lo) + ", " +
            format_number(r.hi) + (r.hi_bound == Bound::kOpen ? ")" : "]");
  } else if (r.lo_bound != Bound::kNone) {
    range = (r.lo_bound == Bound::kOpen ? " > " : " >= ") + format_number(r.lo);
  } else if (r.hi_bound != Bound::kNone) {
    range = (r.hi_bound == Bound::kOpen ? " < " : " <= ") + format_number(r.hi);
  }
  throw ArgumentError(who + ": `" + arg + "` must be a finite number" + range + ". Received: " + arg + "=" +
                      format_number(v));
}

}  // namespace dtrain::optimizers::detail
