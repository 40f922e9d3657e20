// MultiHeadAttention (src/layers/attention.cpp): finite-difference gradients
// (double) with respect to the inputs and every weight, for self-attention and
// cross-attention, with and without the causal mask and the biases; forward
// values on fixed weights against tests/reference/attention_reference.py
// (Keras 3's formulas); weight names and shapes as Keras; the factory and its
// errors. Training with 1 and 4 threads and save/load:
// tests/unit/model/attention_model_test.cpp.
#include "dtrain/core/error.hpp"
#include "dtrain/layers/attention.hpp"
#include "dtrain/layers/factory.hpp"
#include "support/grad_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using graph::NodeId;
using layers::MultiHeadAttentionLayer;
using layers::MultiHeadAttentionOptions;

// d(out)/d(inputs) and d(out)/d(every weight) of `layer` on inputs of these shapes.
testing::GradCheckResult check_layer(layers::Layer& layer, const std::vector<Shape>& inputs) {
  layer.build(inputs);
  std::vector<Shape> shapes = inputs;
  for (const auto& p : layer.params()) shapes.push_back(p.shape);
  const auto n_in = static_cast<std::ptrdiff_t>(inputs.size());
  testing::GradCheckOptions o;
  o.lo = -1.5;
  o.hi = 1.5;
  return testing::check_gradients(shapes, [&](graph::Graph<double>& g, const std::vector<NodeId>& ids) {
    std::vector<NodeId> params(ids.begin() + n_in, ids.end());
    std::vector<NodeId> xs(ids.begin(), ids.begin() + n_in);
    layers::CallContext<double> ctx{g, params, 1};
    return layer.call(ctx, xs);
  }, o);
}

TEST(MultiHeadAttentionGradient, SelfAttentionWithAndWithoutMaskAndBias) {
  for (bool causal : {false, true}) {
    for (bool bias : {true, false}) {
      MultiHeadAttentionLayer mha(
          {.num_heads = 2, .key_dim = 3, .value_dim = 2, .use_bias = bias, .use_causal_mask = causal});
      EXPECT_TRUE(testing::gradients_ok(check_layer(mha, {{2, 4, 5}}))) << "causal " << causal << " bias " << bias;
      EXPECT_EQ(mha.params().size(), bias ? 8u : 4u);
    }
  }
}

TEST(MultiHeadAttentionGradient, CrossAttentionWithValueAndKey) {
  for (bool causal : {false, true}) {
    MultiHeadAttentionLayer two({.num_heads = 2, .key_dim = 2, .output_shape = 3, .use_causal_mask = causal});
    EXPECT_TRUE(testing::gradients_ok(check_layer(two, {{2, 3, 4}, {2, 5, 3}}))) << "causal " << causal;
    MultiHeadAttentionLayer three({.num_heads = 3, .key_dim = 2, .value_dim = 4, .use_causal_mask = causal});
    EXPECT_TRUE(testing::gradients_ok(check_layer(three, {{2, 4, 3}, {2, 2, 5}, {2, 2, 6}}))) << "causal " << causal;
  }
}

TEST(MultiHeadAttention, WeightsAreNamedAndShapedAsKeras) {
  MultiHeadAttentionLayer mha({.num_heads = 4, .key_dim = 8, .value_dim = 6, .output_shape = 10});
  EXPECT_EQ(mha.build(std::vector<Shape>{{graph::kBatch, 7, 16}, {graph::kBatch, 9, 12}}),
            (Shape{graph::kBatch, 7, 10}));
  const std::vector<std::pair<std::string, Shape>> expected = {
      {"query/kernel", {16, 4, 8}},          {"query/bias", {4, 8}},
      {"key/kernel", {12, 4, 8}},            {"key/bias", {4, 8}},
      {"value/kernel", {12, 4, 6}},          {"value/bias", {4, 6}},
      {"attention_output/kernel", {4, 6, 10}}, {"attention_output/bias", {10}},
  };
  ASSERT_EQ(mha.params().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(mha.params()[i].name, expected[i].first);
    EXPECT_EQ(mha.params()[i].shape, expected[i].second) << expected[i].first;
  }
  // Defaults: value_dim = key_dim, output = the query's features.
  MultiHeadAttentionLayer d({.num_heads = 2, .key_dim = 3});
  EXPECT_EQ(d.build(std::vector<Shape>{{graph::kBatch, 5, 6}}), (Shape{graph::kBatch, 5, 6}));
  EXPECT_EQ(d.params()[4].shape, (Shape{6, 2, 3}));
  EXPECT_EQ(d.params()[6].shape, (Shape{2, 3, 6}));
}

