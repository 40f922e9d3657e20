// SimpleRNN, LSTM, GRU (src/layers/recurrent.cpp): forward values against the
// reference script on fixed weights (return_sequences on and off), Keras'
// weights (names, shapes, initializers: orthogonal recurrent kernel, the LSTM
// forget bias), argument errors, factory round trip, and finite-difference
// gradients through each layer over 5 time steps w.r.t. the input and every
// weight. Op-level checks and 1 vs 4 threads: tests/unit/graph/recurrent_test.cpp;
// training and save/load: tests/unit/model/recurrent_model_test.cpp.
//
// The reference values come from tests/reference/recurrent_reference.py (plain
// Python, Keras 3's formulas; the derivation is in the script). Regenerate with
//   python3 tests/reference/recurrent_reference.py
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/layers/factory.hpp"
#include "dtrain/layers/recurrent.hpp"
#include "support/grad_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using graph::NodeId;
using layers::RecurrentLayer;

// ---- reference values (printed by tests/reference/recurrent_reference.py) -----------
const std::vector<double> kX = {0.080078125, 0.3623046875, 0.595703125, 0.748046875, 0.7998046875, 0.7431640625, 0.5859375, 0.3486328125, 0.0654296875, -0.2275390625, -0.4892578125, -0.685546875, -0.7880859375, -0.7841796875, -0.6748046875, -0.4736328125, -0.2080078125, 0.0849609375, 0.3671875, 0.599609375, 0.75, 0.7998046875, 0.7412109375, 0.58203125, 0.34375, 0.0595703125, -0.232421875, -0.494140625, -0.6875, -0.7890625};
const std::vector<double> kRnnKernel = {0.236328125, 0.677734375, 0.791015625, 0.5224609375, 0.0009765625, -0.5205078125};
const std::vector<double> kRnnRecurrent = {0.712890625, 0.787109375, 0.794921875, 0.7373046875};
const std::vector<double> kRnnBias = {0.515625, 0.75390625};
const std::vector<double> kRnnSequences = {0.6760050178721589, 0.5963090302646306, 0.9793633109186752, 0.9786127719881038, 0.9838691710792498, 0.9925057844513131, 0.9161507802138891, 0.9760811208372284, 0.8135517174388156, 0.9219857341108247, 0.23477567685518674, 0.2729145425162163, 0.8979918833199626, 0.8646970487302867, 0.9894355486895263, 0.9914377802961698, 0.972543158070111, 0.9900419273940634, 0.8703629904933672, 0.9615444240459832};
const std::vector<double> kLstmKernel = {0.236328125, 0.677734375, 0.791015625, 0.5224609375, 0.0009765625, -0.5205078125, -0.791015625, -0.6787109375, -0.2392578125, 0.31640625, 0.71875, 0.7734375, 0.455078125, -0.083984375, -0.58203125, -0.798828125, -0.6298828125, -0.15625, 0.3935546875, 0.751953125, 0.748046875, 0.3818359375, -0.16796875, -0.6376953125};
const std::vector<double> kLstmRecurrent = {0.712890625, 0.787109375, 0.794921875, 0.7373046875, 0.6171875, 0.4462890625, 0.2373046875, 0.0087890625, -0.2197265625, -0.4306640625, -0.60546875, -0.7294921875, -0.79296875, -0.7900390625, -0.720703125, -0.591796875};
const std::vector<double> kLstmBias = {0.515625, 0.75390625, 0.7861328125, 0.6015625, 0.2529296875, -0.1650390625, -0.5380859375, -0.763671875};
const std::vector<double> kLstmSequences = {0.09933830938779507, -0.0012432748304410561, 0.10061369986241495, -0.01971297261934407, 0.17569938229783394, -0.08612044104876707, 0.15557910006349102, -0.16674674630967626, -0.10673845273116188, 0.028716953250498344, 0.06299778407569383, 0.0320380304989132, 0.10099325754383855, -0.0025998964176729786, 0.11413583296898148, -0.02843531342107647, 0.21626768210041425, -0.13040461807471082, 0.04769676134763132, -0.0974685484361778};
const std::vector<double> kGruKernel = {0.236328125, 0.677734375, 0.791015625, 0.5224609375, 0.0009765625, -0.5205078125, -0.791015625, -0.6787109375, -0.2392578125, 0.31640625, 0.71875, 0.7734375, 0.455078125, -0.083984375, -0.58203125, -0.798828125, -0.6298828125, -0.15625};
const std::vector<double> kGruRecurrent = {0.712890625, 0.787109375, 0.794921875, 0.7373046875, 0.6171875, 0.4462890625, 0.2373046875, 0.0087890625, -0.2197265625, -0.4306640625, -0.60546875, -0.7294921875};
const std::vector<double> kGruBias = {0.515625, 0.75390625, 0.7861328125, 0.6015625, 0.2529296875, -0.1650390625, -0.5380859375, -0.763671875, -0.779296875, -0.5810546875, -0.2236328125, 0.1953125};
const std::vector<double> kGruSequences = {0.0234350194331518, 0.035723553086910886, 0.1384728046346878, 0.03856838924022446, 0.2448633955083355, -0.008656686812319916, 0.2620655444877741, -0.054941356250903864, 0.19121900348829624, -0.0612540339443982, -0.0202911129986158, -0.006823975345605092, 0.04890417231023347, 0.03963030550192063, 0.17815166866813653, 0.022848625434800266, 0.26095625981888887, -0.027728249825956917, 0.24432266811408646, -0.06433928692831595};
// -------------------------------------------------------------------------------------

