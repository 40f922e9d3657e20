#include "data_parallel_step.hpp"

#include <algorithm>
#include <bit>

namespace dtrain::model {
namespace {

distributed::ReducerOptions with_gradient_needs(distributed::ReducerOptions options,
                                                const optimizers::Optimizer<float>& optimizer) {
  // A sharded step needs the whole gradient only to take its norm (clipping).
  const auto& common = optimizer.common_options();
  options.whole_gradients = common.clipnorm.has_value() || common.global_clipnorm.has_value();
  return options;
}

}  // namespace

DataParallelStep::DataParallelStep(distributed::Communicator& comm, Network& network,
                                   distributed::ReducerOptions options, const optimizers::Optimizer<float>& optimizer)
    : comm_(comm), network_(network),
      reducer_(comm, network.parameters(), with_gradient_needs(options, optimizer)) {
  // Gradients and weights then live where the other ranks read them.
  if (auto memory = reducer_.parameter_memory()) network_.rehome(std::move(memory));
  reducer_.attach(network_.store().grads());
  if (!sharded()) return;
  // The reducer's share of the arena, as element ranges of each trainable variable.
  const auto share = reducer_.own_share();
  std::size_t t = 0;
  for (const auto& p : network_.parameters()) {
    if (!p.trainable) continue;
    for (const auto& [lo, hi] : share) {
      const auto b = std::max(lo, p.offset);
      const auto e = std::min(hi, p.offset + p.shape.numel());
      if (b < e) own_share_.push_back({t, b - p.offset, e - p.offset});
    }
    ++t;
  }
}

bool DataParallelStep::sharded() const { return reducer_.transport() == distributed::ReduceTransport::shared_memory; }

void DataParallelStep::backward(std::uint64_t step, std::int64_t local_samples) {
  reducer_.begin_step(step, local_samples);
  if (local_samples > 0) {
    network_.graph().backward(network_.loss_sum(), &reducer_);
  } else {
    reducer_.contribute_zero();
  }
}

void DataParallelStep::finish() { reducer_.finish(); }

void DataParallelStep::apply(optimizers::Optimizer<float>& optimizer) {
  if (sharded()) {
    optimizer.apply(network_.trainable(), own_share_);
    reducer_.share_weights(network_.store().values());
  } else {
    optimizer.apply(network_.trainable());
  }
}

void DataParallelStep::sync_non_trainable() {
  const auto& ps = network_.parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].trainable) continue;
    auto v = network_.store().value(i);
    std::span<float> s(v.data, static_cast<std::size_t>(v.size()));
    comm_.allreduce_sum(s, "batch-norm moving statistics");
    for (auto& x : s) x /= static_cast<float>(comm_.size());
  }
}

// Every rank takes each element from its owner: a bitwise max of the owner's
// bits and everyone else's zeros.
void DataParallelStep::gather_optimizer_state(optimizers::Optimizer<float>& optimizer) {
  if (!sharded() || !optimizer.built()) return;
  auto slots = optimizer.slots();
  const auto per_variable = optimizer.slot_names().size();
  const auto variables = network_.trainable().size();
  std::vector<std::uint64_t> bits;
  for (std::size_t j = 0; j < variables * per_variable && j < slots.size(); ++j) {
    auto value = slots[j].value;
    bits.assign(value.size(), 0);
    for (const auto& r : own_share_) {
      if (r.param != j / per_variable) continue;
      for (auto i = r.begin; i < r.end; ++i) {
        bits[static_cast<std::size_t>(i)] = std::bit_cast<std::uint32_t>(value[static_cast<std::size_t>(i)]);
      }
    }
    comm_.allreduce_max(std::span<std::uint64_t>(bits), "optimizer state, from the rank that owns each element");
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = std::bit_cast<float>(static_cast<std::uint32_t>(bits[i]));
  }
}

}  // namespace dtrain::model
