#include "run_config.hpp"

#include "dtrain/model/validation.hpp"
#include "dtrain/optimizers/schedules.hpp"

#include <nlohmann/json.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

namespace dtrain::cli {
namespace {

// Every error says where: "<file>:<line>: <key>: <message>", or for a value
// from the command line "--set NAME=VALUE: <key>: <message>".
class Reader {
 public:
  Reader(std::string file, std::vector<std::string> overrides)
      : file_(std::move(file)), overrides_(std::move(overrides)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& msg) const {
    if (const auto* o = override_of(at, key)) throw ConfigError("--set " + *o + ": " + key + ": " + msg);
    const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
    throw ConfigError(file_ + ":" + std::to_string(line) + ": " + key + ": " + msg);
  }

  // A key given twice in one mapping, anywhere in the file: YAML (yaml-cpp)
  // would silently keep the first.
  void check_unique(const YAML::Node& node, const std::string& where) const {
    if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) check_unique(node[i], where + "[" + std::to_string(i) + "]");
    }
    if (!node.IsMap()) return;
    std::map<std::string, int> seen;  // key -> line
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) continue;
      const auto key = kv.first.Scalar();
      const int line = kv.first.Mark().line + 1;
      if (const auto it = seen.find(key); it != seen.end()) {
        throw ConfigError(file_ + ":" + std::to_string(line) + ": " + join(where, key) +
                          ": given twice in one mapping (also on line " + std::to_string(it->second) +
                          "); remove one");
      }
      seen.emplace(key, line);
      check_unique(kv.second, join(where, key));
    }
  }

  void allow(const YAML::Node& map, const std::string& where, const std::vector<std::string>& keys) const {
    if (!map) return;
    if (!map.IsMap()) fail(map, where, "must be a mapping");
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string list;
        for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
        fail(kv.first, join(where, key), "unknown key (valid here: " + list + ")");
      }
    }
  }

  template <class T>
  T get(const YAML::Node& map, const std::string& where, const std::string& key, T fallback) const {
    if (!map || !map.IsMap()) return fallback;
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return fallback;
    if (!node.IsScalar()) fail(node, join(where, key), "must be a single value");
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      fail(node, join(where, key), std::string("must be ") + type_name<T>() + ", got '" + node.Scalar() + "'");
    }
  }

  static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

 private:
  // The --set that gave `key` (or a mapping above it), or a mapping that an
  // override created above its key, which has no place in the file.
  const std::string* override_of(const YAML::Node& at, const std::string& key) const {
    if (const auto* o = cli::override_of(overrides_, key)) return o;
    if (!at.Mark().is_null()) return nullptr;
    const std::string* found = nullptr;
    for (const auto& o : overrides_) {
      if (o.substr(0, o.find('=')).starts_with(key + ".")) found = &o;
    }
    return found;
  }
  template <class T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_integral_v<T>) return "an integer";
    if constexpr (std::is_floating_point_v<T>) return "a number";
    return "text";
  }
  std::string file_;
  std::vector<std::string> overrides_;
};

// A YAML scalar or list as a Config value: bool, int, double, else text.
ConfigValue to_value(const Reader& r, const YAML::Node& n, const std::string& key) {
  auto scalar = [&](const YAML::Node& s) -> ConfigValue {
    const auto& text = s.Scalar();
    if (s.Tag() != "!" && (text == "true" || text == "false")) return text == "true";
    try {
      std::size_t used = 0;
      const long long i = std::stoll(text, &used);
      if (used == text.size()) return static_cast<std::int64_t>(i);
    } catch (...) {
    }
    try {
      std::size_t used = 0;
      const double d = std::stod(text, &used);
      if (used == text.size()) return d;
    } catch (...) {
    }
    return text;
  };
  if (n.IsScalar()) return scalar(n);
  if (n.IsSequence()) {
    std::vector<std::int64_t> ints;
    std::vector<double> doubles;
    bool all_int = true;
    for (const auto& e : n) {
      if (!e.IsScalar()) r.fail(e, key, "lists may hold numbers only");
      const auto v = scalar(e);
      if (auto p = std::get_if<std::int64_t>(&v)) {
        ints.push_back(*p);
        doubles.push_back(static_cast<double>(*p));
      } else if (auto d = std::get_if<double>(&v)) {
        all_int = false;
        doubles.push_back(*d);
      } else {
        r.fail(e, key, "lists may hold numbers only");
      }
    }
    if (all_int) return ints;
    return doubles;
  }
  r.fail(n, key, "must be a value or a list of numbers");
}

