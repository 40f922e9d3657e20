#include "option_reader.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>
#include <cctype>

namespace dtrain::optimizers::detail {

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

void OptionReader::missing(std::string_view key) const {
  throw ArgumentError(context_ + ": missing required option \"" + std::string(key) + "\"");
}

bool OptionReader::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<double> OptionReader::number(std::string_view key) const {
  const OptionValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto d = as_number(*v)) return d;
  wrong_type(key, "a number");
}

double OptionReader::number(std::string_view key, double fallback) const {
  return number(key).value_or(fallback);
}

double OptionReader::required_number(std::string_view key) const {
  if (const auto v = number(key)) return *v;
  missing(key);
}

std::optional<std::int64_t> OptionReader::integer(std::string_view key) const {
  const OptionValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto i = as_integer(*v)) return i;
  wrong_type(key, "an integer");
}

std::int64_t OptionReader::required_integer(std::string_view key) const {
  if (const auto v = integer(key)) return *v;
  missing(key);
}

bool OptionReader::flag(std::string_view key, bool fallback) const {
  const OptionValue* v = find(key);
  if (!v) return fallback;
  if (const bool* b = std::get_if<bool>(v)) return *b;
  wrong_type(key, "true or false");
}

std::vector<double> OptionReader::required_numbers(std::string_view key) const {
  const OptionValue* v = find(key);
  if (!v) missing(key);
  if (auto list = as_numbers(*v)) return *std::move(list);
  wrong_type(key, "a list of numbers");
}

}  // namespace dtrain::optimizers::detail
