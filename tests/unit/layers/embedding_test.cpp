// Embedding and GlobalAveragePooling1D (src/layers/embedding.cpp, the embedding op
// in src/graph/ops/embedding.cpp): finite-difference gradients in double precision
// (repeated token ids in a batch), forward values against
// tests/reference/embedding_reference.py, Keras' weight name and defaults, the
// error for a bad token id, and construction from the layer table.
#include "dtrain/layers/embedding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/layers/factory.hpp"
#include "support/grad_check.hpp"

namespace dtrain {
namespace {

using graph::NodeId;

// ---- reference values (printed by tests/reference/embedding_reference.py) ---------
const std::vector<double> kTable = {0.5,  -1.25, 2.0,  0.125, -0.3, 0.7,   1.1, -2.2, 3.0,  0.0,
                                    -0.6, 0.45,  0.01, -0.02, 0.03, -0.04, 1.5, 2.5,  -3.5, 4.5};
const std::vector<double> kIds = {0, 2, 2, 4, 1, 4};
const std::vector<double> kEmbeddingOut = {0.5,  -1.25, 2.0,  0.125, 3.0, 0.0, -0.6, 0.45,
                                           3.0,  0.0,   -0.6, 0.45,  1.5, 2.5, -3.5, 4.5,
                                           -0.3, 0.7,   1.1,  -2.2,  1.5, 2.5, -3.5, 4.5};
const std::vector<double> kPooledOut = {
    2.1666666666666665, -0.4166666666666667, 0.26666666666666666, 0.3416666666666666, 0.9,
    1.9000000000000001, -1.9666666666666668, 2.2666666666666666};

// Runs Embedding(5, 4) [-> GlobalAveragePooling1D] on kIds [2, 3] with kTable.
std::vector<double> run_forward(bool pool, const std::vector<double>& ids = kIds) {
  layers::EmbeddingLayer emb({.input_dim = 5, .output_dim = 4, .name = "emb"});
  layers::GlobalAveragePooling1DLayer gap;
  const std::vector<Shape> in{{graph::kBatch, 3}};
  const auto s = emb.build(in);
  const std::vector<Shape> in2{s};
  gap.build(in2);
  graph::Graph<double> g;
  const auto x = g.input("ids", {graph::kBatch, 3});
  const NodeId table = g.parameter("emb/embeddings", {5, 4});
  const std::vector<NodeId> params{table};
  layers::CallContext<double> ctx{g, params, 0};
  const std::vector<NodeId> xs{x};
  auto y = emb.call(ctx, xs);
  if (pool) {
    layers::CallContext<double> none{g, {}, 0};
    const std::vector<NodeId> ys{y};
    y = gap.call(none, ys);
  }
  g.plan(2);
  std::copy(ids.begin(), ids.end(), g.value(x).data);
  std::copy(kTable.begin(), kTable.end(), g.value(table).data);
  g.forward(false);
  const auto out = g.value(y);
  return {out.data, out.data + out.size()};
}

TEST(Embedding, ForwardMatchesReference) {
  const auto out = run_forward(false);
  ASSERT_EQ(out.size(), kEmbeddingOut.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], kEmbeddingOut[i]) << i;  // a copy: exact
  const auto pooled = run_forward(true);
  ASSERT_EQ(pooled.size(), kPooledOut.size());
  for (std::size_t i = 0; i < pooled.size(); ++i) EXPECT_NEAR(pooled[i], kPooledOut[i], 1e-15) << i;
}

TEST(Embedding, KerasNameShapeAndDefaults) {
  layers::EmbeddingLayer emb({.input_dim = 7, .output_dim = 3});
  const std::vector<Shape> in{{graph::kBatch, 5}};
  EXPECT_EQ(emb.build(in), (Shape{graph::kBatch, 5, 3}));
  ASSERT_EQ(emb.params().size(), 1u);
  EXPECT_EQ(emb.params()[0].name, "embeddings");
  EXPECT_EQ(emb.params()[0].shape, (Shape{7, 3}));
  // Keras' 'uniform' is RandomUniform(minval=-0.05, maxval=0.05).
  EXPECT_EQ(emb.params()[0].init.name, "random_uniform");
  EXPECT_EQ(emb.params()[0].init.minval, -0.05);
  EXPECT_EQ(emb.params()[0].init.maxval, 0.05);
  EXPECT_EQ(emb.config().get_string("embeddings_initializer", "t"), "uniform");
  EXPECT_EQ(layers::default_layer_name("Embedding"), "embedding");
  EXPECT_EQ(layers::default_layer_name("GlobalAveragePooling1D"), "global_average_pooling1d");
}

TEST(Embedding, BadArgumentsAndShapesNameTheLayer) {
  EXPECT_THROW(layers::EmbeddingLayer({.input_dim = 0, .output_dim = 3}), ArgumentError);
  EXPECT_THROW(layers::EmbeddingLayer({.input_dim = 3, .output_dim = 0}), ArgumentError);
  EXPECT_THROW(layers::EmbeddingLayer({.input_dim = (1 << 24) + 1, .output_dim = 2}), ArgumentError);
  layers::GlobalAveragePooling1DLayer gap("gap");
  const std::vector<Shape> rank2{{graph::kBatch, 5}};
  try {
    gap.build(rank2);
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("GlobalAveragePooling1D 'gap'"), std::string::npos) << e.what();
  }
}

