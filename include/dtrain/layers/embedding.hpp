// Sequence layers: Embedding and GlobalAveragePooling1D (Keras layers/core/embedding.py,
// layers/pooling/global_average_pooling1d.py).
//
//   auto ids = layers::Input({16});                                 // [batch, 16] token ids
//   auto h = layers::Embedding({.input_dim = 1000, .output_dim = 32})(ids);  // [batch, 16, 32]
//   auto y = layers::Dense({.units = 4})(layers::GlobalAveragePooling1D()(h));
//
// Token ids reach Embedding as float values of the model's input (the graph holds
// one element type; a data file's int32 ids are converted when read). Float holds
// every whole number below 2^24 exactly, so ids up to 16777215 are exact; the op
// checks that every id is a whole number in [0, input_dim) and names the layer,
// the batch row and the value otherwise.
#pragma once

#include "dtrain/layers/layer.hpp"

namespace dtrain::layers {

// The largest input_dim whose ids are exact in float (2^24).
inline constexpr std::int64_t kMaxEmbeddingRows = std::int64_t{1} << 24;

struct EmbeddingOptions {
  std::int64_t input_dim = 0;                      // vocabulary size: ids in [0, input_dim)
  std::int64_t output_dim = 0;                     // vector size
  std::string embeddings_initializer = "uniform";  // Keras: RandomUniform(-0.05, 0.05)
  std::string name;
};

// ids [batch, ...] -> [batch, ..., output_dim]; weight "embeddings" [input_dim, output_dim].
class EmbeddingLayer final : public LayerBase<EmbeddingLayer> {
 public:
  explicit EmbeddingLayer(EmbeddingOptions o);
  std::string type() const override { return "Embedding"; }
  Config config() const override;
  std::int64_t input_dim() const { return o_.input_dim; }
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  EmbeddingOptions o_;
};

// Mean over the time axis: [batch, time, features] -> [batch, features]
// (data_format "channels_last", Keras' default and the only one here).
class GlobalAveragePooling1DLayer final : public LayerBase<GlobalAveragePooling1DLayer> {
 public:
  explicit GlobalAveragePooling1DLayer(std::string name = "") : LayerBase(std::move(name)) {}
  std::string type() const override { return "GlobalAveragePooling1D"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;
};

LayerHandle Embedding(EmbeddingOptions o);
LayerHandle GlobalAveragePooling1D(const std::string& name = "");

}  // namespace dtrain::layers
