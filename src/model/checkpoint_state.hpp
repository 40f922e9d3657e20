// A model's training state to and from checkpoint::CheckpointState: the one
// place that knows both sides (Model::save / resume and ModelCheckpoint use it).
#pragma once

#include "dtrain/checkpoint.hpp"
#include "dtrain/model.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::model {

// The state to write: config, weights, optimizer (built now if need be),
// progress. epoch_state: the epoch's running sums over all ranks (saved when
// step_in_epoch > 0). The optimizer state must be whole on this rank
// (Model::gather_optimizer_state).
checkpoint::CheckpointState capture(Model& model, std::int64_t epoch, std::int64_t step_in_epoch,
                                    std::vector<double> epoch_state);

}  // namespace dtrain::model
