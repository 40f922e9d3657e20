// Optimizer state: stable slot names, exact checkpoint restore through slots()
// and set_iterations(), parameter checks, and no allocation in apply().
#include "allocation_counter.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

namespace dtrain::optimizers {
namespace {

// A small model: three variables, one larger than a block.
struct Model {
  std::map<std::string, std::vector<double>> w, g;
  std::vector<ParamRef<double>> params;

  explicit Model(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> nd(0.0, 1.0);
    for (const auto& [name, n] : std::vector<std::pair<std::string, std::size_t>>{
             {"dense_1/kernel", 20000}, {"dense_1/bias", 7}, {"dense_2/kernel", 33}}) {
      auto& wv = w[name];
      for (std::size_t i = 0; i < n; ++i) wv.push_back(nd(rng));
      g[name].assign(n, 0.0);
    }
    for (const auto* name : {"dense_1/kernel", "dense_1/bias", "dense_2/kernel"}) {
      params.push_back({name, w[name], g[name]});
    }
  }
  // Copies the values in place (the spans in params stay valid).
  void copy_weights_from(const Model& other) {
    for (auto& [name, wv] : w) std::copy(other.w.at(name).begin(), other.w.at(name).end(), wv.begin());
  }
  void set_gradients(unsigned step) {
    std::mt19937 rng(1000 + step);
    std::normal_distribution<double> nd(0.0, 0.5);
    for (auto& [name, gv] : g) {
      for (auto& x : gv) x = nd(rng);
    }
  }
};

const std::vector<std::pair<std::string, Options>>& all_variants() {
  static const std::vector<std::pair<std::string, Options>> v = {
      {"sgd", {{"momentum", 0.9}, {"nesterov", true}}},
      {"rmsprop", {{"momentum", 0.5}, {"centered", true}}},
      {"adam", {{"amsgrad", true}, {"clipnorm", 1.0}}},
      {"adamw", {{"global_clipnorm", 2.0}}},
      {"adagrad", {{"weight_decay", 0.01}}},
      {"adadelta", {{"learning_rate", 1.0}}},
      {"adamax", {{"clipvalue", 0.3}}},
      {"nadam", {}},
      {"ftrl", {{"l1_regularization_strength", 0.01}, {"beta", 0.1}}},
      {"lion", {{"beta_2", 0.95}, {"weight_decay", 0.05}}},
  };
  return v;
}

TEST(State, SlotNamesAreParamSlashSlotInBuildOrder) {
  Model m(1);
  auto nadam = make_optimizer<double>("nadam");
  EXPECT_TRUE(nadam->slots().empty());  // before build
  nadam->build(m.params);
  std::vector<std::string> names;
  for (const auto& s : nadam->slots()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dense_1/kernel/m", "dense_1/kernel/v",
                                             "dense_1/bias/m", "dense_1/bias/v",
                                             "dense_2/kernel/m", "dense_2/kernel/v",
                                             "nadam/u_product"}));
  EXPECT_EQ(nadam->slots()[0].value.size(), 20000u);
  EXPECT_EQ(nadam->slots()[2].value.size(), 7u);
  EXPECT_EQ(nadam->slots().back().value[0], 1.0);  // the product starts at 1
  // Initial accumulators: Adagrad and Ftrl start at initial_accumulator_value.
  auto adagrad = make_optimizer<double>("adagrad", {{"initial_accumulator_value", 0.25}});
  adagrad->build(m.params);
  for (const auto& s : adagrad->slots()) {
    for (double v : s.value) ASSERT_EQ(v, 0.25) << s.name;
  }
  auto ftrl = make_optimizer<double>("ftrl");
  ftrl->build(m.params);
  for (const auto& s : ftrl->slots()) {
    const double want = s.name.ends_with("/n") ? 0.1 : 0.0;
    for (double v : s.value) ASSERT_EQ(v, want) << s.name;
  }
}

// Save after 2 steps (config, iterations, slots, weights), restore into a fresh
// optimizer, run 2 more steps on both: bitwise the same weights and state.
TEST(State, CheckpointRestoreIsExact) {
  for (const auto& [name, options] : all_variants()) {
    Model a(2);
    auto opt = make_optimizer<double>(name, options);
    for (unsigned step = 0; step < 2; ++step) {
      a.set_gradients(step);
      opt->apply(a.params);
    }
    // "Checkpoint": everything by name.
    const OptimizerConfig config = opt->config();
    const std::int64_t iterations = opt->iterations();
    std::map<std::string, std::vector<double>> saved;
    for (const auto& s : opt->slots()) saved[s.name].assign(s.value.begin(), s.value.end());

    Model b(99);  // different weights, overwritten below
    b.copy_weights_from(a);
    auto restored = make_optimizer<double>(config);
    restored->build(b.params);
    restored->set_iterations(iterations);
    for (auto& s : restored->slots()) {
      ASSERT_TRUE(saved.count(s.name)) << name << " " << s.name;
      std::copy(saved[s.name].begin(), saved[s.name].end(), s.value.begin());
    }
    EXPECT_EQ(restored->slots().size(), saved.size()) << name;

    for (unsigned step = 2; step < 4; ++step) {
      a.set_gradients(step);
      b.set_gradients(step);
      opt->apply(a.params);
      restored->apply(b.params);
    }
    EXPECT_EQ(restored->iterations(), 4);
    for (const auto& [pname, wv] : a.w) {
      EXPECT_EQ(std::memcmp(wv.data(), b.w[pname].data(), wv.size() * sizeof(double)), 0)
          << name << " " << pname;
    }
    auto sa = opt->slots();
    auto sb = restored->slots();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].name, sb[i].name);
      EXPECT_EQ(std::memcmp(sa[i].value.data(), sb[i].value.data(),
                            sa[i].value.size() * sizeof(double)),
                0)
          << name << " " << sa[i].name;
    }
  }
}