TEST(Embedding, BadTokenIdNamesLayerRowAndValue) {
  for (double bad : {5.0, -1.0, 1.5}) {
    auto ids = kIds;
    ids[4] = bad;  // batch row 1, position 1
    try {
      run_forward(false, ids);
      FAIL() << "no error for " << bad;
    } catch (const ArgumentError& e) {
      const std::string w = e.what();
      EXPECT_NE(w.find("Embedding 'emb'"), std::string::npos) << w;
      EXPECT_NE(w.find("batch row 1"), std::string::npos) << w;
      EXPECT_NE(
          w.find("token id " + (bad == 1.5 ? std::string("1.5") : std::to_string(static_cast<int>(bad)))),
          std::string::npos)
          << w;
      EXPECT_NE(w.find("[0, 5)"), std::string::npos) << w;
    }
  }
}

TEST(Embedding, FromTheLayerTable) {
  Config c;
  c.set("input_dim", std::int64_t{11}).set("output_dim", std::int64_t{4}).set("name", "tok");
  auto l = layers::make_layer("Embedding", c);
  EXPECT_EQ(l->type(), "Embedding");
  EXPECT_EQ(l->config().get_int("input_dim", "t"), 11);
  EXPECT_THROW(layers::make_layer("Embedding", Config().set("input_dim", std::int64_t{3})), Error);
  auto p = layers::make_layer("GlobalAveragePooling1D", Config());
  EXPECT_EQ(p->type(), "GlobalAveragePooling1D");
  EXPECT_THROW(layers::make_layer("GlobalAveragePooling1D", Config().set("data_format", "channels_first")),
               ArgumentError);
}

// d(out)/d(embeddings) with every token id repeated inside the batch (rows 0 and 2
// used three times, row 4 never): the finite difference sees each table entry once,
// the analytic gradient sums the rows of every token that looked it up.
TEST(EmbeddingGradient, RepeatedIdsAgainstFiniteDifferences) {
  const std::vector<double> ids = {0, 2, 0, 3, 2, 2, 1, 0, 3, 1, 2, 0};  // [3, 4]
  for (bool pool : {false, true}) {
    layers::EmbeddingLayer emb({.input_dim = 5, .output_dim = 3});
    layers::GlobalAveragePooling1DLayer gap;
    const std::vector<Shape> in{{3, 4}};
    const auto s = emb.build(in);
    const std::vector<Shape> in2{s};
    gap.build(in2);
    testing::GradCheckOptions o;
    o.constant_inputs = {0};
    const auto r = testing::check_gradients(
        {{3, 4}, {5, 3}},
        [&](graph::Graph<double>& g, const std::vector<NodeId>& xs) {
          const std::vector<NodeId> params{xs[1]};
          layers::CallContext<double> ctx{g, params, 0};
          const std::vector<NodeId> x{xs[0]};
          auto y = emb.call(ctx, x);
          if (!pool) return y;
          layers::CallContext<double> none{g, {}, 0};
          const std::vector<NodeId> ys{y};
          return gap.call(none, ys);
        },
        o,
        [&](graph::Graph<double>& g, const std::vector<NodeId>& xs) {
          std::copy(ids.begin(), ids.end(), g.value(xs[0]).data);
        });
    EXPECT_TRUE(testing::gradients_ok(r)) << "pool " << pool;
    EXPECT_EQ(r.checked, 15u);  // the table only
  }
}

TEST(GlobalAveragePooling1DGradient, AgainstFiniteDifferences) {
  layers::GlobalAveragePooling1DLayer gap;
  const std::vector<Shape> in{{3, 5, 4}};
  EXPECT_EQ(gap.build(in), (Shape{3, 4}));
  const auto r =
      testing::check_gradients({{3, 5, 4}}, [&](graph::Graph<double>& g, const std::vector<NodeId>& xs) {
        layers::CallContext<double> none{g, {}, 0};
        return gap.call(none, xs);
      });
  EXPECT_TRUE(testing::gradients_ok(r));
  EXPECT_EQ(r.checked, 60u);
}

}  // namespace
}  // namespace dtrain
