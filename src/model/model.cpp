// Model: building the graph from layers, and the training loop.
#include "dtrain/model.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/factory.hpp"
#include "dtrain/metrics.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

namespace dtrain {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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
  std::vector<std::shared_ptr<const layers::LayerNode>> nodes;  // topological
  std::vector<std::shared_ptr<layers::Layer>> layers;           // unique, in order

  graph::Graph<float> g;
  graph::NodeId input = -1, output = -1;
  std::vector<const layers::ParamSpec*> specs;  // parallel to g.parameters()

  // compile
  std::shared_ptr<optimizers::Optimizer<float>> optimizer;
  losses::LossConfig loss;
  std::vector<std::string> metric_names;
  graph::NodeId y_true = -1, loss_sum = -1;
  std::vector<optimizers::ParamRef<float>> trainable;
  std::vector<std::unique_ptr<metrics::Metric>> train_metrics, eval_metrics;

  // running
  distributed::Communicator* comm = nullptr;
  std::unique_ptr<distributed::GradientReducer> reducer;
  // Sharded optimizer step (shared-memory reducer): the elements this rank updates.
  std::vector<optimizers::ElementRange> own_share;
  int threads = 0;
  distributed::ReducerOptions reducer_options;
  std::unique_ptr<kernels::ThreadScope> scope;
  std::int64_t planned = 0;
  std::int64_t global_step = 0;
  StepProfile profile;
  double epoch_loss = 0, epoch_count = 0;  // running sums of the epoch in progress
  std::vector<double> pending_epoch_state;  // to restore when resuming inside an epoch

  int world() const { return comm ? comm->size() : 1; }
  int rank() const { return comm ? comm->rank() : 0; }

  kernels::ThreadScope& thread_scope() {
    if (!scope) scope = std::make_unique<kernels::ThreadScope>(threads);
    return *scope;
  }

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

  // Builds the graph from the layers (and the loss when compiled), keeping the
  // current weights if there are any.
  void build_graph(bool with_loss) {
    drop_reducer();
    std::vector<float> old_weights;
    if (g.size() > 0) {
      auto w = g.parameter_values();
      old_weights.assign(w.begin(), w.end());
    }
    graph::Graph<float> fresh;
    std::map<const layers::LayerNode*, graph::NodeId> ids;
    std::map<const layers::Layer*, std::vector<graph::NodeId>> params;
    specs.clear();
    for (const auto& node : nodes) {
      const auto& layer = node->layer;
      auto [it, first] = params.try_emplace(layer.get());
      if (first) {
        for (const auto& spec : layer->params()) {
          it->second.push_back(fresh.parameter(layer->name() + "/" + spec.name, spec.shape, spec.trainable));
          specs.push_back(&spec);
        }
      }
      std::vector<graph::NodeId> in;
      for (const auto& x : node->inputs) in.push_back(ids.at(x.node().get()));
      layers::CallContext<float> ctx{fresh, it->second, seed_for(seed, layer->name())};
      ids[node.get()] = layer->call(ctx, in);
    }
    input = ids.at(nodes.front().get());
    output = ids.at(nodes.back().get());
    if (with_loss) {
      y_true = fresh.input("y_true", losses::y_true_shape(loss, fresh.shape(output)));
      loss_sum = graph::sum(fresh, losses::per_sample_loss(fresh, output, y_true, loss));
    }
    g = std::move(fresh);
    planned = 0;
    auto w = g.parameter_values();
    if (old_weights.empty()) {
      initialize_weights();
    } else {
      std::copy(old_weights.begin(), old_weights.end(), w.begin());
    }
    collect_trainable();
  }

  // The optimizer's view of the trainable parameters (again whenever the graph's
  // arenas move: a shared-memory reducer keeps them in its segment).
  void collect_trainable() {
    trainable.clear();
    for (std::size_t i = 0; i < g.parameters().size(); ++i) {
      const auto& p = g.parameters()[i];
      if (!p.trainable) continue;
      auto v = g.parameter_value(i);
      auto gr = g.parameter_grad(i);
      trainable.push_back({p.name, std::span<float>(v.data, static_cast<std::size_t>(v.size())),
                           std::span<const float>(gr.data, static_cast<std::size_t>(gr.size()))});
    }
  }

  bool sharded() const { return reducer && reducer->transport() == distributed::ReduceTransport::shared_memory; }