constexpr std::int64_t kB = 2, kT = 5, kF = 3, kU = 2;

// The layer on kX [2, 5, 3], its parameters set to `params` in declaration order.
template <class T>
std::vector<T> forward(layers::Layer& layer, const std::vector<std::vector<double>>& params) {
  const std::vector<Shape> in{Shape{graph::kBatch, kT, kF}};
  if (!layer.built()) layer.build(in);
  graph::Graph<T> g;
  const auto xid = g.input("x", in[0]);
  std::vector<NodeId> pids;
  for (const auto& p : layer.params()) pids.push_back(g.parameter(p.name, p.shape, p.trainable));
  layers::CallContext<T> ctx{g, pids, 0};
  const std::vector<NodeId> xs{xid};
  const auto out = layer.call(ctx, xs);
  g.plan(kB);
  for (std::size_t i = 0; i < kX.size(); ++i) g.value(xid).data[i] = static_cast<T>(kX[i]);
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
  std::function<std::shared_ptr<RecurrentLayer>(bool sequences)> make;
  std::vector<std::vector<double>> params;
  const std::vector<double>* sequences;
};

std::vector<Case> cases() {
  return {
      {"SimpleRNN",
       [](bool s) { return std::make_shared<RecurrentLayer>(layers::SimpleRNNOptions{.units = kU, .return_sequences = s}); },
       {kRnnKernel, kRnnRecurrent, kRnnBias}, &kRnnSequences},
      {"LSTM", [](bool s) { return std::make_shared<RecurrentLayer>(layers::LSTMOptions{.units = kU, .return_sequences = s}); },
       {kLstmKernel, kLstmRecurrent, kLstmBias}, &kLstmSequences},
      {"GRU", [](bool s) { return std::make_shared<RecurrentLayer>(layers::GRUOptions{.units = kU, .return_sequences = s}); },
       {kGruKernel, kGruRecurrent, kGruBias}, &kGruSequences},
  };
}

// The last step of each sample in a [b, t, u] sequence.
std::vector<double> last_steps(const std::vector<double>& seq) {
  std::vector<double> out;
  for (std::int64_t b = 0; b < kB; ++b) {
    for (std::int64_t j = 0; j < kU; ++j) out.push_back(seq[static_cast<std::size_t>((b * kT + kT - 1) * kU + j)]);
  }
  return out;
}