Config to_config(const Reader& r, const YAML::Node& map, const std::string& where,
                 const std::set<std::string>& skip = {}) {
  Config c;
  if (!map || map.IsNull()) return c;
  if (!map.IsMap()) r.fail(map, where, "must be a mapping of arguments");
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (skip.count(key)) continue;
    c.set(key, to_value(r, kv.second, Reader::join(where, key)));
  }
  return c;
}

// Applies "a.b.c=value" to the YAML tree (creating maps on the way).
void apply_override(YAML::Node root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set " + assignment + ": expected key=value, e.g. fit.epochs=3");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (text.find_first_not_of(" \t") == std::string::npos) {
    throw ConfigError("--set " + assignment + ": no value after '=' (e.g. " + path +
                      "=3; leave the --set out to keep the config's value)");
  }
  YAML::Node value = YAML::Load(text);
  std::vector<std::string> keys;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    keys.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::vector<YAML::Node> chain{root};
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[keys[i]];
    }
    if (!next.IsMap()) throw ConfigError("--set " + assignment + ": '" + keys[i] + "' is not a mapping");
    chain.push_back(next);
  }
  chain.back()[keys.back()] = value;
}

std::vector<LayerRecord> read_layers(const Reader& r, const YAML::Node& model) {
  std::vector<LayerRecord> out;
  out.push_back({"InputLayer", Config().set("name", "input"), {}});
  const bool sequential = static_cast<bool>(model["layers"]);
  const auto list = sequential ? model["layers"] : model["nodes"];
  if (!list || !list.IsSequence() || list.size() == 0) {
    r.fail(model, "model", "needs 'layers' (a list, for a Sequential model) or 'nodes' (a DAG)");
  }
  if (model["layers"] && model["nodes"]) r.fail(model, "model", "give either 'layers' or 'nodes', not both");
  std::set<std::string> names{"input"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto item = list[i];
    const std::string where = std::string(sequential ? "model.layers[" : "model.nodes[") + std::to_string(i) + "]";
    if (!item.IsMap()) r.fail(item, where, "must be a mapping, e.g. {Dense: {units: 10}}");
    LayerRecord rec;
    YAML::Node args;
    if (item["type"]) {
      rec.type = r.get<std::string>(item, where, "type", "");
      args = item;
    } else if (item.size() == 1) {
      rec.type = item.begin()->first.as<std::string>();
      args = item.begin()->second;
    } else {
      r.fail(item, where, "needs a 'type' key or a single {Type: {arguments}} entry");
    }
    const auto types = layer_types();
    if (std::find(types.begin(), types.end(), rec.type) == types.end() || rec.type == "InputLayer") {
      std::string list_text;
      for (const auto& t : types) list_text += (t == "InputLayer" ? "" : (list_text.empty() ? "" : ", ") + t);
      r.fail(item, where, "unknown layer type '" + rec.type + "' (valid: " + list_text + ")");
    }
    rec.config = to_config(r, args, where + "." + rec.type, {"type", "inputs"});
    if (sequential) {
      rec.inbound = {out.back().config.get_string("name", "")};
      if (!rec.config.has("name")) {
        // Names are given here (Keras would name them later) so that inbound
        // references are known; the same scheme as Model's automatic names.
        const std::string base = default_layer_name(rec.type);
        std::string name = base;
        for (int k = 1; names.count(name); ++k) name = base + "_" + std::to_string(k);
        rec.config.set("name", name);
      }
    } else {
      if (!rec.config.has("name")) r.fail(item, where, "every node of a DAG needs a 'name'");
      const auto inputs = args["inputs"];
      if (!inputs || !inputs.IsSequence() || inputs.size() == 0) {
        r.fail(item, where + ".inputs", "a list of node names (or 'input')");
      }
      for (const auto& in : inputs) {
        const auto src = in.as<std::string>();
        if (!names.count(src)) r.fail(in, where + ".inputs", "no node named '" + src + "' before this one");
        rec.inbound.push_back(src);
      }
    }
    const auto name = rec.config.get_string("name", where);
    if (!names.insert(name).second) r.fail(item, where + ".name", "the name '" + name + "' is used twice");
    try {
      check_layer(rec);  // every argument now
    } catch (const ArgumentError& e) {
      r.fail(item, where, e.what());
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// A YAML value as an optimizer or schedule option (integers as numbers: the
// readers take integral numbers where Keras wants an int).
optimizers::OptionValue to_option(const Reader& r, const YAML::Node& n, const std::string& key) {
  const auto v = to_value(r, n, key);
  if (auto i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto il = std::get_if<std::vector<std::int64_t>>(&v)) return std::vector<double>(il->begin(), il->end());
  return v;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// compile.optimizer.learning_rate as a mapping: a Keras learning-rate schedule,
//   learning_rate: {schedule: CosineDecay, initial_learning_rate: 0.0, decay_steps: 1000,
//                   warmup_target: 0.001, warmup_steps: 100}
// `schedule` is the Keras class name; the other keys are its arguments.
optimizers::ScheduleConfig read_schedule(const Reader& r, const YAML::Node& node) {
  const std::string where = "compile.optimizer.learning_rate";
  const auto names = optimizers::schedule_names();
  const auto name_node = node["schedule"];
  if (!name_node || !name_node.IsScalar()) {
    r.fail(node, where + ".schedule", "missing: a learning-rate schedule needs its Keras class name (valid: " +
                                         joined(names) + ")");
  }
  const auto given = name_node.Scalar();
  const auto known = std::find_if(names.begin(), names.end(), [&](const std::string& n) { return lower(n) == lower(given); });
  if (known == names.end()) {
    r.fail(name_node, where + ".schedule", "unknown learning-rate schedule '" + given + "' (valid: " + joined(names) + ")");
  }
  const auto args = optimizers::schedule_arguments(*known);
  std::vector<std::string> valid = args.required;
  valid.insert(valid.end(), args.optional.begin(), args.optional.end());
  optimizers::ScheduleConfig c{args.name, {}};
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (key == "schedule") continue;
    if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
      r.fail(kv.first, where + "." + key, "not an argument of " + args.name + " (valid: schedule, " + joined(valid) + ")");
    }
    c.options[key] = to_option(r, kv.second, where + "." + key);
  }
  for (const auto& key : args.required) {
    if (!c.options.count(key)) {
      r.fail(node, where + "." + key, "missing: " + args.name + " needs " + joined(args.required));
    }
  }
  try {
    optimizers::make_schedule(c);  // every value
  } catch (const ArgumentError& e) {
    // Point at the argument the message names, if it names one.
    const std::string m = e.what();
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      if (m.find('`' + key + '`') != std::string::npos || m.find('"' + key + '"') != std::string::npos) {
        r.fail(kv.second, where + "." + key, m);
      }
    }
    r.fail(node, where, m);
  }
  return c;
}

optimizers::OptimizerConfig read_optimizer(const Reader& r, const YAML::Node& node) {
  optimizers::OptimizerConfig c;
  if (!node) {
    c.name = "adam";
    return c;
  }
  if (node.IsScalar()) {
    c.name = node.as<std::string>();
  } else {
    if (!node.IsMap() || !node["name"]) r.fail(node, "compile.optimizer", "needs a 'name' (e.g. adam)");
    c.name = node["name"].as<std::string>();
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      if (key == "name") continue;
      if (key == "learning_rate" && kv.second.IsMap()) {
        c.learning_rate_schedule = read_schedule(r, kv.second);
        continue;
      }
      if (key == "exclude_from_weight_decay") {
        // Keras' exclude_from_weight_decay(var_names=[...]): parts of variable names.
        const auto& list = kv.second;
        const auto where = "compile.optimizer.exclude_from_weight_decay";
        if (list.IsScalar()) {
          c.exclude_from_weight_decay.push_back(list.Scalar());
        } else if (list.IsSequence()) {
          for (const auto& e : list) {
            if (!e.IsScalar()) r.fail(e, where, "must be a list of names, e.g. [bias, gamma]");
            c.exclude_from_weight_decay.push_back(e.Scalar());
          }
        } else {
          r.fail(list, where, "must be a list of names, e.g. [bias, gamma]");
        }
        for (const auto& part : c.exclude_from_weight_decay) {
          if (part.empty()) r.fail(list, where, "an empty name would exclude every variable");
        }
        continue;
      }
      c.options[key] = to_option(r, kv.second, "compile.optimizer." + key);
    }
  }
  try {
    check_optimizer(c);  // the name and every option
  } catch (const ArgumentError& e) {
    r.fail(node, "compile.optimizer", e.what());
  }
  return c;
}

}  // namespace

