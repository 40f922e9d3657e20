// What dense_bench and layer_bench share: the GFLOP/s counter and the timed
// forward + backward of a one-layer graph.
#pragma once

#include "dtrain/graph/graph.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <utility>

namespace dtrain::bench {

inline void set_rate(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// Times forward + backward of the graph that build(g) makes (it returns {input,
// loss}) at `batch` rows on `threads` TBB threads, as the trainer runs it:
// weights 0.01, inputs (i mod 7) / 10.
template <class Build>
void time_graph_step(benchmark::State& state, int threads, std::int64_t batch, Build&& build) {
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    graph::Graph<float> g;
    const auto [x, loss] = build(g);
    g.plan(batch);
    for (auto& v : g.parameter_values()) v = 0.01f;
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = static_cast<float>(i % 7) * 0.1f;
    for (auto _ : state) {
      g.forward();
      g.backward(loss);
      benchmark::DoNotOptimize(g.parameter_grads().data());
    }
  });
}

}  // namespace dtrain::bench
