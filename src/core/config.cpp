#include "dtrain/core/config.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>
#include <sstream>

namespace dtrain {
namespace {

[[noreturn]] void wrong_type(const std::string& owner, const std::string& key, const char* expected,
                             const ConfigValue& got) {
  throw ArgumentError(owner + ": argument '" + key + "' must be " + expected + ", got " + to_string(got));
}

}  // namespace

std::string to_string(const ConfigValue& v) {
  std::ostringstream out;
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, bool>) {
          out << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<X, std::string>) {
          out << '"' << x << '"';
        } else if constexpr (std::is_same_v<X, std::vector<std::int64_t>> || std::is_same_v<X, std::vector<double>>) {
          out << '[';
          for (std::size_t i = 0; i < x.size(); ++i) out << (i ? ", " : "") << x[i];
          out << ']';
        } else {
          out << x;
        }
      },
      v);
  return out.str();
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
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  if (auto d = std::get_if<double>(&v); d && *d == static_cast<double>(static_cast<std::int64_t>(*d))) {
    return static_cast<std::int64_t>(*d);
  }
  wrong_type(owner, key, "an integer", v);
}

double Config::get_double(const std::string& key, const std::string& owner) const {
  const auto& v = find(values_, key, owner);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
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
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<std::int64_t>>(&v)) return {p->begin(), p->end()};
  if (has(key)) return {get_double(key, owner)};
  wrong_type(owner, key, "a list of numbers", v);
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
