// Model: the layers built into a network, compile, and the Keras entry points
// (fit / evaluate / predict) that hand over to the Trainer.
#include "dtrain/model.hpp"

#include "network.hpp"
#include "summary.hpp"
#include "trainer.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/factory.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace dtrain {
namespace {

// The layer graph in topological order (inputs before their consumers).
void visit(const std::shared_ptr<const layers::LayerNode>& node, std::set<const layers::LayerNode*>& seen,
           std::vector<std::shared_ptr<const layers::LayerNode>>& order) {
  if (!node || seen.count(node.get())) return;
  seen.insert(node.get());
  for (const auto& in : node->inputs) visit(in.node(), seen, order);
  order.push_back(node);
}

}  // namespace

struct Model::Impl {
  std::string name;
  std::uint64_t seed = 0;
  std::vector<std::shared_ptr<layers::Layer>> layers;  // unique, in order
  model::Network network;
  // compile
  std::shared_ptr<optimizers::Optimizer<float>> optimizer;
  losses::LossConfig loss;
  model::Trainer trainer{network};

  Impl(std::string n, std::uint64_t s, std::vector<std::shared_ptr<const layers::LayerNode>> nodes)
      : name(std::move(n)), seed(s), network(std::move(nodes), s) {}

  const std::vector<std::shared_ptr<const layers::LayerNode>>& nodes() const { return network.nodes(); }

  void name_layers() {
    std::map<std::string, int> used;
    for (const auto& l : layers) {
      if (!l->name().empty()) used[l->name()]++;
    }
    std::map<std::string, int> counters;
    for (const auto& l : layers) {
      if (!l->name().empty()) continue;
      const auto base = layers::default_layer_name(l->type());
      std::string candidate;
      do {
        const int k = counters[base]++;
        candidate = k == 0 ? base : base + "_" + std::to_string(k);
      } while (used.count(candidate));
      used[candidate]++;
      l->set_name(candidate);
    }
    std::set<std::string> names;
    for (const auto& l : layers) {
      if (!names.insert(l->name()).second) throw ArgumentError("model: two layers are named '" + l->name() + "'");
    }
  }

  void require_compiled(const char* what) const {
    if (!optimizer) throw Error(std::string("model: ") + what + " before compile()");
  }
};

