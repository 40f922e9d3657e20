// Typed access to an Options map, with errors that name the key (private to
// src/optimizers; used by the optimizer factory and make_schedule). Values convert
// as in dtrain::Config (as_number, as_integer, as_numbers); the messages follow
// Keras: 'make_optimizer("adam"): option "beta_1" must be a number. Received: ...'.
#pragma once

#include "dtrain/optimizers/options.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dtrain::optimizers::detail {

std::string to_lower(std::string_view s);
std::string join(const std::vector<std::string>& items, const char* sep = ", ");

class OptionReader {
 public:
  // Throws ArgumentError naming the first key of `options` that is not in
  // `valid_keys`, and listing the valid ones. `context` starts every message.
  OptionReader(std::string context, const Options& options, std::vector<std::string> valid_keys);

  bool has(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;
  double number(std::string_view key, double fallback) const;
  double required_number(std::string_view key) const;
  // A number with no fractional part (decay_steps).
  std::optional<std::int64_t> integer(std::string_view key) const;
  std::int64_t required_integer(std::string_view key) const;
  bool flag(std::string_view key, bool fallback) const;
  std::vector<double> required_numbers(std::string_view key) const;

 private:
  const OptionValue* find(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const char* expected) const;
  [[noreturn]] void missing(std::string_view key) const;

  std::string context_;
  const Options& options_;
};

}  // namespace dtrain::optimizers::detail
