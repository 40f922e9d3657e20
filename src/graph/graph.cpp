#include "dtrain/graph/graph.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace dtrain::graph {

void throw_shape_error(const std::string& op, std::span<const Shape> in,
                       const std::string& detail) {
  std::ostringstream msg;
  msg << op << ": " << detail << " (input shapes";
  for (std::size_t i = 0; i < in.size(); ++i) msg << (i ? ", " : " ") << in[i].str();
  msg << ')';
  throw ShapeError(msg.str());
}

namespace {

enum class Kind { kInput, kParameter, kOp };

Shape with_batch(const Shape& s, std::int64_t batch) {
  Shape out = s;
  if (out.rank() > 0 && out[0] == kBatch) out[0] = batch;
  return out;
}

template <class T>
void zero(T* p, std::int64_t n) {
  constexpr std::int64_t kBlock = 1 << 16;
  kernels::for_blocks(n, kBlock, [&](std::int64_t b, std::int64_t e) {
    std::memset(p + b, 0, static_cast<std::size_t>(e - b) * sizeof(T));
  });
}

}  // namespace

template <class T>
struct Graph<T>::Impl {
  struct Node {
    Kind kind = Kind::kOp;
    std::string name;
    std::unique_ptr<Op<T>> op;
    std::vector<NodeId> inputs;
    Shape symbolic;
    Shape concrete;
    bool requires_grad = false;
    std::int64_t param_index = -1;
    AlignedVector<T> value;
    AlignedVector<T> grad;
    AlignedVector<T> workspace;
    // Per-step views handed to the op (sized once in plan: no allocation later).
    std::vector<View<const T>> in_views;
    std::vector<View<T>> din_views;
    std::vector<Shape> in_shapes;
  };

  static Node make_node(Kind kind, const std::string& name, const Shape& shape, bool requires_grad) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.symbolic = shape;
    n.concrete = shape;
    n.requires_grad = requires_grad;
    return n;
  }

  std::vector<Node> nodes;
  std::vector<ParameterInfo> params;
  ParameterStore<T>* store = nullptr;           // the arenas in use
  std::unique_ptr<ParameterStore<T>> own_store;  // when used without a model
  std::int64_t max_batch = 0;
  std::int64_t batch = 0;
  std::uint64_t step = 0;
  std::int64_t row_offset = 0;
  // ready_after[i]: trainable parameters whose gradient is final once node i's
  // backward has run (node i is their first consumer). Index size(): unused ones.
  std::vector<std::vector<std::size_t>> ready_after;

  void plan_ready_lists() {
    ready_after.assign(nodes.size() + 1, {});
    for (std::size_t p = 0; p < params.size(); ++p) {
      if (!params[p].trainable) continue;
      std::size_t first = nodes.size();
      for (std::size_t i = 0; i < nodes.size() && first == nodes.size(); ++i) {
        for (NodeId in : nodes[i].inputs) {
          if (in == params[p].node) first = i;
        }
      }
      ready_after[first].push_back(p);
    }
  }

  Node& node(NodeId id) {
    if (id < 0 || static_cast<std::size_t>(id) >= nodes.size()) {
      throw ArgumentError("graph: unknown node id " + std::to_string(id));
    }
    return nodes[static_cast<std::size_t>(id)];
  }

  T* value_ptr(Node& n) {
    if (n.kind == Kind::kParameter) {
      return store->values().data() + params[static_cast<std::size_t>(n.param_index)].offset;
    }
    return n.value.data();
  }
  T* grad_ptr(Node& n) {
    if (!n.requires_grad) return nullptr;
    if (n.kind == Kind::kParameter) {
      return store->grads().data() + params[static_cast<std::size_t>(n.param_index)].offset;
    }
    return n.grad.data();
  }

  ParameterStore<T>& parameters_in_use() {
    if (!store) {
      own_store = std::make_unique<ParameterStore<T>>(params);
      store = own_store.get();
    }
    return *store;
  }

  // Recomputes concrete shapes for the current batch and refreshes the op views.
  void refresh_views() {
    for (auto& n : nodes) {
      if (n.kind != Kind::kOp) {
        n.concrete = with_batch(n.symbolic, batch);
        continue;
      }
      for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        Node& src = nodes[static_cast<std::size_t>(n.inputs[i])];
        n.in_shapes[i] = src.concrete;
        n.in_views[i] = View<const T>{value_ptr(src), src.concrete};
        n.din_views[i] = View<T>{grad_ptr(src), src.concrete};
      }
      n.concrete = n.op->output_shape(n.in_shapes);
    }
  }

  OpContext<T> context(Node& n, bool training) {
    OpContext<T> c;
    c.in = n.in_views;
    c.out = View<T>{value_ptr(n), n.concrete};
    c.din = n.din_views;
    c.dout = View<const T>{grad_ptr(n), n.concrete};
    c.workspace = View<T>{n.workspace.data(), Shape{static_cast<std::int64_t>(n.workspace.size())}};
    c.training = training;
    c.step = step;
    c.row_offset = row_offset;
    return c;
  }
};