  void make_reducer() {
    // A sharded step needs the whole gradient only to take its norm (clipping).
    auto options = reducer_options;
    const auto& common = optimizer->common_options();
    options.whole_gradients = common.clipnorm.has_value() || common.global_clipnorm.has_value();
    reducer = std::make_unique<distributed::GradientReducer>(*comm, g, options);
    own_share.clear();
    if (!sharded()) return;
    collect_trainable();
    // The reducer's share of the arena, as element ranges of each trainable variable.
    const auto share = reducer->own_share();
    std::size_t t = 0;
    for (const auto& p : g.parameters()) {
      if (!p.trainable) continue;
      for (const auto& [lo, hi] : share) {
        const auto b = std::max(lo, p.offset);
        const auto e = std::min(hi, p.offset + p.shape.numel());
        if (b < e) own_share.push_back({t, b - p.offset, e - p.offset});
      }
      ++t;
    }
  }

  // With a sharded step each rank's optimizer slots are current only on its own
  // share: every rank takes each element from its owner (a bitwise max of the
  // owner's bits and everyone else's zeros). Collective.
  void gather_optimizer_state() {
    if (!sharded() || !optimizer || !optimizer->built()) return;
    auto slots = optimizer->slots();
    const auto per_variable = optimizer->slot_names().size();
    std::vector<std::uint64_t> bits;
    for (std::size_t j = 0; j < trainable.size() * per_variable && j < slots.size(); ++j) {
      auto value = slots[j].value;
      bits.assign(value.size(), 0);
      for (const auto& r : own_share) {
        if (r.param != j / per_variable) continue;
        for (auto i = r.begin; i < r.end; ++i) bits[static_cast<std::size_t>(i)] = std::bit_cast<std::uint32_t>(value[static_cast<std::size_t>(i)]);
      }
      comm->allreduce_max(std::span<std::uint64_t>(bits), "optimizer state, from the rank that owns each element");
      for (std::size_t i = 0; i < value.size(); ++i) value[i] = std::bit_cast<float>(static_cast<std::uint32_t>(bits[i]));
    }
  }

  void drop_reducer() {
    if (!reducer) return;
    gather_optimizer_state();
    const bool moved = sharded();
    reducer.reset();
    own_share.clear();
    if (moved) collect_trainable();
  }

  void initialize_weights() {
    for (std::size_t i = 0; i < g.parameters().size(); ++i) {
      initializers::fill(specs[i]->init, g.parameter_value(i), seed_for(seed, g.parameters()[i].name));
    }
  }

  void plan(std::int64_t batch) {
    if (batch > planned) {
      g.plan(batch);
      planned = batch;
    }
  }

  void require_compiled(const char* what) const {
    if (!optimizer) throw Error(std::string("model: ") + what + " before compile()");
  }

  std::vector<std::unique_ptr<metrics::Metric>> make_metrics() const {
    std::vector<std::unique_ptr<metrics::Metric>> out;
    for (const auto& m : metric_names) out.push_back(metrics::make_metric(m, loss));
    return out;
  }

  // ---- one step -------------------------------------------------------------

  void load_batch(const Batch& b) {
    g.set_batch(b.size);
    auto x = g.value(input);
    if (x.size() != b.x.size()) {
      throw ShapeError("model: samples of shape " + b.x.shape.str() + " do not fit the model input " +
                       g.shape(input).str());
    }
    std::memcpy(x.data, b.x.data, static_cast<std::size_t>(x.size()) * sizeof(float));
    if (y_true >= 0) {
      auto y = g.value(y_true);
      if (y.size() != b.y.size()) {
        throw ShapeError("model: labels of shape " + b.y.shape.str() + " do not fit the loss '" + loss.name +
                         "', which expects " + y.shape.str());
      }
      std::memcpy(y.data, b.y.data, static_cast<std::size_t>(y.size()) * sizeof(float));
    }
  }

  // Keras adds l1·Σ|w| + l2·Σw² to the loss; here its gradient goes straight into
  // the (already averaged) gradients and the penalty is returned for the logs.
  double apply_regularizers() {
    double penalty = 0;
    for (std::size_t i = 0; i < g.parameters().size(); ++i) {
      const auto* s = specs[i];
      if ((s->l1 == 0 && s->l2 == 0) || !s->trainable) continue;
      auto w = g.parameter_value(i);
      auto gr = g.parameter_grad(i);
      for (std::int64_t k = 0; k < w.size(); ++k) {
        const float v = w.data[k];
        penalty += s->l1 * std::abs(v) + s->l2 * v * v;
        gr.data[k] += static_cast<float>(s->l1 * ((v > 0) - (v < 0)) + 2 * s->l2 * v);
      }
    }
    return penalty;
  }

