#include "dtrain/core/config.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace dtrain {
namespace {

[[noreturn]] void wrong_type(const std::string& owner, const std::string& key, const char* expected,
                             const ConfigValue& got) {
  throw ArgumentError(owner + ": argument '" + key + "' must be " + expected + ", got " + to_string(got));
}

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact form
  return std::string(buf, r.ptr);
}

}  // namespace

std::string to_string(const ConfigValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<X, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<X, double>) {
          return number_text(x);
        } else if constexpr (std::is_same_v<X, std::string>) {
          return '"' + x + '"';
        } else {  // a list
          std::string out = "[";
          for (std::size_t i = 0; i < x.size(); ++i) out += (i ? ", " : "") + to_string(ConfigValue(x[i]));
          return out + "]";
        }
      },
      v);
}

std::optional<double> as_number(const ConfigValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const ConfigValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v);
      d && std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) <= 9007199254740992.0) {
    return static_cast<std::int64_t>(*d);
  }
  return std::nullopt;
}

std::optional<std::vector<double>> as_numbers(const ConfigValue& v) {
  if (const auto* d = std::get_if<std::vector<double>>(&v)) return *d;
  if (const auto* i = std::get_if<std::vector<std::int64_t>>(&v))
    return std::vector<double>(i->begin(), i->end());
  return std::nullopt;
}

Config& Config::store(const std::string& key, ConfigValue v) {
  values_[key] = std::move(v);
  return *this;
}

namespace {
const ConfigValue& find(const std::map<std::string, ConfigValue>& m, const std::string& key,
                        const std::string& owner) {
  auto it = m.find(key);
  if (it == m.end()) throw ArgumentError(owner + ": missing argument '" + key + "'");
  return it->second;
}
}  // namespace

std::int64_t Config::get_int(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (const auto i = as_integer(v)) return *i;
  wrong_type(owner, key, "an integer", v);
}

double Config::get_double(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (const auto d = as_number(v)) return *d;
  wrong_type(owner, key, "a number", v);
}

bool Config::get_bool(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (auto p = std::get_if<bool>(&v)) return *p;
  wrong_type(owner, key, "true or false", v);
}

std::string Config::get_string(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  wrong_type(owner, key, "a string", v);
}

std::vector<std::int64_t> Config::get_ints(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (auto p = std::get_if<std::vector<std::int64_t>>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return {*p};
  wrong_type(owner, key, "an integer or a list of integers", v);
}

std::vector<double> Config::get_doubles(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (auto list = as_numbers(v)) return *list;
  if (const auto d = as_number(v)) return {*d};
  wrong_type(owner, key, "a number or a list of numbers", v);
}

std::int64_t Config::get_int_or(const std::string& key, std::int64_t d, const std::string& owner) const {
  return has(key) ? get_int(key, owner) : d;
}
double Config::get_double_or(const std::string& key, double d, const std::string& owner) const {
  return has(key) ? get_double(key, owner) : d;
}
bool Config::get_bool_or(const std::string& key, bool d, const std::string& owner) const {
  return has(key) ? get_bool(key, owner) : d;
}
std::string Config::get_string_or(const std::string& key, const std::string& d, const std::string& owner) const {
  return has(key) ? get_string(key, owner) : d;
}
std::vector<std::int64_t> Config::get_ints_or(const std::string& key, std::vector<std::int64_t> d,
                                              const std::string& owner) const {
  return has(key) ? get_ints(key, owner) : d;
}

void Config::check_keys(const std::vector<std::string>& allowed, const std::string& owner) const {
  for (const auto& [key, value] : values_) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ArgumentError(owner + ": unknown argument '" + key + "' (valid: " + list + ")");
    }
  }
}

}  // namespace dtrain
