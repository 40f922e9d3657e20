#include "option_reader.hpp"

#include "dtrain/core/error.hpp"
#include "validate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace dtrain::optimizers {

std::string to_string(const OptionValue& value) {
  struct Visitor {
    std::string operator()(double v) const { return detail::format_number(v); }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return "\"" + v + "\""; }
    std::string operator()(const std::vector<double>& v) const {
      std::string s = "[";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) s += ", ";
        s += detail::format_number(v[i]);
      }
      return s + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

namespace detail {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

OptionReader::OptionReader(std::string context, const Options& options,
                           std::vector<std::string> valid_keys)
    : context_(std::move(context)), options_(options) {
  std::sort(valid_keys.begin(), valid_keys.end());
  for (const auto& [key, value] : options_) {
    if (!std::binary_search(valid_keys.begin(), valid_keys.end(), key)) {
      throw ArgumentError(context_ + ": unknown option \"" + key + "\" (= " + to_string(value) +
                          "); valid options: " + join(valid_keys));
    }
  }
}

const OptionValue* OptionReader::find(std::string_view key) const {
  const auto it = options_.find(key);
  return it == options_.end() ? nullptr : &it->second;
}

void OptionReader::wrong_type(std::string_view key, const char* expected) const {
  throw ArgumentError(context_ + ": option \"" + std::string(key) + "\" must be " + expected +
                      ". Received: " + std::string(key) + "=" + to_string(*find(key)));
}

bool OptionReader::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<double> OptionReader::number(std::string_view key) const {
  const OptionValue* v = find(key);
  if (!v) return std::nullopt;
  if (const double* d = std::get_if<double>(v)) return *d;
  if (const std::int64_t* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  wrong_type(key, "a number");
}

double OptionReader::number(std::string_view key, double fallback) const {
  return number(key).value_or(fallback);
}

double OptionReader::required_number(std::string_view key) const {
  if (const auto v = number(key)) return *v;
  throw ArgumentError(context_ + ": missing required option \"" + std::string(key) + "\"");
}

std::optional<std::int64_t> OptionReader::integer(std::string_view key) const {
  if (const OptionValue* raw = find(key)) {
    if (const std::int64_t* i = std::get_if<std::int64_t>(raw)) return *i;
  }
  const auto v = number(key);
  if (!v) return std::nullopt;
  if (!std::isfinite(*v) || std::trunc(*v) != *v || std::fabs(*v) > 9.0e15) {
    wrong_type(key, "an integer");
  }
  return static_cast<std::int64_t>(*v);
}

std::int64_t OptionReader::required_integer(std::string_view key) const {
  if (const auto v = integer(key)) return *v;
  throw ArgumentError(context_ + ": missing required option \"" + std::string(key) + "\"");
}

bool OptionReader::flag(std::string_view key, bool fallback) const {
  const OptionValue* v = find(key);
  if (!v) return fallback;
  if (const bool* b = std::get_if<bool>(v)) return *b;
  wrong_type(key, "true or false");
}

std::vector<double> OptionReader::required_numbers(std::string_view key) const {
  const OptionValue* v = find(key);
  if (!v) {
    throw ArgumentError(context_ + ": missing required option \"" + std::string(key) + "\"");
  }
  if (const auto* list = std::get_if<std::vector<double>>(v)) return *list;
  wrong_type(key, "a list of numbers");
}

}  // namespace detail
}  // namespace dtrain::optimizers
