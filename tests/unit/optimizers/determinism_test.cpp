// The same steps with 1 and 2 TBB threads give bitwise identical weights and
// slots, for every optimizer, with each kind of clipping and weight decay, on
// variables that span several blocks and small ones that share a block. So do
// 3 replicas that each update only their share of the elements (apply with
// ranges, as the ranks of a sharded optimizer step do) and then take the other
// replicas' shares.
#include "dtrain/core/error.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>

namespace dtrain::optimizers {
namespace {

struct Result {
  std::vector<float> weights, slots;
};

const std::vector<std::size_t> kSizes{70001, 10, 3000, 1, 16384, 257};

// Replica r's share: of each variable, the r-th third, and of the first one
// also every r-th 1000-element piece past 40000 (several ranges per variable).
std::vector<ElementRange> share(int r, int replicas) {
  std::vector<ElementRange> out;
  for (std::size_t p = 0; p < kSizes.size(); ++p) {
    const auto n = static_cast<std::int64_t>(p == 0 ? 40000 : kSizes[p]);
    out.push_back({p, n * r / replicas, n * (r + 1) / replicas});
    if (p != 0) continue;
    for (std::int64_t b = 40000 + 1000 * r; b < 70001; b += 1000 * replicas) {
      out.push_back({p, b, std::min<std::int64_t>(b + 1000, 70001)});
    }
  }
  std::erase_if(out, [](const ElementRange& x) { return x.begin == x.end; });
  return out;
}

Result run_sharded(int replicas, const std::string& name, const Options& options) {
  std::vector<std::vector<std::vector<float>>> w(static_cast<std::size_t>(replicas));
  std::vector<std::vector<float>> g(kSizes.size());
  std::vector<std::vector<ParamRef<float>>> params(w.size());
  std::vector<std::unique_ptr<Optimizer<float>>> opts;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (std::size_t p = 0; p < kSizes.size(); ++p) {
    std::vector<float> init;
    for (std::size_t i = 0; i < kSizes[p]; ++i) init.push_back(nd(rng));
    for (auto& wr : w) wr.push_back(init);
    g[p].assign(kSizes[p], 0.f);
  }
  for (std::size_t r = 0; r < w.size(); ++r) {
    for (std::size_t p = 0; p < kSizes.size(); ++p) {
      params[r].push_back({"layer_" + std::to_string(p) + "/kernel", w[r][p], g[p]});
    }
    opts.push_back(make_optimizer<float>(name, options));
  }
  // Copies each element from the replica that owns it into every replica.
  const auto merge = [&](auto&& arrays) {
    for (int r = 0; r < replicas; ++r) {
      for (const auto& x : share(r, replicas)) {
        for (int q = 0; q < replicas; ++q) {
          if (q == r) continue;
          std::copy(arrays(r, x.param).begin() + x.begin, arrays(r, x.param).begin() + x.end,
                    arrays(q, x.param).begin() + x.begin);
        }
      }
    }
  };
  for (int step = 0; step < 4; ++step) {
    for (auto& gv : g) {
      for (auto& x : gv) x = 0.1f * nd(rng);
    }
    for (int r = 0; r < replicas; ++r) opts[static_cast<std::size_t>(r)]->apply(params[static_cast<std::size_t>(r)], share(r, replicas));
    merge([&](int r, std::size_t p) -> std::vector<float>& { return w[static_cast<std::size_t>(r)][p]; });
  }
  const auto slots_per_param = opts[0]->slot_names().size();
  for (std::size_t k = 0; k < slots_per_param; ++k) {
    merge([&](int r, std::size_t p) { return opts[static_cast<std::size_t>(r)]->slots()[p * slots_per_param + k].value; });
  }
  Result out;
  for (const auto& wv : w[1]) out.weights.insert(out.weights.end(), wv.begin(), wv.end());
  for (const auto& s : opts[2]->slots()) out.slots.insert(out.slots.end(), s.value.begin(), s.value.end());
  return out;
}

Result run(int threads, const std::string& name, Options options) {
  Result r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    const auto& sizes = kSizes;
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

TEST(Determinism, RangesOutsideTheVariablesOrOutOfOrderAreRejected) {
  std::vector<float> w(10, 1.f), g(10, 0.5f);
  std::vector<ParamRef<float>> params{{"a/kernel", w, g}};
  auto opt = make_optimizer<float>("adam", {});
  const std::vector<ElementRange> past_end{{0, 5, 11}};
  EXPECT_THROW(opt->apply(params, past_end), ArgumentError);
  const std::vector<ElementRange> unordered{{0, 5, 8}, {0, 0, 3}};
  EXPECT_THROW(opt->apply(params, unordered), ArgumentError);
  const std::vector<ElementRange> half{{0, 0, 5}};
  opt->apply(params, half);
  EXPECT_NE(w[0], 1.f);
  EXPECT_EQ(w[5], 1.f);  // outside the range: untouched
  EXPECT_EQ(opt->slots()[0].value[5], 0.f);
  EXPECT_EQ(opt->iterations(), 1);
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
      const Result sharded = run_sharded(3, name, options);
      EXPECT_TRUE(bitwise_equal(one.weights, sharded.weights)) << what << " sharded";
      EXPECT_TRUE(bitwise_equal(one.slots, sharded.slots)) << what << " sharded";
      // And the step really changed the weights.
      EXPECT_GT(one.weights.size(), 0u);
    }
  }
}

}  // namespace
}  // namespace dtrain::optimizers
