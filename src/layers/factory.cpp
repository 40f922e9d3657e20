#include "dtrain/layers/factory.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/layers/attention.hpp"
#include "dtrain/layers/conv.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/embedding.hpp"
#include "dtrain/layers/merge.hpp"
#include "dtrain/layers/normalization.hpp"
#include "dtrain/layers/recurrent.hpp"

#include <functional>
#include <utility>

namespace dtrain::layers {
namespace {

using Factory = std::function<std::shared_ptr<Layer>(const Config&, const std::string& owner)>;

std::array<std::int64_t, 2> pair_of(const Config& c, const std::string& key, std::array<std::int64_t, 2> d,
                                    const std::string& owner) {
  if (!c.has(key)) return d;
  const auto v = c.get_ints(key, owner);
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() == 2) return {v[0], v[1]};
  throw ArgumentError(owner + ": argument '" + key + "' must be one or two integers");
}

std::shared_ptr<Layer> dense(const Config& c, const std::string& owner) {
  c.check_keys({"name", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_l1",
                "kernel_l2"},
               owner);
  DenseOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.units = c.get_int("units", owner);
  o.activation = c.get_string_or("activation", o.activation, owner);
  o.use_bias = c.get_bool_or("use_bias", o.use_bias, owner);
  o.kernel_initializer = c.get_string_or("kernel_initializer", o.kernel_initializer, owner);
  o.bias_initializer = c.get_string_or("bias_initializer", o.bias_initializer, owner);
  o.kernel_l1 = c.get_double_or("kernel_l1", 0.0, owner);
  o.kernel_l2 = c.get_double_or("kernel_l2", 0.0, owner);
  return std::make_shared<DenseLayer>(o);
}

std::shared_ptr<Layer> conv2d(const Config& c, const std::string& owner) {
  c.check_keys({"name", "filters", "kernel_size", "strides", "padding", "activation", "use_bias",
                "kernel_initializer", "bias_initializer", "kernel_l1", "kernel_l2"},
               owner);
  Conv2DOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.filters = c.get_int("filters", owner);
  o.kernel_size = pair_of(c, "kernel_size", o.kernel_size, owner);
  o.strides = pair_of(c, "strides", o.strides, owner);
  o.padding = c.get_string_or("padding", o.padding, owner);
  o.activation = c.get_string_or("activation", o.activation, owner);
  o.use_bias = c.get_bool_or("use_bias", o.use_bias, owner);
  o.kernel_initializer = c.get_string_or("kernel_initializer", o.kernel_initializer, owner);
  o.bias_initializer = c.get_string_or("bias_initializer", o.bias_initializer, owner);
  o.kernel_l1 = c.get_double_or("kernel_l1", 0.0, owner);
  o.kernel_l2 = c.get_double_or("kernel_l2", 0.0, owner);
  return std::make_shared<Conv2DLayer>(o);
}

Factory pooling(bool max) {
  return [max](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
    c.check_keys({"name", "pool_size", "strides", "padding"}, owner);
    Pooling2DOptions o;
    o.name = c.get_string_or("name", "", owner);
    o.pool_size = pair_of(c, "pool_size", o.pool_size, owner);
    o.strides = pair_of(c, "strides", o.strides, owner);
    o.padding = c.get_string_or("padding", o.padding, owner);
    return std::make_shared<Pooling2DLayer>(o, max);
  };
}

std::shared_ptr<Layer> batch_norm(const Config& c, const std::string& owner) {
  c.check_keys({"name", "momentum", "epsilon", "center", "scale"}, owner);
  BatchNormalizationOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.momentum = c.get_double_or("momentum", o.momentum, owner);
  o.epsilon = c.get_double_or("epsilon", o.epsilon, owner);
  o.center = c.get_bool_or("center", o.center, owner);
  o.scale = c.get_bool_or("scale", o.scale, owner);
  return std::make_shared<BatchNormalizationLayer>(o);
}

std::shared_ptr<Layer> layer_norm(const Config& c, const std::string& owner) {
  c.check_keys({"name", "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer"}, owner);
  LayerNormalizationOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.axis = static_cast<int>(c.get_int_or("axis", o.axis, owner));
  o.epsilon = c.get_double_or("epsilon", o.epsilon, owner);
  o.center = c.get_bool_or("center", o.center, owner);
  o.scale = c.get_bool_or("scale", o.scale, owner);
  o.beta_initializer = c.get_string_or("beta_initializer", o.beta_initializer, owner);
  o.gamma_initializer = c.get_string_or("gamma_initializer", o.gamma_initializer, owner);
  return std::make_shared<LayerNormalizationLayer>(o);
}

std::shared_ptr<Layer> rms_norm(const Config& c, const std::string& owner) {
  c.check_keys({"name", "axis", "epsilon"}, owner);
  RMSNormalizationOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.axis = static_cast<int>(c.get_int_or("axis", o.axis, owner));
  o.epsilon = c.get_double_or("epsilon", o.epsilon, owner);
  return std::make_shared<RMSNormalizationLayer>(o);
}

// SimpleRNN, LSTM, GRU: the arguments the three share, read into any of their
// option structs.
template <class O>
void recurrent_common(const Config& c, const std::string& owner, O& o) {
  o.name = c.get_string_or("name", "", owner);
  o.units = c.get_int("units", owner);
  o.activation = c.get_string_or("activation", o.activation, owner);
  o.use_bias = c.get_bool_or("use_bias", o.use_bias, owner);
  o.kernel_initializer = c.get_string_or("kernel_initializer", o.kernel_initializer, owner);
  o.recurrent_initializer = c.get_string_or("recurrent_initializer", o.recurrent_initializer, owner);
  o.bias_initializer = c.get_string_or("bias_initializer", o.bias_initializer, owner);
  o.return_sequences = c.get_bool_or("return_sequences", o.return_sequences, owner);
}

std::shared_ptr<Layer> simple_rnn(const Config& c, const std::string& owner) {
  c.check_keys({"name", "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                "bias_initializer", "return_sequences"},
               owner);
  SimpleRNNOptions o;
  recurrent_common(c, owner, o);
  return std::make_shared<RecurrentLayer>(o);
}

std::shared_ptr<Layer> lstm(const Config& c, const std::string& owner) {
  c.check_keys({"name", "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias", "return_sequences"},
               owner);
  LSTMOptions o;
  recurrent_common(c, owner, o);
  o.recurrent_activation = c.get_string_or("recurrent_activation", o.recurrent_activation, owner);
  o.unit_forget_bias = c.get_bool_or("unit_forget_bias", o.unit_forget_bias, owner);
  return std::make_shared<RecurrentLayer>(o);
}

std::shared_ptr<Layer> gru(const Config& c, const std::string& owner) {
  c.check_keys({"name", "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "reset_after", "return_sequences"},
               owner);
  GRUOptions o;
  recurrent_common(c, owner, o);
  o.recurrent_activation = c.get_string_or("recurrent_activation", o.recurrent_activation, owner);
  o.reset_after = c.get_bool_or("reset_after", o.reset_after, owner);
  return std::make_shared<RecurrentLayer>(o);
}

std::shared_ptr<Layer> embedding(const Config& c, const std::string& owner) {
  c.check_keys({"name", "input_dim", "output_dim", "embeddings_initializer"}, owner);
  EmbeddingOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.input_dim = c.get_int("input_dim", owner);
  o.output_dim = c.get_int("output_dim", owner);
  o.embeddings_initializer = c.get_string_or("embeddings_initializer", o.embeddings_initializer, owner);
  return std::make_shared<EmbeddingLayer>(o);
}

std::shared_ptr<Layer> dropout(const Config& c, const std::string& owner) {
  c.check_keys({"name", "rate", "seed"}, owner);
  DropoutOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.rate = c.get_double_or("rate", o.rate, owner);
  o.seed = c.get_int_or("seed", -1, owner);
  return std::make_shared<DropoutLayer>(o);
}

std::shared_ptr<Layer> multi_head_attention(const Config& c, const std::string& owner) {
  c.check_keys({"name", "num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
                "kernel_initializer", "bias_initializer", "use_causal_mask"},
               owner);
  MultiHeadAttentionOptions o;
  o.name = c.get_string_or("name", "", owner);
  o.num_heads = c.get_int("num_heads", owner);
  o.key_dim = c.get_int("key_dim", owner);
  o.value_dim = c.get_int_or("value_dim", o.value_dim, owner);
  o.dropout = c.get_double_or("dropout", o.dropout, owner);
  o.use_bias = c.get_bool_or("use_bias", o.use_bias, owner);
  o.output_shape = c.get_int_or("output_shape", o.output_shape, owner);
  o.kernel_initializer = c.get_string_or("kernel_initializer", o.kernel_initializer, owner);
  o.bias_initializer = c.get_string_or("bias_initializer", o.bias_initializer, owner);
  o.use_causal_mask = c.get_bool_or("use_causal_mask", o.use_causal_mask, owner);
  return std::make_shared<MultiHeadAttentionLayer>(o);
}

const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> kTable = {
      {"InputLayer",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name", "shape"}, owner);
         return std::make_shared<InputLayer>(c.get_ints("shape", owner), c.get_string_or("name", "", owner));
       }},
      {"Dense", dense},
      {"Activation",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name", "activation"}, owner);
         return std::make_shared<ActivationLayer>(c.get_string("activation", owner), c.get_string_or("name", "", owner));
       }},
      {"Flatten",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name"}, owner);
         return std::make_shared<FlattenLayer>(c.get_string_or("name", "", owner));
       }},
      {"Reshape",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name", "target_shape"}, owner);
         return std::make_shared<ReshapeLayer>(c.get_ints("target_shape", owner), c.get_string_or("name", "", owner));
       }},
      {"Dropout", dropout},
      {"MultiHeadAttention", multi_head_attention},
      {"Conv2D", conv2d},
      {"MaxPooling2D", pooling(true)},
      {"AveragePooling2D", pooling(false)},
      {"GlobalAveragePooling2D",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name"}, owner);
         return std::make_shared<GlobalAveragePooling2DLayer>(c.get_string_or("name", "", owner));
       }},
      {"GlobalAveragePooling1D",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name", "data_format"}, owner);
         const auto format = c.get_string_or("data_format", "channels_last", owner);
         if (format != "channels_last") {
           throw ArgumentError(owner + ": data_format must be 'channels_last' (the only layout dtrain has), got '" +
                               format + "'");
         }
         return std::make_shared<GlobalAveragePooling1DLayer>(c.get_string_or("name", "", owner));
       }},
      {"Embedding", embedding},
      {"BatchNormalization", batch_norm},
      {"LayerNormalization", layer_norm},
      {"RMSNormalization", rms_norm},
      {"SimpleRNN", simple_rnn},
      {"LSTM", lstm},
      {"GRU", gru},
      {"Add",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name"}, owner);
         return std::make_shared<AddLayer>(c.get_string_or("name", "", owner));
       }},
      {"Concatenate",
       [](const Config& c, const std::string& owner) -> std::shared_ptr<Layer> {
         c.check_keys({"name", "axis"}, owner);
         return std::make_shared<ConcatenateLayer>(static_cast<int>(c.get_int_or("axis", -1, owner)),
                                                   c.get_string_or("name", "", owner));
       }},
  };
  return kTable;
}

}  // namespace