  // Non-trainable state (batch-norm moving statistics) is averaged over ranks so
  // replicas stay identical.
  void sync_non_trainable() {
    if (world() < 2) return;
    for (std::size_t i = 0; i < g.parameters().size(); ++i) {
      if (g.parameters()[i].trainable) continue;
      auto v = g.parameter_value(i);
      std::span<float> s(v.data, static_cast<std::size_t>(v.size()));
      comm->allreduce_sum(s, "batch-norm moving statistics");
      for (auto& x : s) x /= static_cast<float>(world());
    }
  }

  // Returns the summed loss of this rank's samples (regularisation included).
  double train_step(const Batch& b) {
    auto t = Clock::now();
    double loss_total = 0;
    if (b.size > 0) {
      load_batch(b);
      g.set_step(static_cast<std::uint64_t>(global_step));
      g.set_row_offset(b.offset);
      g.forward(true);
      loss_total = g.value(loss_sum).data[0];
    }
    profile.forward += seconds_since(t);
    t = Clock::now();
    if (world() > 1) {
      if (!reducer) make_reducer();
      reducer->begin_step(static_cast<std::uint64_t>(global_step), b.size);
      if (b.size > 0) {
        g.backward(loss_sum, reducer.get());
      } else {
        reducer->contribute_zero();
      }
      profile.backward += seconds_since(t);
      t = Clock::now();
      reducer->finish();
      profile.allreduce_wait += seconds_since(t);
    } else {
      g.backward(loss_sum);
      const float inv = 1.0f / static_cast<float>(b.size);
      auto grads = g.parameter_grads();
      kernels::for_blocks(static_cast<std::int64_t>(grads.size()), 1 << 16, [&](std::int64_t s, std::int64_t e) {
        for (auto i = s; i < e; ++i) grads[static_cast<std::size_t>(i)] *= inv;
      });
      profile.backward += seconds_since(t);
    }
    t = Clock::now();
    const double penalty = apply_regularizers();
    if (sharded()) {
      optimizer->apply(trainable, own_share);
      reducer->share_weights(g.parameter_values());
    } else {
      optimizer->apply(trainable);
    }
    sync_non_trainable();
    profile.optimizer += seconds_since(t);
    t = Clock::now();
    if (b.size > 0) {
      for (auto& m : train_metrics) m->update(g.value(y_true), g.value(output));
    }
    profile.other += seconds_since(t);
    ++global_step;
    profile.samples += b.global_size;
    ++profile.steps;
    return loss_total + penalty * static_cast<double>(b.size);
  }

  // Sums (loss, count, metric states) over ranks and writes the figures to logs.
  void reduce_into_logs(double loss_sum_value, double count, std::vector<std::unique_ptr<metrics::Metric>>& ms,
                        Logs& logs, const std::string& prefix) {
    std::vector<double> state{loss_sum_value, count};
    std::vector<std::size_t> sizes;
    for (const auto& m : ms) {
      const auto s = m->state();
      sizes.push_back(s.size());
      state.insert(state.end(), s.begin(), s.end());
    }
    if (world() > 1) comm->allreduce_sum(std::span<double>(state), "metrics");
    logs.set(prefix + "loss", state[1] > 0 ? state[0] / state[1] : 0.0);
    std::size_t at = 2;
    for (std::size_t i = 0; i < ms.size(); ++i) {
      ms[i]->set_state(std::span<const double>(state.data() + at, sizes[i]));
      at += sizes[i];
      logs.set(prefix + ms[i]->name(), ms[i]->result());
    }
  }

  Logs evaluate(BatchSource& data) {
    plan(data.max_local_batch());
    for (auto& m : eval_metrics) m->reset();
    double total = 0, count = 0;
    data.start_epoch(0);
    for (std::int64_t s = 0; s < data.steps_per_epoch(); ++s) {
      const Batch& b = data.next();
      if (b.size == 0) continue;
      load_batch(b);
      g.forward(false);
      total += g.value(loss_sum).data[0];
      count += static_cast<double>(b.size);
      for (auto& m : eval_metrics) m->update(g.value(y_true), g.value(output));
    }
    Logs logs;
    reduce_into_logs(total, count, eval_metrics, logs, "");
    return logs;
  }
};

