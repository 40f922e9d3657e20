// Layers: shapes, parameters, errors naming the layer and argument, factory round trips.
#include "dtrain/core/error.hpp"
#include "dtrain/layers/conv.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/factory.hpp"
#include "dtrain/layers/merge.hpp"
#include "dtrain/layers/normalization.hpp"

#include <gtest/gtest.h>

namespace dtrain {
namespace {

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(Layers, DenseDeclaresKerasShapes) {
  layers::DenseLayer d({.units = 10, .name = "out"});
  const std::vector<Shape> in{{graph::kBatch, 784}};
  EXPECT_EQ(d.build(in), (Shape{graph::kBatch, 10}));
  ASSERT_EQ(d.params().size(), 2u);
  EXPECT_EQ(d.params()[0].name, "kernel");
  EXPECT_EQ(d.params()[0].shape, (Shape{784, 10}));
  EXPECT_EQ(d.params()[1].shape, (Shape{10}));
  EXPECT_EQ(d.param_count(), 7850);
}

TEST(Layers, DenseAppliesToTheLastAxisOfAnyRank) {
  // Keras: [batch, time, features] -> [batch, time, units]; after Conv2D [b, h, w, units].
  layers::DenseLayer seq({.units = 6});
  const std::vector<Shape> in3{{graph::kBatch, 7, 5}};
  EXPECT_EQ(seq.build(in3), (Shape{graph::kBatch, 7, 6}));
  EXPECT_EQ(seq.params()[0].shape, (Shape{5, 6}));
  EXPECT_EQ(seq.params()[1].shape, (Shape{6}));
  layers::DenseLayer img({.units = 4, .use_bias = false});
  const std::vector<Shape> in4{{graph::kBatch, 26, 26, 8}};
  EXPECT_EQ(img.build(in4), (Shape{graph::kBatch, 26, 26, 4}));
  EXPECT_EQ(img.param_count(), 32);
  layers::DenseLayer bad({.units = 3, .name = "d"});
  const std::vector<Shape> in1{{graph::kBatch}};
  EXPECT_EQ(message_of<ShapeError>([&] { bad.build(in1); }),
            "Dense 'd': expects [batch, ..., features] (rank >= 2) (input shapes [batch])");
}

TEST(Layers, Conv2DOutputShapesFollowKeras) {
  auto out = [](layers::Conv2DOptions o, Shape in) {
    layers::Conv2DLayer c(std::move(o));
    const std::vector<Shape> s{in};
    return c.build(s);
  };
  EXPECT_EQ(out({.filters = 32}, {graph::kBatch, 28, 28, 1}), (Shape{graph::kBatch, 26, 26, 32}));
  EXPECT_EQ(out({.filters = 8, .strides = {2, 2}, .padding = "same"}, {graph::kBatch, 7, 7, 3}),
            (Shape{graph::kBatch, 4, 4, 8}));
  layers::Pooling2DLayer pool({}, true);
  const std::vector<Shape> s{{graph::kBatch, 26, 26, 32}};
  EXPECT_EQ(pool.build(s), (Shape{graph::kBatch, 13, 13, 32}));
}

TEST(Layers, BadArgumentsNameTheLayerAndArgument) {
  EXPECT_NE(message_of<ArgumentError>([] { layers::DenseLayer({.units = 4, .activation = "relux", .name = "d1"}); })
                .find("Dense 'd1': unknown activation 'relux'"),
            std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::DenseLayer({.units = -1}); }).find("units"), std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::Conv2DLayer({.filters = 4, .padding = "full"}); }).find("full"),
            std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::DropoutLayer({.rate = 1.5}); }).find("rate"), std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::make_layer("Dence", {}); }).find("unknown layer type 'Dence'"),
            std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::make_layer("Dense", Config().set("units", 3).set("unit", 4)); })
                .find("unknown argument 'unit'"),
            std::string::npos);
  EXPECT_NE(message_of<ArgumentError>([] { layers::make_layer("Dense", Config().set("units", "ten")); })
                .find("'units' must be an integer"),
            std::string::npos);
}

TEST(Layers, IncompatibleShapesNameTheLayerAndShapes) {
  auto x = layers::Input({28, 28, 1});
  // Dense on an image applies per pixel (Keras): [b, 28, 28, 4] does not add to [b, 4].
  auto per_pixel = layers::Dense({.units = 4, .name = "dense_x"})(x);
  auto a = layers::Dense({.units = 4})(layers::Flatten()(x));
  auto b = layers::Dense({.units = 5})(layers::Flatten()(x));
  const auto msg = message_of<ShapeError>([&] { layers::Add("add_x")({per_pixel, a}); });
  EXPECT_NE(msg.find("add_x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 28, 28, 4]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 4]"), std::string::npos) << msg;
  EXPECT_THROW(layers::Add()({a, b}), ShapeError);
  EXPECT_THROW(layers::Conv2D({.filters = 2, .kernel_size = {30, 30}})(x), ShapeError);
}

TEST(Layers, FactoryRoundTripsEveryLayer) {
  std::vector<std::shared_ptr<layers::Layer>> all = {
      std::make_shared<layers::DenseLayer>(layers::DenseOptions{.units = 3, .activation = "tanh", .kernel_l2 = 0.01}),
      std::make_shared<layers::Conv2DLayer>(layers::Conv2DOptions{.filters = 2, .strides = {2, 1}, .padding = "same"}),
      std::make_shared<layers::Pooling2DLayer>(layers::Pooling2DOptions{.pool_size = {3, 3}}, false),
      std::make_shared<layers::BatchNormalizationLayer>(layers::BatchNormalizationOptions{.momentum = 0.9}),
      std::make_shared<layers::LayerNormalizationLayer>(
          layers::LayerNormalizationOptions{.epsilon = 1e-5, .center = false, .gamma_initializer = "zeros"}),
      std::make_shared<layers::RMSNormalizationLayer>(layers::RMSNormalizationOptions{.epsilon = 1e-5}),
      std::make_shared<layers::DropoutLayer>(layers::DropoutOptions{.rate = 0.25, .seed = 5}),
      std::make_shared<layers::ReshapeLayer>(std::vector<std::int64_t>{2, -1}),
      std::make_shared<layers::ConcatenateLayer>(1),
      std::make_shared<layers::ActivationLayer>("gelu_approximate"),
      std::make_shared<layers::Conv2DLayer>(layers::Conv2DOptions{.filters = 2, .activation = "swish"}),
  };
  for (const auto& l : all) {
    l->set_name("x");
    const auto copy = layers::make_layer(l->type(), l->config());
    EXPECT_EQ(copy->type(), l->type());
    EXPECT_EQ(copy->config().values(), l->config().values()) << l->type();
  }
}

}  // namespace
}  // namespace dtrain
