// LayerNormalization and RMSNormalization (src/layers/normalization.cpp): forward
// values against reference values at ranks 2 and 4, Keras' weights (names, shapes,
// counts, which exist with center/scale off), the axis argument, default names.
// Gradients: tests/unit/layers/layers_gradient_test.cpp (layers) and
// tests/unit/graph/layer_norm_test.cpp (ops, with 1 vs 4 threads bitwise).
//
// The reference values come from tests/reference/normalization_reference.py
// (plain Python with math.fsum, Keras 3's formulas; the derivation is in the
// script). Regenerate with
//   python3 tests/reference/normalization_reference.py
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/layers/factory.hpp"
#include "dtrain/layers/normalization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dtrain {
namespace {

// ---- reference values (printed by tests/reference/normalization_reference.py) --------
const std::vector<double> kX2 = {0.5, -1.25, 2.0, 0.0, 3.5, 2.0, 2.0, 2.0, 2.0, 2.0, 1000.25, 999.5, 1001.0, 1000.0, 998.75, 0.001, -0.002, 0.0005, 0.0, 0.003};
const std::vector<double> kGamma5 = {1.5, -0.5, 1.0, 2.0, 0.25};
const std::vector<double> kBeta5 = {0.1, 0.0, -0.3, 1.0, 0.5};
const std::vector<double> kLn2 = {-0.30995766801103686, 0.6680791626846528, 0.3377119280171686, -0.15395491736440015, 0.8871822420104237, 0.1, 0.0, -0.3, 1.0, 0.5, 0.797832332773693, 0.26584088867566025, 1.1621248877162447, 1.2658408886757357, 0.11785372252872423, 0.12368631023690982, 0.039477183728183006, -0.3, 0.9684182530174535, 0.5197385918640915};
const std::vector<double> kLn2Plain = {-0.2733550283092487, -1.336402360622994, 0.6378283993882471, -0.5770828375417473, 1.5490118270857427, 0.0, 0.0, 0.0, 0.0, 0.0, 0.46562895307447627, -0.5321473749421938, 1.4634052810911462, 0.13303684373558625, -1.5299237029588637, 0.14085904245475278, -0.7042952122737639, 0.0, -0.14085904245475278, 0.7042952122737639};
const std::vector<double> kLn2ScaleOnly = {-0.40995766801103684, 0.6680791626846528, 0.6377119280171686, -1.1539549173644001, 0.3871822420104237, 0.0, -0.0, 0.0, 0.0, 0.0, 0.697832332773693, 0.26584088867566025, 1.4621248877162447, 0.2658408886757358, -0.3821462774712758, 0.023686310236909806, 0.039477183728183006, 0.0, -0.031581746982546406, 0.019738591864091503};
const std::vector<double> kLn2CenterOnly = {-0.1733051120073579, -1.3361583253693057, 0.3377119280171686, 0.4230225413177999, 2.048728968041695, 0.1, 0.0, -0.3, 1.0, 0.5, 0.5652215551824621, -0.5316817773513205, 1.1621248877162447, 1.132920444337868, -1.028585109885103, 0.1157908734912732, -0.07895436745636601, -0.3, 0.9842091265087268, 0.578954367456366};
const std::vector<double> kRms2 = {0.39460017670755465, 0.3288334805896289, 1.0522671378868125, 0.0, 0.46036687282548044, 1.4999998125000353, -0.49999993750001176, 0.9999998750000235, 1.999999750000047, 0.24999996875000588, 1.50052462852156, -0.4997998387760724, 1.0010998271432687, 2.0001994548317055, 0.24971240068914574, 0.7644707871564382, 0.5096471914376255, 0.25482359571881275, 0.0, 0.3822353935782191};
const std::vector<double> kX4 = {1.0, 2.0, 4.0, -1.0, 0.5, 0.25, 3.0, 3.0, 3.0, 0.0, -2.0, 7.0, 10.0, 10.5, 9.0, 0.125, -0.75, 0.5, -4.0, 1.0, 2.5, 6.0, 5.5, -6.5};
const std::vector<double> kGamma3 = {0.5, 2.0, -1.0};
const std::vector<double> kBeta3 = {0.25, -0.5, 1.0};
const std::vector<double> kLn4 = {-0.28435075581947356, -1.0343507558194736, -0.33587688954868367, -0.44769094666233333, 1.2759405915041215, 0.4925884024273939, 0.25, -0.5, 1.0, 0.03404014586605017, -2.4004467163787586, -0.3821430664572789, 0.3834591407987958, 1.6353462527807379, 2.3345914079879635, 0.40882222146944414, -3.19997776498055, -0.03234443955138677, -0.4396795114273314, 0.3396098399984905, 0.040445897144582466, 0.6249597189541981, 0.8267805439917779, 2.413309709904285};
const std::vector<double> kRms4 = {0.18898222300588385, 1.5118577840470708, -1.5118577840470708, -0.75592808210114, 1.51185616420228, -0.37796404105057, 0.4999999722222246, 1.9999998888888983, -0.9999999444444492, 0.0, -0.9516618759279466, -1.6654082828739065, 0.5074551477335342, 2.1313116204808433, -0.9134192659203615, 0.11895752238768752, -2.8549805373045003, -0.9516601791015001, -0.7184211617573487, 0.7184211617573487, -0.8980264521966859, 0.4988465890298275, 1.829104159776034, 1.0808342762312928};
// -------------------------------------------------------------------------------------

// The layer on x (row-major, batch first; `sample` without the batch), its
// parameters set to `params` in declaration order.
template <class T>
std::vector<T> forward(layers::Layer& layer, const Shape& sample, const std::vector<double>& x,
                       const std::vector<std::vector<double>>& params) {
  std::vector<std::int64_t> dims{graph::kBatch};
  for (auto d : sample.to_vector()) dims.push_back(d);
  const std::vector<Shape> in{Shape(dims)};
  if (!layer.built()) layer.build(in);
  graph::Graph<T> g;
  const auto xid = g.input("x", in[0]);
  std::vector<graph::NodeId> pids;
  for (const auto& p : layer.params()) pids.push_back(g.parameter(p.name, p.shape, p.trainable));
  layers::CallContext<T> ctx{g, pids, 0};
  const std::vector<graph::NodeId> xs{xid};
  const auto out = layer.call(ctx, xs);
  g.plan(static_cast<std::int64_t>(x.size()) / sample.numel());
  for (std::size_t i = 0; i < x.size(); ++i) g.value(xid).data[i] = static_cast<T>(x[i]);
  EXPECT_EQ(params.size(), pids.size()) << layer.what();
  for (std::size_t k = 0; k < pids.size() && k < params.size(); ++k) {
    auto v = g.value(pids[k]);
    EXPECT_EQ(v.size(), static_cast<std::int64_t>(params[k].size()));
    for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<T>(params[k][static_cast<std::size_t>(i)]);
  }
  g.forward(true);
  return {g.value(out).data, g.value(out).data + g.value(out).size()};
}

struct Case {
  const char* what;
  std::shared_ptr<layers::Layer> layer;
  Shape sample;
  const std::vector<double>* x;
  std::vector<std::vector<double>> params;
  const std::vector<double>* want;
};

std::vector<Case> cases() {
  using layers::LayerNormalizationLayer, layers::RMSNormalizationLayer;
  using LnO = layers::LayerNormalizationOptions;
  return {
      {"LayerNormalization()", std::make_shared<LayerNormalizationLayer>(LnO{}), {5}, &kX2, {kGamma5, kBeta5}, &kLn2},
      {"LayerNormalization(center=False, scale=False, epsilon=1e-5)",
       std::make_shared<LayerNormalizationLayer>(LnO{.epsilon = 1e-5, .center = false, .scale = false}), {5}, &kX2, {},
       &kLn2Plain},
      {"LayerNormalization(center=False)", std::make_shared<LayerNormalizationLayer>(LnO{.center = false}), {5}, &kX2,
       {kGamma5}, &kLn2ScaleOnly},
      {"LayerNormalization(scale=False)", std::make_shared<LayerNormalizationLayer>(LnO{.scale = false}), {5}, &kX2,
       {kBeta5}, &kLn2CenterOnly},
      {"RMSNormalization()", std::make_shared<RMSNormalizationLayer>(layers::RMSNormalizationOptions{}), {5}, &kX2,
       {kGamma5}, &kRms2},
      {"LayerNormalization() on NHWC", std::make_shared<LayerNormalizationLayer>(LnO{}), {2, 2, 3}, &kX4,
       {kGamma3, kBeta3}, &kLn4},
      {"LayerNormalization(axis=3) on NHWC", std::make_shared<LayerNormalizationLayer>(LnO{.axis = 3}), {2, 2, 3},
       &kX4, {kGamma3, kBeta3}, &kLn4},
      {"RMSNormalization() on NHWC", std::make_shared<RMSNormalizationLayer>(layers::RMSNormalizationOptions{}),
       {2, 2, 3}, &kX4, {kGamma3}, &kRms4},
  };
}

TEST(Normalization, DoubleForwardMatchesTheReferenceScript) {
  for (const auto& c : cases()) {
    const auto y = forward<double>(*c.layer, c.sample, *c.x, c.params);
    ASSERT_EQ(y.size(), c.want->size()) << c.what;
    for (std::size_t i = 0; i < y.size(); ++i) {
      // Rounding only: the row near 1000 loses the most, in x - mean.
      EXPECT_NEAR(y[i], (*c.want)[i], 1e-12) << c.what << " element " << i;
    }
  }
}

TEST(Normalization, FloatForwardMatchesTheReferenceScript) {
  for (const auto& c : cases()) {
    const auto y = forward<float>(*c.layer, c.sample, *c.x, c.params);
    ASSERT_EQ(y.size(), c.want->size()) << c.what;
    for (std::size_t i = 0; i < y.size(); ++i) {
      // Float: the row near 1000 has std 0.8, so x - mean carries 1000·2^-24/0.8 ≈ 1e-4.
      EXPECT_NEAR(y[i], (*c.want)[i], 2e-4) << c.what << " element " << i;
    }
  }
}

TEST(Normalization, KerasWeightsNamesShapesAndCounts) {
  const std::vector<Shape> in{{graph::kBatch, 7, 7, 16}};
  layers::LayerNormalizationLayer ln({});
  EXPECT_EQ(ln.build(in), in[0]);
  ASSERT_EQ(ln.params().size(), 2u);
  EXPECT_EQ(ln.params()[0].name, "gamma");
  EXPECT_EQ(ln.params()[0].init.name, "ones");
  EXPECT_EQ(ln.params()[1].name, "beta");
  EXPECT_EQ(ln.params()[1].init.name, "zeros");
  EXPECT_EQ(ln.params()[0].shape, (Shape{16}));
  EXPECT_TRUE(ln.params()[0].trainable && ln.params()[1].trainable);
  EXPECT_EQ(ln.param_count(), 32);

  layers::LayerNormalizationLayer no_center({.center = false});
  no_center.build(in);
  ASSERT_EQ(no_center.params().size(), 1u);
  EXPECT_EQ(no_center.params()[0].name, "gamma");
  layers::LayerNormalizationLayer no_scale({.scale = false, .beta_initializer = "ones"});
  no_scale.build(in);
  ASSERT_EQ(no_scale.params().size(), 1u);
  EXPECT_EQ(no_scale.params()[0].name, "beta");
  EXPECT_EQ(no_scale.params()[0].init.name, "ones");
  layers::LayerNormalizationLayer neither({.center = false, .scale = false});
  neither.build(in);
  EXPECT_EQ(neither.param_count(), 0);

  layers::RMSNormalizationLayer rms({});
  rms.build(in);
  ASSERT_EQ(rms.params().size(), 1u);
  EXPECT_EQ(rms.params()[0].name, "scale");
  EXPECT_EQ(rms.params()[0].init.name, "ones");
  EXPECT_EQ(rms.param_count(), 16);
}

TEST(Normalization, KerasDefaults) {
  const auto ln = layers::make_layer("LayerNormalization", {})->config();
  EXPECT_EQ(ln.get_int("axis", ""), -1);
  EXPECT_EQ(ln.get_double("epsilon", ""), 1e-3);
  EXPECT_TRUE(ln.get_bool("center", ""));
  EXPECT_TRUE(ln.get_bool("scale", ""));
  EXPECT_EQ(ln.get_string("beta_initializer", ""), "zeros");
  EXPECT_EQ(ln.get_string("gamma_initializer", ""), "ones");
  const auto rms = layers::make_layer("RMSNormalization", {})->config();
  EXPECT_EQ(rms.get_int("axis", ""), -1);
  EXPECT_EQ(rms.get_double("epsilon", ""), 1e-6);
  EXPECT_EQ(layers::default_layer_name("LayerNormalization"), "layer_normalization");
  EXPECT_EQ(layers::default_layer_name("RMSNormalization"), "rms_normalization");  // Keras' to_snake_case
  EXPECT_EQ(layers::default_layer_name("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(layers::default_layer_name("Conv2D"), "conv2d");
}

template <class F>
std::string argument_error(F&& f) {
  try {
    f();
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "(no ArgumentError)";
}

TEST(Normalization, OnlyTheLastAxisAndErrorsNameTheLayer) {
  // axis 1 of a rank-4 input: not the last; refused when built, naming the shape.
  layers::LayerNormalizationLayer ln({.axis = 1, .name = "ln"});
  const std::vector<Shape> in{{graph::kBatch, 4, 4, 3}};
  auto msg = argument_error([&] { ln.build(in); });
  for (const char* part : {"LayerNormalization 'ln'", "only axis=-1", "axis=1", "[batch, 4, 4, 3]"}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  }
  msg = argument_error([] { layers::LayerNormalizationLayer({.axis = 0, .name = "ln0"}); });
  EXPECT_NE(msg.find("LayerNormalization 'ln0': only axis=-1"), std::string::npos) << msg;
  msg = argument_error([] { layers::RMSNormalizationLayer({.axis = -2, .name = "r"}); });
  EXPECT_NE(msg.find("RMSNormalization 'r': only axis=-1 (the last axis) is supported, got axis=-2"),
            std::string::npos) << msg;
  msg = argument_error([] {
    layers::make_layer("LayerNormalization", Config().set("axis", std::vector<std::int64_t>{1, 2}));
  });
  EXPECT_NE(msg.find("axis"), std::string::npos) << msg;
  msg = argument_error([] { layers::LayerNormalizationLayer({.epsilon = 0}); });
  EXPECT_NE(msg.find("epsilon must be positive"), std::string::npos) << msg;
  msg = argument_error([] { layers::RMSNormalizationLayer({.epsilon = -1}); });
  EXPECT_NE(msg.find("epsilon must be positive"), std::string::npos) << msg;
  msg = argument_error([] { layers::LayerNormalizationLayer({.gamma_initializer = "onez"}); });
  EXPECT_NE(msg.find("onez"), std::string::npos) << msg;
  msg = argument_error([] { layers::make_layer("LayerNormalization", Config().set("rms_scaling", true)); });
  EXPECT_NE(msg.find("unknown argument 'rms_scaling'"), std::string::npos) << msg;
  // Rank 1 ([batch] only) has no feature axis.
  layers::RMSNormalizationLayer rms({});
  const std::vector<Shape> flat{{graph::kBatch}};
  EXPECT_THROW(rms.build(flat), ShapeError);
}

}  // namespace
}  // namespace dtrain
