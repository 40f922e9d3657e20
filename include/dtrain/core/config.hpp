// Config: the arguments of a layer, loss, optimizer... as named values, so the
// same factories serve C++ code, YAML run configs and checkpoints (JSON).
//
//   Config c;
//   c.set("units", 128).set("activation", "relu");
//   auto units = c.get_int("units", "Dense 'dense_1'");        // throws naming the key
//   auto act = c.get_string_or("activation", "linear", ...);
//
// Formats (YAML, JSON) are converted at the edges (cli/, checkpoint/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace dtrain {

using ConfigValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>,
                                 std::vector<double>>;

class Config {
 public:
  // Any integer becomes int64, any floating point double, text a string.
  template <class V>
  Config& set(const std::string& key, V&& v) {
    using D = std::decay_t<V>;
    if constexpr (std::is_same_v<D, bool>) {
      return store(key, ConfigValue(static_cast<bool>(v)));
    } else if constexpr (std::is_integral_v<D>) {
      return store(key, ConfigValue(static_cast<std::int64_t>(v)));
    } else if constexpr (std::is_floating_point_v<D>) {
      return store(key, ConfigValue(static_cast<double>(v)));
    } else if constexpr (std::is_convertible_v<V, std::string>) {
      return store(key, ConfigValue(std::string(std::forward<V>(v))));
    } else {
      return store(key, ConfigValue(std::forward<V>(v)));
    }
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, ConfigValue>& values() const { return values_; }

  // Getters name `owner` and the key in their errors (missing key, wrong type).
  std::int64_t get_int(const std::string& key, const std::string& owner) const;
  double get_double(const std::string& key, const std::string& owner) const;  // ints convert
  bool get_bool(const std::string& key, const std::string& owner) const;
  std::string get_string(const std::string& key, const std::string& owner) const;
  std::vector<std::int64_t> get_ints(const std::string& key, const std::string& owner) const;  // int → [int]
  std::vector<double> get_doubles(const std::string& key, const std::string& owner) const;

  std::int64_t get_int_or(const std::string& key, std::int64_t d, const std::string& owner) const;
  double get_double_or(const std::string& key, double d, const std::string& owner) const;
  bool get_bool_or(const std::string& key, bool d, const std::string& owner) const;
  std::string get_string_or(const std::string& key, const std::string& d, const std::string& owner) const;
  std::vector<std::int64_t> get_ints_or(const std::string& key, std::vector<std::int64_t> d,
                                        const std::string& owner) const;

  // Throws ArgumentError naming the first key not in `allowed`.
  void check_keys(const std::vector<std::string>& allowed, const std::string& owner) const;

 private:
  Config& store(const std::string& key, ConfigValue v);
  std::map<std::string, ConfigValue> values_;
};

// "0.5", "true", "\"text\"", "[10, 20]": for error messages and logs (numbers in
// their shortest exact form).
std::string to_string(const ConfigValue& v);

// The conversions every reader of values applies (Config's getters, the optimizer
// factory); nullopt when the value is of another kind.
// A number: a double or an integer.
std::optional<double> as_number(const ConfigValue& v);
// An integer: an int64, or a finite double with no fraction and |v| <= 2^53.
std::optional<std::int64_t> as_integer(const ConfigValue& v);
// A list of numbers: a list of doubles or of integers.
std::optional<std::vector<double>> as_numbers(const ConfigValue& v);

}  // namespace dtrain
