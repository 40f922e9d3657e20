// Random starting values for graph tests: every parameter, then given nodes'
// values, drawn in order from one generator (the start of the tests that run
// one graph under several thread counts and compare the bits).
//
//   std::mt19937 rng(4);
//   std::normal_distribution<float> nd(0.5f, 2.0f);
//   dtrain::testing::fill_parameters(g, rng, nd);
//   dtrain::testing::fill_values(g, {x, p}, rng, nd);
#pragma once

#include "dtrain/graph/graph.hpp"

#include <cstdint>
#include <initializer_list>

namespace dtrain::testing {

template <class T, class Rng, class Dist>
void fill_parameters(graph::Graph<T>& g, Rng& rng, Dist& dist) {
  for (auto& v : g.parameter_values()) v = static_cast<T>(dist(rng));
}

template <class T, class Rng, class Dist>
void fill_values(graph::Graph<T>& g, std::initializer_list<graph::NodeId> ids, Rng& rng, Dist& dist) {
  for (const auto id : ids) {
    auto v = g.value(id);
    for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<T>(dist(rng));
  }
}

}  // namespace dtrain::testing
