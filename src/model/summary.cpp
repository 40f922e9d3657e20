// Model::summary(): Keras' table of layers, output shapes and parameter counts.
#include "summary.hpp"

#include <set>
#include <sstream>

namespace dtrain::model {
namespace {

// "(None, 28, 28, 32)" as Keras prints shapes.
std::string keras_shape(const Shape& s) {
  std::string out = "(";
  for (int i = 0; i < s.rank(); ++i) {
    if (i) out += ", ";
    out += s[i] < 0 ? "None" : std::to_string(s[i]);
  }
  return out + (s.rank() == 1 ? ",)" : ")");
}

std::string with_commas(std::int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string cell(const std::string& text, std::size_t width) {
  return text.size() + 1 >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string summarize(const std::string& name, const Network& network) {
  const auto& nodes = network.nodes();
  bool chain = true;
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    chain = chain && nodes[i]->inputs.size() == 1 && nodes[i]->inputs[0].node() == nodes[i - 1];
  }
  const std::size_t w1 = 34, w2 = 25, w3 = 13, w4 = chain ? 0 : 24;
  const std::string rule(w1 + w2 + w3 + w4, '_'), double_rule(w1 + w2 + w3 + w4, '=');
  std::ostringstream out;
  out << "Model: \"" << name << "\"\n" << rule << "\n";
  out << cell(" Layer (type)", w1) << cell("Output Shape", w2) << cell("Param #", w3)
      << (chain ? "" : "Connected to") << "\n" << double_rule << "\n";
  std::set<const layers::Layer*> counted;
  for (const auto& node : nodes) {
    const auto& l = *node->layer;
    std::string inbound;
    for (const auto& in : node->inputs) inbound += (inbound.empty() ? "" : ", ") + in.node()->layer->name();
    const bool first = counted.insert(&l).second;
    out << cell(" " + l.name() + " (" + l.type() + ")", w1) << cell(keras_shape(node->shape), w2)
        << cell(first ? std::to_string(l.param_count()) : "0", w3) << (chain ? "" : inbound) << "\n";
  }
  std::int64_t trainable = 0, frozen = 0;
  for (const auto& p : network.parameters()) (p.trainable ? trainable : frozen) += p.shape.numel();
  out << double_rule << "\n";
  out << "Total params: " << with_commas(trainable + frozen) << "\n";
  out << "Trainable params: " << with_commas(trainable) << "\n";
  out << "Non-trainable params: " << with_commas(frozen) << "\n" << rule << "\n";
  return out.str();
}

}  // namespace dtrain::model
