// Range checks for command-line values, with messages in dtrain's words
// (CLI11's own Range says "Value 0 not in range 2.2e-308 to 1.8e308"). CLI11
// prefixes the option's name; main() turns the failure into exit 2 and one line:
//
//   cmd->add_option("--threads", n, "...")->check(at_least(1));
//   // dtrain: error: --threads: must be at least 1, got 0 (--help for usage)
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace dtrain::cli {

// An integer >= min.
inline CLI::Validator at_least(std::int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        std::int64_t v = 0;
        // Text that is no integer is left to the conversion ("Could not convert").
        if (CLI::detail::lexical_cast(text, v) && v < min) {
          return "must be at least " + std::to_string(min) + ", got " + text;
        }
        return {};
      },
      "INT>=" + std::to_string(min), "at_least");
}

// A number > 0 (not NaN).
inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (CLI::detail::lexical_cast(text, v) && !(v > 0)) return "must be a positive number, got " + text;
        return {};
      },
      "POSITIVE", "positive");
}

}  // namespace dtrain::cli
