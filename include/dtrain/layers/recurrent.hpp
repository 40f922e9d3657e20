// Recurrent layers (Keras 3 layers/rnn): SimpleRNN, LSTM, GRU over
// [batch, time, features], the state starting at zero.
//
//   auto x = layers::Input({16, 24});                                   // [b, 16, 24]
//   auto h = layers::LSTM({.units = 64, .return_sequences = true})(x);  // [b, 16, 64]
//   auto y = layers::Dense({.units = 12})(h);                           // logits per step
//   auto last = layers::GRU({.units = 32})(h);                          // [b, 32]
//
// Weights as Keras: kernel [features, G*units], recurrent_kernel [units, G*units],
// bias [G*units] (GRU, reset_after=True: [2, 3*units], the input bias then the
// recurrent bias), with G = 1 (SimpleRNN), 4 (LSTM: gates i, f, c, o) or 3 (GRU:
// z, r, h). The formulas are in src/graph/ops/recurrent.cpp. Not supported yet:
// return_state (an op has one output), go_backwards, stateful, masking, dropout
// and recurrent_dropout, GRU reset_after=False. Activations: tanh, sigmoid, relu,
// linear.
#pragma once

#include "dtrain/layers/layer.hpp"

#include <cstdint>
#include <string>

namespace dtrain::layers {

// Keras 3 SimpleRNN: h_t = activation(x_t·kernel + bias + h_{t-1}·recurrent_kernel).
struct SimpleRNNOptions {
  std::int64_t units = 0;
  std::string activation = "tanh";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  bool return_sequences = false;
  std::string name;
};

// Keras 3 LSTM; unit_forget_bias sets the forget gate's bias to ones at
// initialisation (the other gates get bias_initializer).
struct LSTMOptions {
  std::int64_t units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  bool unit_forget_bias = true;
  bool return_sequences = false;
  std::string name;
};

// Keras 3 GRU with reset_after=True (its default; False is an ArgumentError).
struct GRUOptions {
  std::int64_t units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  bool return_sequences = false;
  bool reset_after = true;
  std::string name;
};

class RecurrentLayer final : public LayerBase<RecurrentLayer> {
 public:
  enum class Kind { kSimpleRNN, kLSTM, kGRU };
  explicit RecurrentLayer(SimpleRNNOptions o);
  explicit RecurrentLayer(LSTMOptions o);
  explicit RecurrentLayer(GRUOptions o);
  std::string type() const override;
  Config config() const override;
  Kind kind() const { return kind_; }
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  void check() const;

  Kind kind_;
  LSTMOptions o_;  // the union of the three option sets
};

LayerHandle SimpleRNN(SimpleRNNOptions o);
LayerHandle LSTM(LSTMOptions o);
LayerHandle GRU(GRUOptions o);

}  // namespace dtrain::layers
