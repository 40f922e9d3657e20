#include "dtrain/layers/embedding.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::layers {

// ---- Embedding --------------------------------------------------------------

EmbeddingLayer::EmbeddingLayer(EmbeddingOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (o_.input_dim <= 0) {
    throw ArgumentError(what() + ": input_dim must be positive, got " + std::to_string(o_.input_dim));
  }
  if (o_.input_dim > kMaxEmbeddingRows) {
    throw ArgumentError(what() + ": input_dim " + std::to_string(o_.input_dim) + " is above " +
                        std::to_string(kMaxEmbeddingRows) + " (token ids travel as float, exact below 2^24)");
  }
  if (o_.output_dim <= 0) {
    throw ArgumentError(what() + ": output_dim must be positive, got " + std::to_string(o_.output_dim));
  }
  initializers::parse(o_.embeddings_initializer);
}

Shape EmbeddingLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 2 || in[0].rank() >= Shape::kMaxRank) {
    shape_error(in, "expects token ids [batch, ...] (rank 2 to " + std::to_string(Shape::kMaxRank - 1) + ")");
  }
  declare("embeddings", {o_.input_dim, o_.output_dim}, initializers::parse(o_.embeddings_initializer));
  Shape out = in[0];
  out.push_back(o_.output_dim);
  return out;
}

template <class T>
graph::NodeId EmbeddingLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::embedding(c.g, in[0], c.params[0], what());
}

Config EmbeddingLayer::config() const {
  return Config()
      .set("name", name())
      .set("input_dim", o_.input_dim)
      .set("output_dim", o_.output_dim)
      .set("embeddings_initializer", o_.embeddings_initializer);
}

// ---- GlobalAveragePooling1D -------------------------------------------------

Shape GlobalAveragePooling1DLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() != 3) shape_error(in, "expects [batch, time, features] (channels_last)");
  return {in[0][0], in[0][2]};
}

template <class T>
graph::NodeId GlobalAveragePooling1DLayer::call_t(CallContext<T>& c,
                                                  std::span<const graph::NodeId> in) const {
  return graph::mean(c.g, in[0], 1);
}

Config GlobalAveragePooling1DLayer::config() const { return Config().set("name", name()); }

LayerHandle Embedding(EmbeddingOptions o) {
  return LayerHandle(std::make_shared<EmbeddingLayer>(std::move(o)));
}
LayerHandle GlobalAveragePooling1D(const std::string& name) {
  return LayerHandle(std::make_shared<GlobalAveragePooling1DLayer>(name));
}

#define DTRAIN_INSTANTIATE_CALL(L)                                                                    \
  template graph::NodeId L::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const; \
  template graph::NodeId L::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;
DTRAIN_INSTANTIATE_CALL(EmbeddingLayer)
DTRAIN_INSTANTIATE_CALL(GlobalAveragePooling1DLayer)

}  // namespace dtrain::layers