// ---- construction ---------------------------------------------------------------

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Model::Model(const layers::SymbolicTensor& input, const layers::SymbolicTensor& output, std::string name,
             std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.name = std::move(name);
  im.seed = seed;
  std::set<const layers::LayerNode*> seen;
  visit(output.node(), seen, im.nodes);
  if (im.nodes.empty() || im.nodes.front() != input.node()) {
    throw ArgumentError("model '" + im.name + "': the output does not depend on the given input");
  }
  for (const auto& n : im.nodes) {
    if (n->layer->type() == "InputLayer" && n != input.node()) {
      throw ArgumentError("model '" + im.name + "': the output depends on a second Input (one input is supported)");
    }
    if (std::find(im.layers.begin(), im.layers.end(), n->layer) == im.layers.end()) im.layers.push_back(n->layer);
  }
  im.name_layers();
  im.build_graph(false);
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
  for (const auto& n : impl_->nodes) {
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

std::int64_t Model::count_params() const {
  std::int64_t n = 0;
  for (const auto& l : impl_->layers) n += l->param_count();
  return n;
}

Shape Model::input_shape() const { return impl_->nodes.front()->shape; }
Shape Model::output_shape() const { return impl_->nodes.back()->shape; }

void Model::compile(CompileOptions o) {
  auto& im = *impl_;
  if (!o.optimizer) throw ArgumentError("compile: an optimizer is required");
  im.loss = losses::validate(o.loss);
  im.optimizer = std::move(o.optimizer);
  im.metric_names = o.metrics;
  im.train_metrics = im.make_metrics();  // validates the names
  im.eval_metrics = im.make_metrics();
  im.build_graph(true);
}

bool Model::compiled() const { return impl_->optimizer != nullptr; }

// ---- fit / evaluate / predict ----------------------------------------------------

History Model::fit(BatchSource& train, FitOptions o) {
  auto& im = *impl_;
  im.require_compiled("fit()");
  if (o.epochs <= o.initial_epoch) {
    throw ArgumentError("fit: epochs (" + std::to_string(o.epochs) + ") must exceed initial_epoch (" +
                        std::to_string(o.initial_epoch) + ")");
  }
  auto history = std::make_shared<History>();
  CallbackList callbacks{history};
  callbacks.insert(callbacks.end(), o.callbacks.begin(), o.callbacks.end());
  if (o.verbose > 0 && im.rank() == 0) callbacks.push_back(std::make_shared<ProgbarLogger>(o.verbose, *o.out));
  for (auto& c : callbacks) {
    c->set_model(this);
    c->set_params({o.epochs, train.steps_per_epoch(), o.verbose});
  }

  im.thread_scope().run([&] {
    im.plan(std::max(train.max_local_batch(), o.validation ? o.validation->max_local_batch() : 0));
    stop_training = false;
    interrupted = false;
    for (auto& c : callbacks) c->on_train_begin();
    Logs logs;
    for (std::int64_t epoch = o.initial_epoch; epoch < o.epochs && !stop_training; ++epoch) {
      for (auto& c : callbacks) c->on_epoch_begin(epoch);
      for (auto& m : im.train_metrics) m->reset();
      im.profile = {};
      const auto epoch_start = Clock::now();
      const std::int64_t first = epoch == o.initial_epoch ? o.initial_step : 0;
      train.start_epoch(epoch, first);
      im.epoch_loss = im.epoch_count = 0;
      if (first > 0 && !im.pending_epoch_state.empty()) set_epoch_state(im.pending_epoch_state);
      im.pending_epoch_state.clear();
      for (std::int64_t s = first; s < train.steps_per_epoch(); ++s) {
        auto t = Clock::now();
        const Batch& b = train.next();
        im.profile.data += seconds_since(t);
        im.epoch_loss += im.train_step(b);
        im.epoch_count += static_cast<double>(b.size);
        Logs running;
        running.set("loss", im.epoch_count > 0 ? im.epoch_loss / im.epoch_count : 0.0);
        for (const auto& m : im.train_metrics) running.set(m->name(), m->result());
        for (auto& c : callbacks) c->on_train_batch_end(s, running);
        if (stop_training || interrupted) break;
      }
      if (interrupted) return;
      logs = Logs();
      im.reduce_into_logs(im.epoch_loss, im.epoch_count, im.train_metrics, logs, "");
      if (o.validation) {
        const auto val = im.evaluate(*o.validation);
        for (const auto& [k, v] : val.items()) logs.set("val_" + k, v);
      }
      logs.set("learning_rate", im.optimizer->learning_rate());
      if (o.profile && im.rank() == 0) {
        const auto& p = im.profile;
        const double wall = seconds_since(epoch_start);
        auto pct = [&](double x) { return std::to_string(static_cast<int>(std::lround(100 * x / std::max(1e-9, wall)))) + "%"; };
        *o.out << "profile epoch " << epoch + 1 << ": data " << pct(p.data) << ", forward " << pct(p.forward)
               << ", backward " << pct(p.backward) << ", all-reduce wait " << pct(p.allreduce_wait) << ", optimizer "
               << pct(p.optimizer) << ", metrics " << pct(p.other) << "; "
               << static_cast<std::int64_t>(static_cast<double>(p.samples) / std::max(1e-9, p.total()))
               << " samples/s\n";
      }
      for (auto& c : callbacks) c->on_epoch_end(epoch, logs);
    }
    for (auto& c : callbacks) c->on_train_end(logs);
  });
  return *history;
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
  ArrayBatchOptions bo{o.batch_size, o.shuffle, o.seed, impl_->rank(), impl_->world()};
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
  Logs logs;
  impl_->thread_scope().run([&] { logs = impl_->evaluate(data); });
  return logs;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, std::int64_t batch_size) {
  ArrayBatchSource data(x, y, {batch_size, false, 0, impl_->rank(), impl_->world()});
  return evaluate(data);
}

Tensor Model::predict(const Tensor& x, std::int64_t batch_size) {
  auto& im = *impl_;
  const Shape in = im.g.shape(im.input);
  Shape expected = in;
  expected[0] = x.shape().rank() > 0 ? x.shape()[0] : 0;
  if (!(x.shape() == expected)) {
    throw ShapeError("predict: x has shape " + x.shape().str() + ", the model expects " + in.str());
  }
  if (batch_size <= 0) throw ArgumentError("predict: batch_size must be positive");
  Shape out_shape = im.g.shape(im.output);
  out_shape[0] = expected[0];
  Tensor out(out_shape);
  im.thread_scope().run([&] {
    im.plan(batch_size);
    const auto in_inner = in.inner(), out_inner = out_shape.inner();
    for (std::int64_t b = 0; b < expected[0]; b += batch_size) {
      const auto n = std::min(batch_size, expected[0] - b);
      im.g.set_batch(n);
      std::memcpy(im.g.value(im.input).data, x.data() + b * in_inner, static_cast<std::size_t>(n * in_inner) * sizeof(float));
      im.g.forward(false, im.output);
      std::memcpy(out.data() + b * out_inner, im.g.value(im.output).data,
                  static_cast<std::size_t>(n * out_inner) * sizeof(float));
    }
  });
  return out;
}

// ---- accessors -------------------------------------------------------------------

void Model::set_communicator(distributed::Communicator* comm) {
  impl_->drop_reducer();
  impl_->comm = comm;
}
distributed::Communicator* Model::communicator() const { return impl_->comm; }

void Model::gather_optimizer_state() { impl_->gather_optimizer_state(); }

void Model::set_bucket_bytes(std::size_t bytes) {
  impl_->drop_reducer();
  impl_->reducer_options.bucket_bytes = bytes;
}

void Model::set_reduce_transport(distributed::ReduceTransport transport) {
  impl_->drop_reducer();
  impl_->reducer_options.transport = transport;
}

void Model::set_threads(int threads) {
  impl_->threads = threads;
  impl_->scope.reset();
}
int Model::threads() const {
  if (impl_->scope) return impl_->scope->threads();
  return impl_->threads > 0 ? impl_->threads : kernels::available_cores();
}

std::span<float> Model::weights() { return impl_->g.parameter_values(); }
const std::vector<graph::ParameterInfo>& Model::parameters() const { return impl_->g.parameters(); }

View<float> Model::weight(const std::string& name) {
  const auto& ps = impl_->g.parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].name == name) return impl_->g.parameter_value(i);
  }
  throw ArgumentError("model '" + impl_->name + "': no weight named '" + name + "'");
}