TEST(Recurrent, ForwardMatchesTheReferenceScript) {
  for (const auto& c : cases()) {
    for (bool sequences : {true, false}) {
      const auto want = sequences ? *c.sequences : last_steps(*c.sequences);
      auto layer = c.make(sequences);
      const auto y = forward<double>(*layer, c.params);
      ASSERT_EQ(y.size(), want.size()) << c.what;
      for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-13) << c.what << " element " << i;
      auto layer_f = c.make(sequences);
      const auto yf = forward<float>(*layer_f, c.params);
      ASSERT_EQ(yf.size(), want.size()) << c.what;
      for (std::size_t i = 0; i < yf.size(); ++i) EXPECT_NEAR(yf[i], want[i], 1e-5) << c.what << " element " << i;
    }
  }
}

TEST(Recurrent, WeightsAreNamedAndShapedAsKeras) {
  const Shape in{graph::kBatch, 7, 3};
  const std::vector<Shape> ins{in};
  RecurrentLayer rnn(layers::SimpleRNNOptions{.units = 4});
  EXPECT_EQ(rnn.build(ins), (Shape{graph::kBatch, 4}));
  ASSERT_EQ(rnn.params().size(), 3u);
  EXPECT_EQ(rnn.params()[0].name, "kernel");
  EXPECT_EQ(rnn.params()[0].shape, (Shape{3, 4}));
  EXPECT_EQ(rnn.params()[0].init.name, "glorot_uniform");
  EXPECT_EQ(rnn.params()[1].name, "recurrent_kernel");
  EXPECT_EQ(rnn.params()[1].shape, (Shape{4, 4}));
  EXPECT_EQ(rnn.params()[1].init.name, "orthogonal");
  EXPECT_EQ(rnn.params()[2].name, "bias");
  EXPECT_EQ(rnn.params()[2].shape, (Shape{4}));
  EXPECT_EQ(rnn.params()[2].init.forget_units, 0);

  RecurrentLayer lstm(layers::LSTMOptions{.units = 4, .return_sequences = true});
  EXPECT_EQ(lstm.build(ins), (Shape{graph::kBatch, 7, 4}));
  EXPECT_EQ(lstm.params()[0].shape, (Shape{3, 16}));
  EXPECT_EQ(lstm.params()[1].shape, (Shape{4, 16}));
  EXPECT_EQ(lstm.params()[2].shape, (Shape{16}));
  EXPECT_EQ(lstm.params()[2].init.forget_units, 4);  // unit_forget_bias
  RecurrentLayer lstm_plain(layers::LSTMOptions{.units = 4, .use_bias = false, .unit_forget_bias = false});
  lstm_plain.build(ins);
  EXPECT_EQ(lstm_plain.params().size(), 2u);

  RecurrentLayer gru(layers::GRUOptions{.units = 4});
  EXPECT_EQ(gru.build(ins), (Shape{graph::kBatch, 4}));
  EXPECT_EQ(gru.params()[0].shape, (Shape{3, 12}));
  EXPECT_EQ(gru.params()[1].shape, (Shape{4, 12}));
  EXPECT_EQ(gru.params()[2].shape, (Shape{2, 12}));

  EXPECT_EQ(layers::default_layer_name("SimpleRNN"), "simple_rnn");
  EXPECT_EQ(layers::default_layer_name("LSTM"), "lstm");
  EXPECT_EQ(layers::default_layer_name("GRU"), "gru");
}