TEST(State, NadamProductIsStateThatMatters) {
  // Without restoring nadam/u_product the next step differs: it is real state.
  Model a(3), b(3);
  auto n1 = make_optimizer<double>("nadam");
  a.set_gradients(0);
  n1->apply(a.params);
  auto n2 = make_optimizer<double>("nadam");
  n2->build(b.params);
  n2->set_iterations(1);
  auto s1 = n1->slots();
  auto s2 = n2->slots();
  for (std::size_t i = 0; i + 1 < s1.size(); ++i) {  // all but the product
    std::copy(s1[i].value.begin(), s1[i].value.end(), s2[i].value.begin());
  }
  b.copy_weights_from(a);
  a.set_gradients(1);
  b.set_gradients(1);
  n1->apply(a.params);
  n2->apply(b.params);
  EXPECT_NE(a.w["dense_1/bias"][0], b.w["dense_1/bias"][0]);
  // P after 2 steps = u_1 * u_2 with u_t = 0.9 * (1 - 0.5 * 0.96^t).
  const double u1 = 0.9 * (1 - 0.5 * 0.96), u2 = 0.9 * (1 - 0.5 * 0.96 * 0.96);
  EXPECT_NEAR(n1->slots().back().value[0], u1 * u2, 1e-15);
}

TEST(State, ParametersMustMatchTheBuild) {
  Model m(4);
  Adam<double> adam;
  adam.build(m.params);
  EXPECT_THROW(adam.build(m.params), ArgumentError);
  std::vector<ParamRef<double>> fewer(m.params.begin(), m.params.end() - 1);
  EXPECT_THROW(adam.apply(fewer), ArgumentError);
  auto renamed = m.params;
  renamed[1].name = "dense_1/gamma";
  EXPECT_THROW(adam.apply(renamed), ArgumentError);
  auto shorter = m.params;
  shorter[1].value = shorter[1].value.first(3);
  shorter[1].grad = shorter[1].grad.first(3);
  EXPECT_THROW(adam.apply(shorter), ShapeError);
  EXPECT_EQ(adam.iterations(), 0);

  Adam<double> fresh;
  auto dup = m.params;
  dup[2].name = dup[0].name;
  EXPECT_THROW(fresh.build(dup), ArgumentError);
  auto mismatched = m.params;
  mismatched[0].grad = mismatched[0].grad.first(10);
  EXPECT_THROW(fresh.build(mismatched), ShapeError);
  EXPECT_THROW(fresh.set_iterations(-1), ArgumentError);
}

TEST(State, NoAllocationInApply) {
  for (const auto& [name, options] : all_variants()) {
    Model m(5);
    auto opt = make_optimizer<double>(name, options);
    opt->build(m.params);
    m.set_gradients(0);
    kernels::ThreadScope threads(2);
    long during = -1;
    threads.run([&] {
      opt->apply(m.params);  // warms up the thread pool
      const long before = testing::allocation_count();
      for (int i = 0; i < 3; ++i) opt->apply(m.params);
      during = testing::allocation_count() - before;
    });
    EXPECT_EQ(during, 0) << name;
  }
}

// The ParamRefs of optimizer.hpp's example, over a real Graph's arenas: one SGD
// step moves every parameter by -lr * its gradient, in place.
TEST(State, WorksOnTheGraphArenas) {
  graph::Graph<float> g;
  const auto x = g.input("x", {graph::kBatch, 3});
  const auto w = g.parameter("dense_1/kernel", {3, 2});
  const auto b = g.parameter("dense_1/bias", {2});
  const auto loss = graph::mean(g, graph::square(g, graph::bias_add(g, graph::matmul(g, x, w), b)));
  g.plan(4);
  for (std::size_t i = 0; i < g.parameter_values().size(); ++i) {
    g.parameter_values()[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  }
  auto xv = g.value(x);
  for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = 0.25f * static_cast<float>(i % 5) - 0.5f;
  g.forward();
  g.backward(loss);

  std::vector<ParamRef<float>> params;
  for (std::size_t i = 0; i < g.parameters().size(); ++i) {
    if (!g.parameters()[i].trainable) continue;
    auto v = g.parameter_value(i);
    auto d = g.parameter_grad(i);
    params.push_back({g.parameters()[i].name, {v.data, std::size_t(v.size())},
                      {d.data, std::size_t(d.size())}});
  }
  ASSERT_EQ(params.size(), 2u);
  std::vector<float> before(g.parameter_values().begin(), g.parameter_values().end());
  std::vector<float> grads(g.parameter_grads().begin(), g.parameter_grads().end());
  auto sgd = make_optimizer<float>("sgd", {{"learning_rate", 0.5}});
  sgd->apply(params);
  bool moved = false;
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(g.parameter_values()[i], before[i] - grads[i] * 0.5f) << i;
    moved = moved || grads[i] != 0.f;
  }
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace dtrain::optimizers
