// LossConfig: Keras names and aliases, validation, label shapes, and the dispatch
// from a config to the fused loss ops.
#include "per_sample_op.hpp"

#include "dtrain/losses.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <string_view>

namespace dtrain::losses {
namespace detail {

bool same_up_to_trailing_one(const Shape& a, const Shape& b) {
  if (a == b) return true;
  const Shape& longer = a.rank() > b.rank() ? a : b;
  const Shape& shorter = a.rank() > b.rank() ? b : a;
  if (longer.rank() != shorter.rank() + 1 || longer[longer.rank() - 1] != 1) return false;
  return drop_last_axis(longer) == shorter;
}

Shape drop_last_axis(const Shape& s) {
  Shape out;
  for (int i = 0; i + 1 < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

void expect_no_label_gradient(bool requires_grad, const char* loss) {
  if (requires_grad) {
    throw ArgumentError(std::string(loss) +
                        ": y_true must not require a gradient (losses differentiate y_pred only)");
  }
}

void check_label_smoothing(const char* loss, double label_smoothing) {
  if (!(label_smoothing >= 0 && label_smoothing <= 1)) {
    std::ostringstream msg;
    msg << loss << ": label_smoothing must be in [0, 1], got " << label_smoothing;
    throw ArgumentError(msg.str());
  }
}

}  // namespace detail

namespace {

struct LossName {
  std::string_view canonical;
  std::array<std::string_view, 3> aliases;  // empty entries unused
};

// The one name table: canonical Keras function name, then its Keras aliases and class name.
constexpr std::array<LossName, 6> kLosses{{
    {"mean_squared_error", {"mse", "MSE", "MeanSquaredError"}},
    {"mean_absolute_error", {"mae", "MAE", "MeanAbsoluteError"}},
    {"huber", {"huber_loss", "Huber", ""}},
    {"binary_crossentropy", {"BinaryCrossentropy", "", ""}},
    {"categorical_crossentropy", {"CategoricalCrossentropy", "", ""}},
    {"sparse_categorical_crossentropy", {"SparseCategoricalCrossentropy", "", ""}},
}};

std::string valid_names() {
  std::string out;
  for (const auto& l : kLosses) {
    if (!out.empty()) out += ", ";
    out += l.canonical;
    std::string also;
    for (auto a : l.aliases) {
      if (!a.empty()) also += (also.empty() ? "" : ", ") + std::string(a);
    }
    if (!also.empty()) out += " (" + also + ")";
  }
  return out;
}

bool is_crossentropy(const std::string& name) {
  return name == "binary_crossentropy" || name == "categorical_crossentropy" ||
         name == "sparse_categorical_crossentropy";
}

}  // namespace

LossConfig parse_loss(const std::string& name) {
  for (const auto& l : kLosses) {
    bool match = name == l.canonical;
    for (auto a : l.aliases) match = match || (!a.empty() && name == a);
    if (match) return LossConfig{std::string(l.canonical)};
  }
  throw ArgumentError("unknown loss '" + name + "'; valid names: " + valid_names());
}

std::vector<std::string> loss_names() {
  std::vector<std::string> out;
  for (const auto& l : kLosses) out.emplace_back(l.canonical);
  return out;
}

LossConfig validate(const LossConfig& c) {
  LossConfig v = c;
  v.name = parse_loss(c.name).name;
  if (v.from_logits && !is_crossentropy(v.name)) {
    throw ArgumentError("loss '" + v.name + "': from_logits applies to the cross-entropy losses only");
  }
  detail::check_label_smoothing(v.name.c_str(), v.label_smoothing);
  if (v.label_smoothing != 0 && v.name != "binary_crossentropy" && v.name != "categorical_crossentropy") {
    throw ArgumentError("loss '" + v.name +
                        "': label_smoothing applies to binary_crossentropy and categorical_crossentropy only");
  }
  if (v.name == "huber" && !(v.delta > 0 && std::isfinite(v.delta))) {
    std::ostringstream msg;
    msg << "loss 'huber': delta must be a positive number, got " << v.delta;
    throw ArgumentError(msg.str());
  }
  return v;
}

Shape y_true_shape(const LossConfig& c, const Shape& y_pred_shape) {
  const std::string name = parse_loss(c.name).name;
  if (name != "sparse_categorical_crossentropy") return y_pred_shape;
  if (y_pred_shape.rank() < 2) {
    throw ShapeError(name + ": y_pred needs a batch and a class axis, got " + y_pred_shape.str());
  }
  return detail::drop_last_axis(y_pred_shape);
}

void check_label_shape(const LossConfig& c, const Shape& y_pred_shape, const Shape& y_true_shape) {
  const std::string name = parse_loss(c.name).name;
  Shape expected = losses::y_true_shape(c, y_pred_shape);
  Shape given = y_true_shape;
  // A symbolic batch axis on either side matches the other's size.
  if (expected.rank() > 0 && given.rank() > 0 && (expected[0] < 0 || given[0] < 0)) {
    expected[0] = given[0] = graph::kBatch;
  }
  if (detail::same_up_to_trailing_one(expected, given)) return;
  std::string msg = name + ": labels of shape " + y_true_shape.str() + " do not fit predictions of shape " +
                    y_pred_shape.str() + ", which need labels " + losses::y_true_shape(c, y_pred_shape).str();
  // Dense keeps every axis but the last (Keras): a Dense head on an image or
  // sequence predicts per position. When the labels are those of one prediction
  // per sample ([batch, units]), a Flatten is what is missing.
  if (y_pred_shape.rank() >= 3 &&
      detail::same_up_to_trailing_one(
          losses::y_true_shape(c, Shape{given.rank() > 0 ? given[0] : graph::kBatch,
                                        y_pred_shape[y_pred_shape.rank() - 1]}),
          given)) {
    msg += " (the model predicts at every position of its last layer's input; to predict once per sample, "
           "add a Flatten layer before the Dense layers)";
  }
  throw ShapeError(msg);
}

template <class T>
graph::NodeId per_sample_loss(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                              const LossConfig& c) {
  const LossConfig v = validate(c);
  if (v.name == "mean_squared_error") return mean_squared_error(g, y_pred, y_true);
  if (v.name == "mean_absolute_error") return mean_absolute_error(g, y_pred, y_true);
  if (v.name == "huber") return huber(g, y_pred, y_true, v.delta);
  if (v.name == "binary_crossentropy") return binary_crossentropy(g, y_pred, y_true, v.from_logits, v.label_smoothing);
  if (v.name == "categorical_crossentropy") {
    return categorical_crossentropy(g, y_pred, y_true, v.from_logits, v.label_smoothing);
  }
  return sparse_categorical_crossentropy(g, y_pred, y_true, v.from_logits);
}

template graph::NodeId per_sample_loss<float>(graph::Graph<float>&, graph::NodeId, graph::NodeId,
                                              const LossConfig&);
template graph::NodeId per_sample_loss<double>(graph::Graph<double>&, graph::NodeId, graph::NodeId,
                                               const LossConfig&);

}  // namespace dtrain::losses