bool key_under(const std::string& key, const std::string& prefix) {
  return key == prefix || key.starts_with(prefix + ".") || key.starts_with(prefix + "[");
}

const std::string* override_of(const std::vector<std::string>& overrides, const std::string& key) {
  const std::string* found = nullptr;
  for (const auto& o : overrides) {
    if (key_under(key, o.substr(0, o.find('=')))) found = &o;
  }
  return found;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (!std::filesystem::exists(path)) throw ConfigError(path + ": no such config file");
  if (std::filesystem::is_directory(path)) throw ConfigError(path + ": is a directory, not a config file");
  if (!std::ifstream(path)) throw ConfigError(path + ": cannot be read (permissions?)");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw ConfigError(path + ": the config must be a mapping with data, model, compile, fit");
  const Reader r(path, overrides);
  r.check_unique(root, "");
  for (const auto& o : overrides) apply_override(root, o);
  RunConfig c;
  c.path = path;
  c.overrides = overrides;
  r.allow(root, "", {"seed", "threads", "run_dir", "data", "model", "compile", "fit", "checkpoint", "distributed"});
  c.seed = r.get<std::uint64_t>(root, "", "seed", 0);
  c.threads = r.get<int>(root, "", "threads", 0);
  if (c.threads < 0) r.fail(root["threads"], "threads", "must be 0 (the cores given to the rank) or more");
  c.run_dir = r.get<std::string>(root, "", "run_dir", "runs/" + std::filesystem::path(path).stem().string());

  const auto data = root["data"];
  if (!data) r.fail(root, "data", "missing (data.file names the HDF5 dataset)");
  r.allow(data, "data", {"file", "train", "validation", "test", "batch_size", "shuffle"});
  c.data.file = r.get<std::string>(data, "data", "file", "");
  if (c.data.file.empty()) r.fail(data, "data.file", "missing: the HDF5 dataset to train on");
  c.data.train = r.get<std::string>(data, "data", "train", "train");
  c.data.validation = r.get<std::string>(data, "data", "validation", "");
  c.data.test = r.get<std::string>(data, "data", "test", "test");
  c.data.batch_size = r.get<std::int64_t>(data, "data", "batch_size", 32);
  if (c.data.batch_size <= 0) r.fail(data["batch_size"], "data.batch_size", "must be positive");
  c.data.shuffle = r.get<bool>(data, "data", "shuffle", true);

  const auto model = root["model"];
  if (!model) r.fail(root, "model", "missing");
  r.allow(model, "model", {"name", "layers", "nodes"});
  c.model_name = r.get<std::string>(model, "model", "name", "model");
  c.layers = read_layers(r, model);

  const auto compile = root["compile"];
  if (!compile) r.fail(root, "compile", "missing (loss and optimizer)");
  r.allow(compile, "compile", {"loss", "from_logits", "label_smoothing", "delta", "optimizer", "metrics"});
  try {
    c.loss = losses::parse_loss(r.get<std::string>(compile, "compile", "loss", ""));
  } catch (const ArgumentError& e) {
    r.fail(compile["loss"] ? compile["loss"] : compile, "compile.loss", e.what());
  }
  c.loss.from_logits = r.get<bool>(compile, "compile", "from_logits", false);
  c.loss.label_smoothing = r.get<double>(compile, "compile", "label_smoothing", 0.0);
  c.loss.delta = r.get<double>(compile, "compile", "delta", 1.0);
  try {
    c.loss = losses::validate(c.loss);
  } catch (const ArgumentError& e) {
    r.fail(compile, "compile", e.what());
  }
  c.optimizer = read_optimizer(r, compile["optimizer"]);
  if (const auto m = compile["metrics"]) {
    if (!m.IsSequence()) r.fail(m, "compile.metrics", "must be a list, e.g. [accuracy]");
    for (const auto& e : m) {
      const auto name = e.as<std::string>();
      try {
        check_metric(name, c.loss);
      } catch (const ArgumentError& err) {
        r.fail(e, "compile.metrics", err.what());
      }
      c.metrics.push_back(name);
    }
  }

  const auto fit = root["fit"];
  r.allow(fit, "fit", {"epochs", "verbose", "callbacks"});
  c.epochs = r.get<std::int64_t>(fit, "fit", "epochs", 1);
  if (c.epochs <= 0) r.fail(fit["epochs"], "fit.epochs", "must be positive");
  c.verbose = r.get<int>(fit, "fit", "verbose", -1);
  if (fit && fit["callbacks"]) {  // (a default YAML::Node is a defined null, so no ?: here)
    const auto cbs = fit["callbacks"];
    if (!cbs.IsSequence()) r.fail(cbs, "fit.callbacks", "must be a list");
    for (std::size_t i = 0; i < cbs.size(); ++i) {
      const auto item = cbs[i];
      const auto where = "fit.callbacks[" + std::to_string(i) + "]";
      if (!item.IsMap() || item.size() != 1) r.fail(item, where, "must be {Name: {arguments}}");
      CallbackSpec spec{item.begin()->first.as<std::string>(), to_config(r, item.begin()->second, where), item.Mark().line + 1};
      const auto known = callback_types();
      if (std::find(known.begin(), known.end(), spec.type) == known.end()) {
        r.fail(item, where, "unknown callback '" + spec.type + "' (valid: EarlyStopping, ReduceLROnPlateau, TerminateOnNaN)");
      }
      c.callbacks.push_back(std::move(spec));
    }
  }

  const auto ckpt = root["checkpoint"];
  r.allow(ckpt, "checkpoint", {"every_steps", "every_epoch", "keep", "monitor", "mode"});
  // Left out: no step checkpoints (per epoch, at the end and on a signal only).
  constexpr auto kNotGiven = std::numeric_limits<std::int64_t>::min();
  c.checkpoint_every_steps = r.get<std::int64_t>(ckpt, "checkpoint", "every_steps", kNotGiven);
  if (c.checkpoint_every_steps == kNotGiven) {
    c.checkpoint_every_steps = 0;
  } else if (c.checkpoint_every_steps < 1) {
    r.fail(ckpt["every_steps"], "checkpoint.every_steps",
           "must be at least 1 (leave it out for no checkpoints between epochs)");
  }
  c.checkpoint_every_epoch = r.get<bool>(ckpt, "checkpoint", "every_epoch", true);
  c.checkpoint_keep = r.get<int>(ckpt, "checkpoint", "keep", 3);
  if (c.checkpoint_keep < 1) r.fail(ckpt["keep"], "checkpoint.keep", "must be at least 1");
  c.checkpoint_monitor = r.get<std::string>(ckpt, "checkpoint", "monitor", "");
  c.checkpoint_mode = r.get<std::string>(ckpt, "checkpoint", "mode", "auto");

  const auto dist = root["distributed"];
  r.allow(dist, "distributed", {"replica_check_every", "stall_timeout", "bucket_mib", "transport"});
  c.replica_check_every = r.get<std::int64_t>(dist, "distributed", "replica_check_every", 100);
  c.stall_timeout = r.get<double>(dist, "distributed", "stall_timeout", 300);
  if (!(c.stall_timeout > 0)) r.fail(dist["stall_timeout"], "distributed.stall_timeout", "must be positive");
  const double mib = r.get<double>(dist, "distributed", "bucket_mib",
                                     static_cast<double>(distributed::kDefaultBucketBytes) / (1 << 20));
  if (!(mib > 0 && mib <= 16)) r.fail(dist["bucket_mib"], "distributed.bucket_mib", "must be in (0, 16]");
  c.bucket_bytes = static_cast<std::size_t>(mib * 1024 * 1024);
  const auto transport = r.get<std::string>(dist, "distributed", "transport", "auto");
  if (transport == "auto") {
    c.transport = distributed::ReduceTransport::automatic;
  } else if (transport == "mpi") {
    c.transport = distributed::ReduceTransport::mpi;
  } else if (transport == "shared_memory") {
    c.transport = distributed::ReduceTransport::shared_memory;
  } else {
    r.fail(dist["transport"], "distributed.transport", "must be auto, mpi or shared_memory, got '" + transport + "'");
  }
  return c;
}