const std::vector<double> kSelf = {
    0.859708014599257, -0.276875912128062, -0.0011724514354554127, -0.0874452576735088,
    1.000439627894541, -0.4066464525186178, 0.016429324608429552, -0.17213210578309135,
    0.9810935621706074, -0.40491649517307593, 0.03971128340154023, -0.1739148189491287,
    0.45364997074553626, -0.2183954975163996, 0.308193592325792, -0.10638791947274365,
    0.6750296859013392, -0.09052218949634555, -0.1694019464225024, 0.03706978973660191,
    0.5721025348843248, -0.15308565479675, -0.10444425874609886, -0.032220956516570864,
};
const std::vector<double> kSelfCausal = {
    0.34375, -0.03125, 0.3046875, 0.03125,
    0.8329898896574608, -0.49660292948801443, 0.2532158405777093, -0.2750041262971019,
    0.9810935621706074, -0.40491649517307593, 0.03971128340154023, -0.1739148189491287,
    -0.0546875, 0.5546875, -0.10546875, 0.453125,
    0.07347583792010565, 0.08023195916647308, 0.20334272607798798, 0.07910593895874518,
    0.5721025348843248, -0.15308565479675, -0.10444425874609886, -0.032220956516570864,
};
const std::vector<double> kCross = {
    0.6606024163787413, -0.3545002495786309, -0.353581078189642, -0.019971635182836456,
    0.28278256800318957, 0.7326614377699083, -0.4304717907353063, -0.3269996005421697,
    -0.08340160743327704, 0.2670617636303437, 0.7425876301515443, -0.45107416512194576,
    -0.33932185619239286, -0.0919401097224685, 0.2529357452029821, 0.6448010113945624,
    -0.31765267473581515, -0.3770268340128342, -0.06363767403936602, 0.4177745746553454,
    0.6407651021164598, -0.27796617292547027, -0.3907747496394868, -0.04976997606754979,
    0.4350714133532466, 0.645446042395635, -0.3597412720720124, -0.3509426387160941,
    -0.08119786078661001, 0.38121127910702,
};
const std::vector<double> kCrossCausal = {
    0.7734375, -0.62109375, -0.54296875, -0.109375,
    0.12109375, 0.8384058352548692, -0.5137142200187188, -0.7553424328238427,
    -0.04014253750952396, 0.12829843887939923, 0.7269815492819918, -0.4186119768561175,
    -0.5395001578312415, -0.05538931435576572, 0.2633767307167626, 0.45703125,
    -0.29296875, 0.125, -0.16796875, 0.60546875,
    0.5053753673547549, -0.1392722212061865, -0.12676763500053478, -0.06573689794622883,
    0.6277208600517032, 0.6186194671473814, -0.4041745740934139, -0.2666056425556561,
    -0.10836043071656726, 0.37418396136745824,
};

// The fixed inputs and weights of the reference script (exact binary fractions).
double weight_value(int w, std::int64_t i) { return static_cast<double>((7 * i + 3 * w + 1) % 13 - 6) / 8.0; }
double query_value(std::int64_t i) { return static_cast<double>((5 * i + 2) % 9 - 4) / 4.0; }
double value_value(std::int64_t i) { return static_cast<double>((3 * i + 1) % 7 - 3) / 4.0; }

