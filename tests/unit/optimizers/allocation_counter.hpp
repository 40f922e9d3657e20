// Counts the plain operator new calls of the test binary (replaced in
// allocation_counter.cpp), to show that Optimizer::apply() does not allocate.
#pragma once

namespace dtrain::testing {

long allocation_count();

}  // namespace dtrain::testing
