#include "dtrain/layers/recurrent.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

#include <string>

namespace dtrain::layers {

namespace {

// The layer keeps LSTMOptions, the union of the three option sets: the fields
// SimpleRNN and GRU share with it, no forget-gate bias.
template <class O>
LSTMOptions as_union(const O& o) {
  LSTMOptions u;
  u.units = o.units;
  u.activation = o.activation;
  if constexpr (requires { o.recurrent_activation; }) u.recurrent_activation = o.recurrent_activation;
  u.use_bias = o.use_bias;
  u.kernel_initializer = o.kernel_initializer;
  u.recurrent_initializer = o.recurrent_initializer;
  u.bias_initializer = o.bias_initializer;
  u.unit_forget_bias = false;
  u.return_sequences = o.return_sequences;
  return u;
}

}  // namespace

RecurrentLayer::RecurrentLayer(SimpleRNNOptions o) : LayerBase(o.name), kind_(Kind::kSimpleRNN), o_(as_union(o)) {
  check();
}

RecurrentLayer::RecurrentLayer(LSTMOptions o) : LayerBase(o.name), kind_(Kind::kLSTM), o_(std::move(o)) { check(); }

RecurrentLayer::RecurrentLayer(GRUOptions o) : LayerBase(o.name), kind_(Kind::kGRU), o_(as_union(o)) {
  if (!o.reset_after) {
    throw ArgumentError(what() + ": only reset_after=True (Keras 3's default) is supported, got reset_after=False");
  }
  check();
}

std::string RecurrentLayer::type() const {
  return kind_ == Kind::kSimpleRNN ? "SimpleRNN" : kind_ == Kind::kLSTM ? "LSTM" : "GRU";
}

void RecurrentLayer::check() const {
  if (o_.units <= 0) throw ArgumentError(what() + ": units must be positive, got " + std::to_string(o_.units));
  const auto activation = [&](const std::string& key, const std::string& v) {
    try {
      graph::parse_recurrent_activation(v);
    } catch (const ArgumentError& e) {
      throw ArgumentError(what() + ": argument '" + key + "': " + e.what());
    }
  };
  activation("activation", o_.activation);
  if (kind_ != Kind::kSimpleRNN) activation("recurrent_activation", o_.recurrent_activation);
  initializers::parse(o_.kernel_initializer);
  initializers::parse(o_.recurrent_initializer);
  initializers::parse(o_.bias_initializer);
}

Shape RecurrentLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() != 3) shape_error(in, "expects [batch, time, features]");
  const std::int64_t g = kind_ == Kind::kSimpleRNN ? 1 : kind_ == Kind::kLSTM ? 4 : 3;
  const auto u = o_.units;
  declare("kernel", {in[0][2], g * u}, initializers::parse(o_.kernel_initializer));
  declare("recurrent_kernel", {u, g * u}, initializers::parse(o_.recurrent_initializer));
  if (o_.use_bias) {
    auto init = initializers::parse(o_.bias_initializer);
    if (kind_ == Kind::kLSTM && o_.unit_forget_bias) init.forget_units = u;
    declare("bias", kind_ == Kind::kGRU ? Shape{2, g * u} : Shape{g * u}, init);
  }
  return o_.return_sequences ? Shape{in[0][0], in[0][1], u} : Shape{in[0][0], u};
}

template <class T>
graph::NodeId RecurrentLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  graph::RecurrentOptions o;
  o.activation = graph::parse_recurrent_activation(o_.activation);
  o.recurrent_activation = graph::parse_recurrent_activation(o_.recurrent_activation);
  o.return_sequences = o_.return_sequences;
  const graph::NodeId bias = o_.use_bias ? c.params[2] : -1;
  switch (kind_) {
    case Kind::kSimpleRNN: return graph::simple_rnn(c.g, in[0], c.params[0], c.params[1], bias, o);
    case Kind::kLSTM: return graph::lstm(c.g, in[0], c.params[0], c.params[1], bias, o);
    case Kind::kGRU: return graph::gru(c.g, in[0], c.params[0], c.params[1], bias, o);
  }
  return -1;
}

Config RecurrentLayer::config() const {
  Config c;
  c.set("name", name()).set("units", o_.units).set("activation", o_.activation).set("use_bias", o_.use_bias);
  if (kind_ != Kind::kSimpleRNN) c.set("recurrent_activation", o_.recurrent_activation);
  c.set("kernel_initializer", o_.kernel_initializer).set("recurrent_initializer", o_.recurrent_initializer);
  c.set("bias_initializer", o_.bias_initializer).set("return_sequences", o_.return_sequences);
  if (kind_ == Kind::kLSTM) c.set("unit_forget_bias", o_.unit_forget_bias);
  if (kind_ == Kind::kGRU) c.set("reset_after", true);
  return c;
}

LayerHandle SimpleRNN(SimpleRNNOptions o) { return LayerHandle(std::make_shared<RecurrentLayer>(std::move(o))); }
LayerHandle LSTM(LSTMOptions o) { return LayerHandle(std::make_shared<RecurrentLayer>(std::move(o))); }
LayerHandle GRU(GRUOptions o) { return LayerHandle(std::make_shared<RecurrentLayer>(std::move(o))); }

template graph::NodeId RecurrentLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId RecurrentLayer::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;

}  // namespace dtrain::layers