template <class T>
Graph<T>::Graph() : impl_(std::make_unique<Impl>()) {}
template <class T>
Graph<T>::~Graph() = default;
template <class T>
Graph<T>::Graph(Graph&&) noexcept = default;
template <class T>
Graph<T>& Graph<T>::operator=(Graph&&) noexcept = default;

template <class T>
NodeId Graph<T>::input(const std::string& name, const Shape& shape, bool requires_grad) {
  impl_->nodes.push_back(Impl::make_node(Kind::kInput, name, shape, requires_grad));
  impl_->max_batch = 0;  // needs a new plan
  return static_cast<NodeId>(impl_->nodes.size() - 1);
}

template <class T>
NodeId Graph<T>::parameter(const std::string& name, const Shape& shape, bool trainable) {
  if (impl_->store) {
    throw Error("graph: parameter '" + name + "' added after the parameters were allocated");
  }
  for (const auto& p : impl_->params) {
    if (p.name == name) throw ArgumentError("graph: duplicate parameter name '" + name + "'");
  }
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] <= 0) {
      throw ShapeError("graph: parameter '" + name + "' needs positive dims, got " + shape.str());
    }
  }
  const auto id = static_cast<NodeId>(impl_->nodes.size());
  auto n = Impl::make_node(Kind::kParameter, name, shape, trainable);
  n.param_index = static_cast<std::int64_t>(impl_->params.size());
  impl_->nodes.push_back(std::move(n));
  impl_->params.push_back(ParameterInfo{name, shape, arena_elements(impl_->params), trainable, id});
  return id;
}

template <class T>
NodeId Graph<T>::add(std::unique_ptr<Op<T>> op, std::vector<NodeId> inputs) {
  std::vector<Shape> shapes;
  bool needs_grad = false;
  for (NodeId i : inputs) {
    auto& src = impl_->node(i);
    shapes.push_back(src.symbolic);
    needs_grad = needs_grad || src.requires_grad;
  }
  Shape out = op->output_shape(shapes);
  auto n = Impl::make_node(Kind::kOp, op->name(), out, needs_grad);
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  n.in_views.resize(n.inputs.size());
  n.din_views.resize(n.inputs.size());
  n.in_shapes = shapes;
  impl_->nodes.push_back(std::move(n));
  impl_->max_batch = 0;
  return static_cast<NodeId>(impl_->nodes.size() - 1);
}

template <class T>
std::size_t Graph<T>::size() const {
  return impl_->nodes.size();
}

template <class T>
const Shape& Graph<T>::shape(NodeId id) const {
  return impl_->node(id).symbolic;
}

template <class T>
std::string Graph<T>::node_name(NodeId id) const {
  return impl_->node(id).name + "#" + std::to_string(id);
}

template <class T>
bool Graph<T>::requires_grad(NodeId id) const {
  return impl_->node(id).requires_grad;
}

template <class T>
void Graph<T>::plan(std::int64_t max_batch) {
  if (max_batch <= 0) throw ArgumentError("graph: batch size must be positive, got " + std::to_string(max_batch));
  auto& im = *impl_;
  im.parameters_in_use();
  im.max_batch = max_batch;
  im.batch = max_batch;
  im.refresh_views();
  for (auto& n : im.nodes) {
    if (n.kind == Kind::kParameter) continue;
    const auto size = static_cast<std::size_t>(n.concrete.numel());
    n.value.assign(size, T(0));
    n.grad.assign(n.requires_grad ? size : 0, T(0));
    if (n.kind == Kind::kOp) {
      n.workspace.assign(static_cast<std::size_t>(n.op->workspace_size(n.in_shapes, n.concrete)), T(0));
    }
  }
  im.refresh_views();  // the buffers moved
  im.plan_ready_lists();
}

template <class T>
void Graph<T>::set_batch(std::int64_t n) {
  auto& im = *impl_;
  if (im.max_batch == 0) throw Error("graph: set_batch before plan");
  if (n <= 0 || n > im.max_batch) {
    throw ArgumentError("graph: batch " + std::to_string(n) + " outside [1, " +
                        std::to_string(im.max_batch) + "] planned");
  }
  if (n == im.batch) return;
  im.batch = n;
  im.refresh_views();
}

template <class T>
std::int64_t Graph<T>::batch() const {
  return impl_->batch;
}

template <class T>
View<T> Graph<T>::value(NodeId id) {
  auto& n = impl_->node(id);
  if (n.kind != Kind::kParameter && impl_->max_batch == 0) throw Error("graph: value() before plan");
  return {impl_->value_ptr(n), n.concrete};
}

template <class T>
View<T> Graph<T>::grad(NodeId id) {
  auto& n = impl_->node(id);
  return {impl_->grad_ptr(n), n.concrete};
}

