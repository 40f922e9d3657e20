// Keras' model.summary() table, from a built network.
#pragma once

#include "network.hpp"

#include <string>

namespace dtrain::model {

// Layer (type), output shape, parameter count (and inbound layers unless the
// layers form a chain), then the totals.
std::string summarize(const std::string& name, const Network& network);

}  // namespace dtrain::model
