// DataParallelStep (internal to model/): what one training step needs beyond
// one rank. Owns the gradient reducer for the network's parameters; when the
// reducer's transport offers memory (shared memory on one host), the network's
// store is remade there at construction. Runs the sharded optimizer step
// (each rank updates its share, then trades weights), gathers the sharded
// optimizer state on request and keeps non-trainable state equal on all ranks.
//
//   DataParallelStep dp(comm, network, options, optimizer);   // collective
//   dp.backward(step, local_rows);   // this rank's gradient sums, all-reduced as they fill
//   dp.finish();                     // gradients = global mean on every rank
//   dp.apply(optimizer);             // the same step on every rank
//   dp.sync_non_trainable();
#pragma once

#include "network.hpp"

#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace dtrain::model {

class DataParallelStep {
 public:
  // Collective. The optimizer's options decide whether a sharded step needs
  // whole gradients (norm clipping takes the norm over all of them).
  DataParallelStep(distributed::Communicator& comm, Network& network, distributed::ReducerOptions options,
                   const optimizers::Optimizer<float>& optimizer);

  // Starts the step's reduction and runs backward from the loss (or, without
  // local samples, contributes zeros).
  void backward(std::uint64_t step, std::int64_t local_samples);
  // Waits until the gradients are the global mean.
  void finish();
  // The optimizer step: the whole of it, or this rank's share followed by
  // the weights' exchange.
  void apply(optimizers::Optimizer<float>& optimizer);
  // Non-trainable state (batch-norm moving statistics) averaged over ranks.
  void sync_non_trainable();
  // Collective: with a sharded step each rank's slots are current only on its
  // share; afterwards every rank holds the whole state.
  void gather_optimizer_state(optimizers::Optimizer<float>& optimizer);

  bool sharded() const;

 private:
  distributed::Communicator& comm_;
  Network& network_;
  distributed::GradientReducer reducer_;
  std::vector<optimizers::ElementRange> own_share_;  // sharded step: the elements this rank updates
};

}  // namespace dtrain::model