void Model::save_weights(const std::string& path) {
  checkpoint::CheckpointState s;
  s.model.name = impl_->name;
  s.model.seed = impl_->seed;
  s.model.config_json = "{}";
  for (const auto& p : parameters()) {
    const auto v = weight(p.name);
    s.model.weights.push_back({p.name, p.shape.to_vector(), std::vector<float>(v.data, v.data + v.size()), p.trainable});
  }
  checkpoint::save_checkpoint(path, s);
}

void Model::load_weights(const std::string& path) {
  const auto s = checkpoint::load_checkpoint(path);
  std::vector<checkpoint::WeightSpec> expected;
  for (const auto& p : parameters()) expected.push_back({p.name, p.shape.to_vector()});
  checkpoint::verify_weights(s, expected, path);
  for (const auto& w : s.model.weights) std::copy(w.data.begin(), w.data.end(), weight(w.name).data);
}

optimizers::Optimizer<float>& Model::optimizer() {
  impl_->require_compiled("optimizer()");
  return *impl_->optimizer;
}
void Model::build_optimizer() {
  impl_->require_compiled("build_optimizer()");
  if (!impl_->optimizer->built()) impl_->optimizer->build(impl_->trainable);
}

const losses::LossConfig& Model::loss() const { return impl_->loss; }
std::vector<std::string> Model::metric_names() const {
  std::vector<std::string> out;
  for (const auto& m : impl_->train_metrics) out.push_back(m->name());
  return out;
}
std::int64_t Model::global_step() const { return impl_->global_step; }