template <class T>
void Graph<T>::forward(bool training, NodeId last) {
  auto& im = *impl_;
  if (im.max_batch == 0) throw Error("graph: forward before plan");
  const auto end = last < 0 ? im.nodes.size() : static_cast<std::size_t>(last) + 1;
  for (std::size_t i = 0; i < end && i < im.nodes.size(); ++i) {
    auto& n = im.nodes[i];
    if (n.kind == Kind::kOp) n.op->forward(im.context(n, training));
  }
}

namespace {

// Passes an op's early gradient prefixes on to the observer, for the inputs
// that are parameters this op finishes (used once by it: the prefix is final).
template <class Node>
class PrefixRelay final : public GradientProgress {
 public:
  PrefixRelay(BackwardObserver* observer, const Node& node, std::span<const std::size_t> finishes,
              const std::vector<ParameterInfo>& params)
      : observer_(observer), node_(node), finishes_(finishes), params_(params) {}

  void prefix_final(std::size_t input, std::int64_t elements) override {
    const NodeId source = node_.inputs.at(input);
    if (std::count(node_.inputs.begin(), node_.inputs.end(), source) != 1) return;
    for (auto p : finishes_) {
      if (params_[p].node == source) observer_->parameter_prefix_ready(p, elements);
    }
  }

 private:
  BackwardObserver* observer_;
  const Node& node_;
  std::span<const std::size_t> finishes_;
  const std::vector<ParameterInfo>& params_;
};

}  // namespace

template <class T>
void Graph<T>::backward(NodeId output, BackwardObserver* observer) {
  auto& im = *impl_;
  if (im.max_batch == 0) throw Error("graph: backward before plan");
  auto& out = im.node(output);
  if (!out.requires_grad) {
    throw Error("graph: backward from " + node_name(output) + ", which depends on no trainable value");
  }
  for (auto& n : im.nodes) {
    if (n.kind != Kind::kParameter && n.requires_grad) zero(n.grad.data(), n.concrete.numel());
  }
  const auto grads = im.store->grads();
  zero(grads.data(), static_cast<std::int64_t>(grads.size()));
  std::fill_n(im.grad_ptr(out), out.concrete.numel(), T(1));
  if (observer) {
    for (auto p : im.ready_after[im.nodes.size()]) observer->parameter_ready(p);
    // Consumers after `output` take no part in this backward.
    for (auto i = im.nodes.size() - 1; i > static_cast<std::size_t>(output); --i) {
      for (auto p : im.ready_after[i]) observer->parameter_ready(p);
    }
  }
  for (auto i = static_cast<std::int64_t>(output); i >= 0; --i) {
    auto& n = im.nodes[static_cast<std::size_t>(i)];
    if (n.kind == Kind::kOp && n.requires_grad) {
      auto c = im.context(n, true);
      const auto& finishes = im.ready_after[static_cast<std::size_t>(i)];
      PrefixRelay relay(observer, n, finishes, im.params);
      if (observer && !finishes.empty()) c.progress = &relay;
      n.op->backward(c);
    }
    if (observer) {
      for (auto p : im.ready_after[static_cast<std::size_t>(i)]) observer->parameter_ready(p);
      observer->after_op();
    }
  }
}

template <class T>
void Graph<T>::set_step(std::uint64_t step) {
  impl_->step = step;
}

template <class T>
void Graph<T>::set_row_offset(std::int64_t offset) {
  impl_->row_offset = offset;
}

template <class T>
const std::vector<ParameterInfo>& Graph<T>::parameters() const {
  return impl_->params;
}

template <class T>
void Graph<T>::attach_parameters(ParameterStore<T>& store) {
  auto& im = *impl_;
  if (!store.same_layout(im.params)) {
    throw ArgumentError("graph: attach_parameters got a store of another layout (" +
                        std::to_string(store.parameters().size()) + " parameters, " +
                        std::to_string(store.elements()) + " elements; the graph has " +
                        std::to_string(im.params.size()) + ", " + std::to_string(arena_elements(im.params)) + ")");
  }
  im.store = &store;
  im.own_store.reset();
  if (im.max_batch > 0) im.refresh_views();
}

template <class T>
ParameterStore<T>& Graph<T>::parameter_store() {
  return impl_->parameters_in_use();
}

template <class T>
std::span<T> Graph<T>::parameter_values() {
  return parameter_store().values();
}

template <class T>
std::span<T> Graph<T>::parameter_grads() {
  return parameter_store().grads();
}

template <class T>
View<T> Graph<T>::parameter_value(std::size_t index) {
  return parameter_store().value(index);
}

template <class T>
View<T> Graph<T>::parameter_grad(std::size_t index) {
  return parameter_store().grad(index);
}

template class Graph<float>;
template class Graph<double>;

}  // namespace dtrain::graph
