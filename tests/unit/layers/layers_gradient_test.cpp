// Gradient checks (double precision) through every layer: the input and every
// parameter are perturbed in turn.
#include "dtrain/layers/conv.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/merge.hpp"
#include "dtrain/layers/normalization.hpp"
#include "support/grad_check.hpp"

#include <gtest/gtest.h>

namespace dtrain {
namespace {

using graph::NodeId;
using testing::check_gradients;
using testing::GradCheckOptions;

// Checks d(out)/d(inputs) and d(out)/d(params) of `layer` on inputs of the
// given (concrete) shapes.
testing::GradCheckResult check_layer(layers::Layer& layer, const std::vector<Shape>& inputs,
                                     GradCheckOptions opt = {},
                                     const std::function<void(graph::Graph<double>&, const std::vector<NodeId>&)>& init = {}) {
  layer.build(inputs);
  std::vector<Shape> shapes = inputs;
  for (const auto& p : layer.params()) shapes.push_back(p.shape);
  const auto n_in = inputs.size();
  return check_gradients(
      shapes,
      [&](graph::Graph<double>& g, const std::vector<NodeId>& ids) {
        std::vector<NodeId> params(ids.begin() + static_cast<std::ptrdiff_t>(n_in), ids.end());
        std::vector<NodeId> xs(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n_in));
        layers::CallContext<double> ctx{g, params, 1234};
        return layer.call(ctx, xs);
      },
      opt, init);
}


GradCheckOptions away_from_kinks() {
  GradCheckOptions o;
  o.min_abs = 0.05;
  return o;
}

TEST(LayerGradient, DenseWithEveryActivation) {
  for (const char* act : {"linear", "relu", "leaky_relu", "elu", "gelu", "gelu_approximate", "silu", "swish", "sigmoid",
                          "tanh", "softplus", "softmax", "log_softmax"}) {
    layers::DenseLayer d({.units = 4, .activation = act});
    // relu-like kinks: x·W + b must stay away from 0; random inputs rarely hit it,
    // and the checker reports where if they do.
    EXPECT_TRUE(testing::gradients_ok(check_layer(d, {{3, 5}}, away_from_kinks()))) << act;
  }
  layers::DenseLayer no_bias({.units = 2, .use_bias = false});
  EXPECT_TRUE(testing::gradients_ok(check_layer(no_bias, {{3, 4}})));
}

TEST(LayerGradient, DenseOnSequencesAndImages) {
  // [batch, time, features]: the kernel over the last axis, its gradient summed over
  // every (batch, time) row; input, kernel and bias are all checked.
  for (const char* act : {"linear", "relu", "tanh", "softmax"}) {
    layers::DenseLayer d({.units = 4, .activation = act});
    EXPECT_TRUE(testing::gradients_ok(check_layer(d, {{3, 5, 6}}, away_from_kinks()))) << act;
  }
  layers::DenseLayer no_bias({.units = 3, .use_bias = false});
  EXPECT_TRUE(testing::gradients_ok(check_layer(no_bias, {{2, 4, 5}})));
  layers::DenseLayer image({.units = 3, .activation = "sigmoid"});
  EXPECT_TRUE(testing::gradients_ok(check_layer(image, {{2, 3, 2, 4}})));
}

TEST(LayerGradient, Conv2DStridesAndPadding) {
  for (const char* pad : {"valid", "same"}) {
    for (std::int64_t s : {1, 2}) {
      layers::Conv2DLayer c({.filters = 3, .kernel_size = {3, 2}, .strides = {s, s}, .padding = pad, .activation = "tanh"});
      EXPECT_TRUE(testing::gradients_ok(check_layer(c, {{2, 6, 5, 2}}))) << pad << " stride " << s;
    }
  }
}

TEST(LayerGradient, Pooling) {
  GradCheckOptions o;
  o.seed = 7;  // distinct values: no ties inside a max window
  for (const char* pad : {"valid", "same"}) {
    layers::Pooling2DLayer mx({.pool_size = {2, 2}, .strides = {1, 2}, .padding = pad}, true);
    EXPECT_TRUE(testing::gradients_ok(check_layer(mx, {{2, 5, 5, 2}}, o))) << "max " << pad;
    layers::Pooling2DLayer avg({.pool_size = {3, 2}, .padding = pad}, false);
    EXPECT_TRUE(testing::gradients_ok(check_layer(avg, {{2, 5, 5, 2}}, o))) << "avg " << pad;
  }
  layers::GlobalAveragePooling2DLayer gap;
  EXPECT_TRUE(testing::gradients_ok(check_layer(gap, {{2, 3, 4, 5}})));
}

TEST(LayerGradient, BatchNormalizationTrainingAndInference) {
  layers::BatchNormalizationLayer bn({});
  EXPECT_TRUE(testing::gradients_ok(check_layer(bn, {{6, 4}})));
  layers::BatchNormalizationLayer bn4({});
  EXPECT_TRUE(testing::gradients_ok(check_layer(bn4, {{3, 2, 2, 3}})));
  // Inference: moving_variance (parameter 3, input index 4) must be positive.
  GradCheckOptions inference;
  inference.training = false;
  layers::BatchNormalizationLayer bn_inf({});
  EXPECT_TRUE(testing::gradients_ok(check_layer(bn_inf, {{5, 3}}, inference, [](auto& g, const std::vector<NodeId>& ids) {
    auto v = g.value(ids[4]);
    for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = 0.5 + std::abs(v.data[i]);
  })));
}

TEST(LayerGradient, LayerNormalizationCenterAndScaleOnAndOff) {
  // The input and each of gamma, beta that exists; ranks 2, 3 and 4 (NHWC).
  for (bool center : {true, false}) {
    for (bool scale : {true, false}) {
      for (const Shape& s : {Shape{4, 6}, Shape{2, 3, 5}, Shape{2, 3, 2, 4}}) {
        layers::LayerNormalizationLayer ln({.center = center, .scale = scale});
        const auto r = check_layer(ln, {s});
        EXPECT_TRUE(testing::gradients_ok(r)) << s.str() << " center " << center << " scale " << scale;
        EXPECT_EQ(r.checked, static_cast<std::size_t>(s.numel() + (center + scale) * s[s.rank() - 1]));
      }
    }
  }
}

TEST(LayerGradient, RMSNormalization) {
  for (const Shape& s : {Shape{4, 6}, Shape{2, 3, 5}, Shape{2, 3, 2, 4}}) {
    layers::RMSNormalizationLayer rms({});
    const auto r = check_layer(rms, {s});
    EXPECT_TRUE(testing::gradients_ok(r)) << s.str();
    EXPECT_EQ(r.checked, static_cast<std::size_t>(s.numel() + s[s.rank() - 1]));
  }
}

TEST(LayerGradient, ShapeLayersDropoutActivationMerge) {
  layers::FlattenLayer flat;
  EXPECT_TRUE(testing::gradients_ok(check_layer(flat, {{2, 3, 4}})));
  layers::ReshapeLayer reshape({4, -1});
  EXPECT_TRUE(testing::gradients_ok(check_layer(reshape, {{2, 12}})));
  layers::DropoutLayer drop({.rate = 0.3});
  EXPECT_TRUE(testing::gradients_ok(check_layer(drop, {{4, 10}})));
  GradCheckOptions inference;
  inference.training = false;
  layers::DropoutLayer drop_inf({.rate = 0.3});
  EXPECT_TRUE(testing::gradients_ok(check_layer(drop_inf, {{4, 10}}, inference)));
  layers::ActivationLayer act("gelu");
  EXPECT_TRUE(testing::gradients_ok(check_layer(act, {{3, 4}})));
  layers::AddLayer add;
  EXPECT_TRUE(testing::gradients_ok(check_layer(add, {{3, 4}, {3, 4}, {3, 4}})));
  layers::ConcatenateLayer cat;
  EXPECT_TRUE(testing::gradients_ok(check_layer(cat, {{3, 4}, {3, 2}})));
}

}  // namespace
}  // namespace dtrain