std::vector<double> Model::epoch_state() const {
  std::vector<double> out{impl_->epoch_loss, impl_->epoch_count};
  for (const auto& m : impl_->train_metrics) {
    const auto s = m->state();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Model::set_epoch_state(std::vector<double> state) {
  auto& im = *impl_;
  std::size_t need = 2;
  for (const auto& m : im.train_metrics) need += m->state_size();
  if (state.size() != need) {
    throw ArgumentError("model: epoch state has " + std::to_string(state.size()) + " values, expected " +
                        std::to_string(need) + " (different metrics?)");
  }
  im.pending_epoch_state = state;  // fit applies it again after resetting the metrics
  im.epoch_loss = state[0];
  im.epoch_count = state[1];
  std::size_t at = 2;
  for (auto& m : im.train_metrics) {
    m->set_state(std::span<const double>(state.data() + at, m->state_size()));
    at += m->state_size();
  }
}
void Model::set_global_step(std::int64_t step) { impl_->global_step = step; }
const StepProfile& Model::last_epoch_profile() const { return impl_->profile; }

}  // namespace dtrain

// ---- summary ---------------------------------------------------------------------

namespace dtrain {
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

std::string Model::summary() const {
  const auto& im = *impl_;
  bool chain = true;
  for (std::size_t i = 1; i < im.nodes.size(); ++i) {
    chain = chain && im.nodes[i]->inputs.size() == 1 && im.nodes[i]->inputs[0].node() == im.nodes[i - 1];
  }
  const std::size_t w1 = 34, w2 = 25, w3 = 13, w4 = chain ? 0 : 24;
  const std::string rule(w1 + w2 + w3 + w4, '_'), double_rule(w1 + w2 + w3 + w4, '=');
  std::ostringstream out;
  out << "Model: \"" << im.name << "\"\n" << rule << "\n";
  out << cell(" Layer (type)", w1) << cell("Output Shape", w2) << cell("Param #", w3)
      << (chain ? "" : "Connected to") << "\n" << double_rule << "\n";
  std::set<const layers::Layer*> counted;
  for (const auto& node : im.nodes) {
    const auto& l = *node->layer;
    std::string inbound;
    for (const auto& in : node->inputs) inbound += (inbound.empty() ? "" : ", ") + in.node()->layer->name();
    const bool first = counted.insert(&l).second;
    out << cell(" " + l.name() + " (" + l.type() + ")", w1) << cell(keras_shape(node->shape), w2)
        << cell(first ? std::to_string(l.param_count()) : "0", w3) << (chain ? "" : inbound) << "\n";
  }
  std::int64_t trainable = 0, frozen = 0;
  for (const auto& p : im.g.parameters()) (p.trainable ? trainable : frozen) += p.shape.numel();
  out << double_rule << "\n";
  out << "Total params: " << with_commas(trainable + frozen) << "\n";
  out << "Trainable params: " << with_commas(trainable) << "\n";
  out << "Non-trainable params: " << with_commas(frozen) << "\n" << rule << "\n";
  return out.str();
}

}  // namespace dtrain