std::string setting_text(double v) {
  char buf[400];  // the longest fixed text is ~330 characters
  const bool fixed = v == 0 || (std::abs(v) >= 1e-6 && std::abs(v) < 1e15);  // 0.0005, not 5e-04
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v, fixed ? std::chars_format::fixed
                                                                         : std::chars_format::scientific).ptr);
}

namespace {

std::string text(double v) { return setting_text(v); }
std::string text(bool v) { return v ? "true" : "false"; }
std::string text(const ConfigValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) return text(x);
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>) return text(x);
        else if constexpr (std::is_same_v<T, std::string>) return x;
        else {
          std::string out = "[";
          for (const auto& e : x) out += (out.size() > 1 ? ", " : "") + text(ConfigValue(e));
          return out + "]";
        }
      },
      v);
}

}  // namespace

std::map<std::string, std::string> settings(const RunConfig& c) {
  std::map<std::string, std::string> s;
  s["seed"] = std::to_string(c.seed);
  s["threads"] = std::to_string(c.threads);
  s["run_dir"] = c.run_dir;
  s["data.file"] = c.data.file;
  s["data.train"] = c.data.train;
  s["data.validation"] = c.data.validation;
  s["data.test"] = c.data.test;
  s["data.batch_size"] = std::to_string(c.data.batch_size);
  s["data.shuffle"] = text(c.data.shuffle);
  s["model.name"] = c.model_name;
  for (std::size_t i = 1; i < c.layers.size(); ++i) {  // layers[0] is the InputLayer made from the data
    const auto key = "model.layers[" + std::to_string(i - 1) + "].";
    s[key + "type"] = c.layers[i].type;
    for (const auto& [k, v] : c.layers[i].config.values()) s[key + k] = text(v);
    std::string inputs;
    for (const auto& in : c.layers[i].inbound) inputs += (inputs.empty() ? "" : ", ") + in;
    s[key + "inputs"] = inputs;
  }
  s["compile.loss"] = c.loss.name;
  s["compile.from_logits"] = text(c.loss.from_logits);
  s["compile.label_smoothing"] = text(c.loss.label_smoothing);
  s["compile.delta"] = text(c.loss.delta);
  s["compile.optimizer.name"] = c.optimizer.name;
  for (const auto& [k, v] : c.optimizer.options) s["compile.optimizer." + k] = text(v);
  // A schedule with every argument, Keras' defaults included (so that writing a
  // default out is no change); keys exist only when set, as in older checkpoints.
  if (const auto& sc = c.optimizer.learning_rate_schedule) {
    const auto resolved = optimizers::make_schedule(*sc)->config();
    s["compile.optimizer.learning_rate.schedule"] = resolved.name;
    for (const auto& [k, v] : resolved.options) s["compile.optimizer.learning_rate." + k] = text(v);
  }
  if (!c.optimizer.exclude_from_weight_decay.empty()) {
    std::string names;
    for (const auto& n : c.optimizer.exclude_from_weight_decay) names += (names.empty() ? "" : ", ") + n;
    s["compile.optimizer.exclude_from_weight_decay"] = "[" + names + "]";
  }
  std::string metrics;
  for (const auto& m : c.metrics) metrics += (metrics.empty() ? "" : ", ") + m;
  s["compile.metrics"] = "[" + metrics + "]";
  s["fit.epochs"] = std::to_string(c.epochs);
  s["fit.verbose"] = std::to_string(c.verbose);
  for (std::size_t i = 0; i < c.callbacks.size(); ++i) {
    const auto key = "fit.callbacks[" + std::to_string(i) + "].";
    s[key + "type"] = c.callbacks[i].type;
    for (const auto& [k, v] : c.callbacks[i].args.values()) s[key + k] = text(v);
  }
  s["checkpoint.every_steps"] = std::to_string(c.checkpoint_every_steps);
  s["checkpoint.every_epoch"] = text(c.checkpoint_every_epoch);
  s["checkpoint.keep"] = std::to_string(c.checkpoint_keep);
  s["checkpoint.monitor"] = c.checkpoint_monitor;
  s["checkpoint.mode"] = c.checkpoint_mode;
  s["distributed.replica_check_every"] = std::to_string(c.replica_check_every);
  s["distributed.stall_timeout"] = text(c.stall_timeout);
  s["distributed.bucket_mib"] = text(static_cast<double>(c.bucket_bytes) / (1 << 20));
  s["distributed.transport"] = c.transport == distributed::ReduceTransport::mpi             ? "mpi"
                               : c.transport == distributed::ReduceTransport::shared_memory ? "shared_memory"
                                                                                              : "auto";
  return s;
}

std::string settings_json(const std::map<std::string, std::string>& s) { return nlohmann::json(s).dump(1); }

std::map<std::string, std::string> settings_from_json(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text).get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw ArgumentError(source + ": its run config is not a JSON object of texts (" + e.what() + ")");
  }
}

}  // namespace dtrain::cli