std::vector<double> forward(const MultiHeadAttentionOptions& o, const std::vector<Shape>& inputs) {
  MultiHeadAttentionLayer mha(o);
  mha.build(inputs);
  graph::Graph<double> g;
  std::vector<NodeId> xs, params;
  for (std::size_t i = 0; i < inputs.size(); ++i) xs.push_back(g.input("x" + std::to_string(i), inputs[i]));
  for (const auto& p : mha.params()) params.push_back(g.parameter(p.name, p.shape));
  layers::CallContext<double> ctx{g, params, 1};
  const auto y = mha.call(ctx, xs);
  g.plan(inputs[0][0]);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    auto v = g.value(xs[i]);
    for (std::int64_t j = 0; j < v.size(); ++j) v.data[j] = i == 0 ? query_value(j) : value_value(j);
  }
  for (std::size_t w = 0; w < params.size(); ++w) {
    auto v = g.value(params[w]);
    for (std::int64_t j = 0; j < v.size(); ++j) v.data[j] = weight_value(static_cast<int>(w), j);
  }
  g.forward(false);
  return {g.value(y).data, g.value(y).data + g.value(y).size()};
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << what << " element " << i;
}

TEST(MultiHeadAttention, ForwardMatchesKerasFormulas) {
  for (bool causal : {false, true}) {
    expect_near_all(forward({.num_heads = 2, .key_dim = 3, .value_dim = 2, .use_causal_mask = causal}, {{2, 3, 4}}),
                    causal ? kSelfCausal : kSelf, causal ? "self causal" : "self");
    expect_near_all(forward({.num_heads = 2, .key_dim = 2, .value_dim = 3, .output_shape = 5, .use_causal_mask = causal},
                            {{2, 3, 4}, {2, 5, 3}}),
                    causal ? kCrossCausal : kCross, causal ? "cross causal" : "cross");
  }
}

TEST(MultiHeadAttention, FactoryReadsKerasArgumentsAndUseCausalMask) {
  Config c;
  c.set("num_heads", std::int64_t{2}).set("key_dim", std::int64_t{4}).set("use_causal_mask", true);
  c.set("name", std::string("attn"));
  const auto layer = layers::make_layer("MultiHeadAttention", c);
  EXPECT_EQ(layer->type(), "MultiHeadAttention");
  EXPECT_EQ(layer->name(), "attn");
  const auto back = layer->config();
  EXPECT_TRUE(back.get_bool("use_causal_mask", ""));
  EXPECT_EQ(back.get_int("key_dim", ""), 4);
  EXPECT_FALSE(back.has("value_dim"));  // None: key_dim
  EXPECT_EQ(layers::make_layer("MultiHeadAttention", back)->config().get_bool("use_causal_mask", ""), true);
  EXPECT_EQ(layers::default_layer_name("MultiHeadAttention"), "multi_head_attention");
}

std::string argument_error(const Config& c) {
  try {
    layers::make_layer("MultiHeadAttention", c);
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "no error";
}

TEST(MultiHeadAttention, ErrorsNameTheArgument) {
  Config c;
  c.set("num_heads", std::int64_t{2}).set("key_dim", std::int64_t{4});
  EXPECT_EQ(argument_error(c), "no error");
  Config drop = c;
  drop.set("dropout", 0.1);
  EXPECT_NE(argument_error(drop).find("dropout must be 0"), std::string::npos) << argument_error(drop);
  Config heads = c;
  heads.set("num_heads", std::int64_t{0});
  EXPECT_NE(argument_error(heads).find("num_heads must be positive, got 0"), std::string::npos);
  Config unknown = c;
  unknown.set("attention_axes", std::int64_t{1});
  EXPECT_NE(argument_error(unknown).find("attention_axes"), std::string::npos) << argument_error(unknown);
  MultiHeadAttentionLayer mha({.num_heads = 2, .key_dim = 2});
  EXPECT_THROW(mha.build(std::vector<Shape>{{graph::kBatch, 8}}), ShapeError);
  MultiHeadAttentionLayer cross({.num_heads = 2, .key_dim = 2});
  EXPECT_THROW(cross.build(std::vector<Shape>{{graph::kBatch, 3, 4}, {graph::kBatch, 5, 4}, {graph::kBatch, 6, 4}}),
               ShapeError);
}

}  // namespace
}  // namespace dtrain