// ---- construction ---------------------------------------------------------------

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Model::Model(const layers::SymbolicTensor& input, const layers::SymbolicTensor& output, std::string name,
             std::uint64_t seed) {
  std::vector<std::shared_ptr<const layers::LayerNode>> nodes;
  std::set<const layers::LayerNode*> seen;
  visit(output.node(), seen, nodes);
  if (nodes.empty() || nodes.front() != input.node()) {
    throw ArgumentError("model '" + name + "': the output does not depend on the given input");
  }
  std::vector<std::shared_ptr<layers::Layer>> unique;
  for (const auto& n : nodes) {
    if (n->layer->type() == "InputLayer" && n != input.node()) {
      throw ArgumentError("model '" + name + "': the output depends on a second Input (one input is supported)");
    }
    if (std::find(unique.begin(), unique.end(), n->layer) == unique.end()) unique.push_back(n->layer);
  }
  impl_ = std::make_unique<Impl>(std::move(name), seed, std::move(nodes));
  impl_->layers = std::move(unique);
  impl_->name_layers();
  impl_->network.build(nullptr);
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model Sequential(const std::vector<std::int64_t>& input_shape, const std::vector<layers::LayerHandle>& ls,
                 std::string name, std::uint64_t seed) {
  auto x = layers::Input(input_shape);
  auto y = x;
  for (const auto& l : ls) y = l(y);
  if (ls.empty()) throw ArgumentError("Sequential '" + name + "': needs at least one layer");
  return Model(x, y, std::move(name), seed);
}

std::vector<LayerRecord> Model::records() const {
  std::vector<LayerRecord> out;
  for (const auto& n : impl_->nodes()) {
    LayerRecord r{n->layer->type(), n->layer->config(), {}};
    for (const auto& in : n->inputs) r.inbound.push_back(in.node()->layer->name());
    out.push_back(std::move(r));
  }
  return out;
}

Model Model::from_records(const std::vector<LayerRecord>& records, std::string name, std::uint64_t seed) {
  std::map<std::string, layers::SymbolicTensor> outputs;
  layers::SymbolicTensor input, last;
  for (const auto& r : records) {
    if (r.type == "InputLayer") {
      const auto cfg = r.config;
      input = layers::Input(cfg.get_ints("shape", "InputLayer"), cfg.get_string_or("name", "", "InputLayer"));
      last = input;
    } else {
      std::vector<layers::SymbolicTensor> in;
      for (const auto& src : r.inbound) {
        auto it = outputs.find(src);
        if (it == outputs.end()) throw ArgumentError("model config: layer input '" + src + "' is not defined before use");
        in.push_back(it->second);
      }
      last = layers::LayerHandle(layers::make_layer(r.type, r.config))(in);
    }
    outputs[last.node()->layer->name()] = last;
  }
  if (!input.node()) throw ArgumentError("model config: no InputLayer");
  return Model(input, last, std::move(name), seed);
}

const std::string& Model::name() const { return impl_->name; }
std::string Model::summary() const { return model::summarize(impl_->name, impl_->network); }
std::uint64_t Model::seed() const { return impl_->seed; }

std::int64_t Model::count_params() const {
  std::int64_t n = 0;
  for (const auto& l : impl_->layers) n += l->param_count();
  return n;
}

Shape Model::input_shape() const { return impl_->nodes().front()->shape; }
Shape Model::output_shape() const { return impl_->nodes().back()->shape; }

void Model::compile(CompileOptions o) {
  auto& im = *impl_;
  if (!o.optimizer && !o.optimizer_config.name.empty()) o.optimizer = optimizers::make_optimizer<float>(o.optimizer_config);
  if (!o.optimizer) throw ArgumentError("compile: an optimizer is required");
  auto loss = losses::validate(o.loss);
  im.trainer.drop_data_parallel();
  im.network.build(&loss);
  im.trainer.compile(*o.optimizer, loss, o.metrics);
  im.loss = std::move(loss);
  im.optimizer = std::move(o.optimizer);
}

bool Model::compiled() const { return impl_->optimizer != nullptr; }

// ---- fit / evaluate / predict ----------------------------------------------------

History Model::fit(BatchSource& train, FitOptions o) {
  impl_->require_compiled("fit()");
  return impl_->trainer.fit(*this, train, std::move(o));
}

History Model::fit(const Tensor& x, const Tensor& y, ArrayFitOptions o) {
  if (x.shape().rank() < 1 || y.shape().rank() < 1 || x.shape()[0] != y.shape()[0]) {
    throw ShapeError("fit: x " + x.shape().str() + " and y " + y.shape().str() + " must have the same number of rows");
  }
  if (!(o.validation_split >= 0 && o.validation_split < 1)) {
    throw ArgumentError("fit: validation_split must be in [0, 1)");
  }
  const std::int64_t n = x.shape()[0];
  const auto n_val = static_cast<std::int64_t>(std::floor(static_cast<double>(n) * o.validation_split));
  auto rows = [](const Tensor& t, std::int64_t b, std::int64_t e) {
    Shape s = t.shape();
    s[0] = e - b;
    Tensor out(s);
    const auto inner = t.shape().inner();
    std::memcpy(out.data(), t.data() + b * inner, static_cast<std::size_t>((e - b) * inner) * sizeof(float));
    return out;
  };
  const Tensor xt = n_val ? rows(x, 0, n - n_val) : Tensor(), yt = n_val ? rows(y, 0, n - n_val) : Tensor();
  const Tensor xv = n_val ? rows(x, n - n_val, n) : Tensor(), yv = n_val ? rows(y, n - n_val, n) : Tensor();
  const auto& trainer = impl_->trainer;
  ArrayBatchOptions bo{o.batch_size, o.shuffle, o.seed, trainer.rank(), trainer.world()};
  ArrayBatchSource train(n_val ? xt : x, n_val ? yt : y, bo);
  bo.shuffle = false;
  std::unique_ptr<ArrayBatchSource> val;
  if (n_val) val = std::make_unique<ArrayBatchSource>(xv, yv, bo);
  FitOptions fo;
  fo.epochs = o.epochs;
  fo.validation = val.get();
  fo.callbacks = o.callbacks;
  fo.verbose = o.verbose;
  fo.out = o.out;
  return fit(train, fo);
}

Logs Model::evaluate(BatchSource& data) {
  impl_->require_compiled("evaluate()");
  auto& trainer = impl_->trainer;
  Logs logs;
  trainer.thread_scope().run([&] { logs = trainer.evaluate(data); });
  return logs;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, std::int64_t batch_size) {
  const auto& trainer = impl_->trainer;
  ArrayBatchSource data(x, y, {batch_size, false, 0, trainer.rank(), trainer.world()});
  return evaluate(data);
}

Tensor Model::predict(const Tensor& x, std::int64_t batch_size) {
  auto& net = impl_->network;
  auto& g = net.graph();
  const Shape in = g.shape(net.input());
  Shape expected = in;
  expected[0] = x.shape().rank() > 0 ? x.shape()[0] : 0;
  if (!(x.shape() == expected)) {
    throw ShapeError("predict: x has shape " + x.shape().str() + ", the model expects " + in.str());
  }
  if (batch_size <= 0) throw ArgumentError("predict: batch_size must be positive");
  Shape out_shape = g.shape(net.output());
  out_shape[0] = expected[0];
  Tensor out(out_shape);
  impl_->trainer.thread_scope().run([&] {
    net.plan(batch_size);
    const auto in_inner = in.inner(), out_inner = out_shape.inner();
    for (std::int64_t b = 0; b < expected[0]; b += batch_size) {
      const auto n = std::min(batch_size, expected[0] - b);
      g.set_batch(n);
      std::memcpy(g.value(net.input()).data, x.data() + b * in_inner, static_cast<std::size_t>(n * in_inner) * sizeof(float));
      g.forward(false, net.output());
      std::memcpy(out.data() + b * out_inner, g.value(net.output()).data,
                  static_cast<std::size_t>(n * out_inner) * sizeof(float));
    }
  });
  return out;
}

// ---- accessors -------------------------------------------------------------------

void Model::set_communicator(distributed::Communicator* comm) { impl_->trainer.set_communicator(comm); }
distributed::Communicator* Model::communicator() const { return impl_->trainer.communicator(); }

void Model::gather_optimizer_state() { impl_->trainer.gather_optimizer_state(); }

void Model::set_bucket_bytes(std::size_t bytes) {
  auto options = impl_->trainer.reducer_options();
  options.bucket_bytes = bytes;
  impl_->trainer.set_reducer_options(options);
}

void Model::set_reduce_transport(distributed::ReduceTransport transport) {
  auto options = impl_->trainer.reducer_options();
  options.transport = transport;
  impl_->trainer.set_reducer_options(options);
}

void Model::set_threads(int threads) { impl_->trainer.set_threads(threads); }
int Model::threads() const { return impl_->trainer.threads(); }

std::span<float> Model::weights() { return impl_->network.store().values(); }
const std::vector<graph::ParameterInfo>& Model::parameters() const { return impl_->network.parameters(); }

View<float> Model::weight(const std::string& name) {
  const auto& ps = parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].name == name) return impl_->network.store().value(i);
  }
  throw ArgumentError("model '" + impl_->name + "': no weight named '" + name + "'");
}

optimizers::Optimizer<float>& Model::optimizer() {
  impl_->require_compiled("optimizer()");
  return *impl_->optimizer;
}
void Model::build_optimizer() {
  impl_->require_compiled("build_optimizer()");
  if (!impl_->optimizer->built()) impl_->optimizer->build(impl_->network.trainable());
}

const losses::LossConfig& Model::loss() const { return impl_->loss; }
std::vector<std::string> Model::metric_names() const { return impl_->trainer.metric_names(); }
std::int64_t Model::global_step() const { return impl_->trainer.global_step(); }
void Model::set_global_step(std::int64_t step) { impl_->trainer.set_global_step(step); }
std::int64_t Model::epochs_done() const { return impl_->trainer.epochs_done(); }
void Model::set_epochs_done(std::int64_t epochs) { impl_->trainer.set_epochs_done(epochs); }
std::vector<double> Model::epoch_state() const { return impl_->trainer.epoch_state(); }
void Model::set_epoch_state(std::vector<double> state) { impl_->trainer.set_epoch_state(std::move(state)); }
const StepProfile& Model::last_epoch_profile() const { return impl_->trainer.last_epoch_profile(); }

}  // namespace dtrain
