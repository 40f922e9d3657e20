// make_callback: a callback by its Keras name and arguments (configs, YAML).
#include "dtrain/callbacks.hpp"

#include "dtrain/core/error.hpp"

namespace dtrain {

std::vector<std::string> callback_types() { return {"EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN"}; }

std::shared_ptr<Callback> make_callback(const std::string& type, const Config& a) {
  const std::string& owner = type;
  if (type == "EarlyStopping") {
    a.check_keys({"monitor", "min_delta", "patience", "mode", "restore_best_weights", "start_from_epoch"}, owner);
    EarlyStoppingOptions o;
    o.monitor = a.get_string_or("monitor", o.monitor, owner);
    o.min_delta = a.get_double_or("min_delta", o.min_delta, owner);
    o.patience = a.get_int_or("patience", o.patience, owner);
    o.mode = a.get_string_or("mode", o.mode, owner);
    o.restore_best_weights = a.get_bool_or("restore_best_weights", false, owner);
    o.start_from_epoch = a.get_int_or("start_from_epoch", 0, owner);
    return std::make_shared<EarlyStopping>(o);
  }
  if (type == "ReduceLROnPlateau") {
    a.check_keys({"monitor", "factor", "patience", "mode", "min_delta", "cooldown", "min_lr"}, owner);
    ReduceLROnPlateauOptions o;
    o.monitor = a.get_string_or("monitor", o.monitor, owner);
    o.factor = a.get_double_or("factor", o.factor, owner);
    o.patience = a.get_int_or("patience", o.patience, owner);
    o.mode = a.get_string_or("mode", o.mode, owner);
    o.min_delta = a.get_double_or("min_delta", o.min_delta, owner);
    o.cooldown = a.get_int_or("cooldown", o.cooldown, owner);
    o.min_lr = a.get_double_or("min_lr", o.min_lr, owner);
    return std::make_shared<ReduceLROnPlateau>(o);
  }
  if (type == "TerminateOnNaN") {
    a.check_keys({}, owner);
    return std::make_shared<TerminateOnNaN>();
  }
  std::string valid;
  for (const auto& t : callback_types()) valid += (valid.empty() ? "" : ", ") + t;
  throw ArgumentError("unknown callback '" + type + "' (valid: " + valid + ")");
}

}  // namespace dtrain