std::string default_layer_name(const std::string& type) {
  std::string out;
  const auto is_upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto is_lower = [](char c) { return c >= 'a' && c <= 'z'; };
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    const bool upper = is_upper(c);
    // Keras' to_snake_case: a capital starts a word after a lower-case letter
    // (BatchNormalization) or when a lower-case letter follows it (RMSNormalization
    // -> rms_normalization); Conv2D stays conv2d.
    const bool next_lower = i + 1 < type.size() && is_lower(type[i + 1]);
    if (upper && i > 0 && (is_lower(type[i - 1]) || (is_upper(type[i - 1]) && next_lower))) {
      out += '_';
    }
    out += upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::vector<std::string> layer_types() {
  std::vector<std::string> names;
  for (const auto& [name, f] : table()) names.push_back(name);
  return names;
}

std::shared_ptr<Layer> make_layer(const std::string& type, const Config& config) {
  for (const auto& [name, factory] : table()) {
    if (name == type) {
      std::string owner = type;
      if (config.has("name")) owner += " '" + config.get_string("name", type) + "'";
      return factory(config, owner);
    }
  }
  std::string list;
  for (const auto& n : layer_types()) list += (list.empty() ? "" : ", ") + n;
  throw ArgumentError("unknown layer type '" + type + "' (valid: " + list + ")");
}

}  // namespace dtrain::layers