TEST(Recurrent, ArgumentAndShapeErrorsNameTheLayer) {
  const auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([] { RecurrentLayer l(layers::LSTMOptions{.units = 0, .name = "enc"}); }),
            "LSTM 'enc': units must be positive, got 0");
  EXPECT_NE(message([] { RecurrentLayer l(layers::GRUOptions{.units = 3, .reset_after = false}); }).find("reset_after"),
            std::string::npos);
  EXPECT_NE(message([] { RecurrentLayer l(layers::SimpleRNNOptions{.units = 3, .activation = "softmax"}); })
                .find("argument 'activation'"),
            std::string::npos);
  EXPECT_THROW(RecurrentLayer(layers::LSTMOptions{.units = 3, .recurrent_initializer = "orthogonall"}), ArgumentError);
  RecurrentLayer l(layers::SimpleRNNOptions{.units = 3});
  const std::vector<Shape> flat{Shape{graph::kBatch, 5}};
  const auto msg = message([&] { l.build(flat); });
  EXPECT_NE(msg.find("[batch, time, features]"), std::string::npos) << msg;
}

TEST(Recurrent, FactoryRoundTripsAndDefaults) {
  const std::vector<std::shared_ptr<RecurrentLayer>> all = {
      std::make_shared<RecurrentLayer>(layers::SimpleRNNOptions{.units = 3, .activation = "relu", .return_sequences = true}),
      std::make_shared<RecurrentLayer>(layers::LSTMOptions{.units = 5, .recurrent_activation = "tanh",
                                                          .unit_forget_bias = false}),
      std::make_shared<RecurrentLayer>(layers::GRUOptions{.units = 2, .use_bias = false, .return_sequences = true}),
  };
  for (const auto& l : all) {
    l->set_name("x");
    const auto copy = layers::make_layer(l->type(), l->config());
    EXPECT_EQ(copy->type(), l->type());
    EXPECT_EQ(copy->config().values(), l->config().values()) << l->type();
  }
  Config c;
  c.set("units", std::int64_t{8});
  const auto lstm = layers::make_layer("LSTM", c);
  const auto cfg = lstm->config();
  EXPECT_EQ(cfg.get_string("activation", ""), "tanh");
  EXPECT_EQ(cfg.get_string("recurrent_activation", ""), "sigmoid");
  EXPECT_TRUE(cfg.get_bool("unit_forget_bias", ""));
  EXPECT_FALSE(cfg.get_bool("return_sequences", ""));
  c.set("go_backwards", true);
  EXPECT_THROW(layers::make_layer("GRU", c), ArgumentError);
}

// Finite differences through each layer over 5 steps, return_sequences both ways.
TEST(RecurrentGradient, EveryLayerWithRespectToInputAndEveryWeight) {
  const Shape in{3, 5, 4};
  for (bool sequences : {true, false}) {
    const std::vector<std::shared_ptr<RecurrentLayer>> all = {
        std::make_shared<RecurrentLayer>(layers::SimpleRNNOptions{.units = 3, .return_sequences = sequences}),
        std::make_shared<RecurrentLayer>(layers::LSTMOptions{.units = 3, .return_sequences = sequences}),
        std::make_shared<RecurrentLayer>(layers::GRUOptions{.units = 3, .return_sequences = sequences}),
    };
    for (const auto& layer : all) {
      const std::vector<Shape> ins{in};
      layer->build(ins);
      std::vector<Shape> shapes{in};
      std::size_t n = static_cast<std::size_t>(in.numel());
      for (const auto& p : layer->params()) {
        shapes.push_back(p.shape);
        n += static_cast<std::size_t>(p.shape.numel());
      }
      const auto r = testing::check_gradients(shapes, [&](graph::Graph<double>& g, const std::vector<NodeId>& ids) {
        std::vector<NodeId> params(ids.begin() + 1, ids.end());
        layers::CallContext<double> ctx{g, params, 1};
        const std::vector<NodeId> xs{ids[0]};
        return layer->call(ctx, xs);
      });
      EXPECT_TRUE(testing::gradients_ok(r)) << layer->type() << " return_sequences " << sequences;
      EXPECT_EQ(r.checked, n) << layer->type();
    }
  }
}

}  // namespace
}  // namespace dtrain
