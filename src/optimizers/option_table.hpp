// The hyper-parameters of each optimizer as one table (private to src/optimizers).
//
//   // option_tables.cpp: Keras' SGD arguments; each default is the member's initializer.
//   constexpr OptionRow<SGDOptions> kSGD[] = {
//       number_row("momentum", &SGDOptions::momentum, kUnitClosed),
//       flag_row("nesterov", &SGDOptions::nesterov),
//   };
//   OptionTable<SGDOptions> option_table(std::type_identity<SGDOptions>) { return kSGD; }
//
// A row is a Keras argument name, the member of the options struct that holds it
// (its initializer is the Keras default) and the values it accepts. The rows of an
// options struct O are its one description, read by:
//   the factory     option_keys<O>() (the valid keys), read_options(reader, o);
//   the optimizer   check_options(name, o) in its constructor;
//   config()        write_options(o, out).
// CommonOptions (weight_decay and the clips, all optional) has a table too; the
// learning rate (a number or a schedule) is handled by Optimizer and the factory.
#pragma once

#include "dtrain/optimizers/options.hpp"
#include "option_reader.hpp"
#include "validate.hpp"

#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace dtrain::optimizers {
struct CommonOptions;
struct SGDOptions;
struct RMSpropOptions;
struct AdamOptions;
struct AdagradOptions;
struct AdadeltaOptions;
struct AdamaxOptions;
struct NadamOptions;
struct FtrlOptions;
struct LionOptions;
}  // namespace dtrain::optimizers

namespace dtrain::optimizers::detail {

template <class O>
struct OptionRow {
  const char* key;                               // Keras' argument name
  double O::*number = nullptr;                   // a number in `range`, or
  std::optional<double> O::*optional = nullptr;  // a number in `range` or absent (Keras None), or
  bool O::*flag = nullptr;                       // true or false
  Range range{};
};

template <class O>
constexpr OptionRow<O> number_row(const char* key, double O::*member, Range range) {
  return {key, member, nullptr, nullptr, range};
}
template <class O>
constexpr OptionRow<O> optional_row(const char* key, std::optional<double> O::*member, Range range) {
  return {key, nullptr, member, nullptr, range};
}
template <class O>
constexpr OptionRow<O> flag_row(const char* key, bool O::*member) {
  return {key, nullptr, nullptr, member, {}};
}

template <class O>
using OptionTable = std::span<const OptionRow<O>>;

// The table of each options struct (option_tables.cpp). AdamW has none of its
// own: it takes Adam's options (and weight_decay, a common option).
OptionTable<CommonOptions> option_table(std::type_identity<CommonOptions>);
OptionTable<SGDOptions> option_table(std::type_identity<SGDOptions>);
OptionTable<RMSpropOptions> option_table(std::type_identity<RMSpropOptions>);
OptionTable<AdamOptions> option_table(std::type_identity<AdamOptions>);
OptionTable<AdagradOptions> option_table(std::type_identity<AdagradOptions>);
OptionTable<AdadeltaOptions> option_table(std::type_identity<AdadeltaOptions>);
OptionTable<AdamaxOptions> option_table(std::type_identity<AdamaxOptions>);
OptionTable<NadamOptions> option_table(std::type_identity<NadamOptions>);
OptionTable<FtrlOptions> option_table(std::type_identity<FtrlOptions>);
OptionTable<LionOptions> option_table(std::type_identity<LionOptions>);

template <class O>
OptionTable<O> table_of() {
  return option_table(std::type_identity<O>{});
}

// The keys of O's table, in table order.
template <class O>
std::vector<std::string> option_keys() {
  std::vector<std::string> keys;
  for (const auto& row : table_of<O>()) keys.emplace_back(row.key);
  return keys;
}

// Throws ArgumentError naming the first value of o outside its row's range.
template <class O>
void check_options(const std::string& who, const O& o) {
  for (const auto& row : table_of<O>()) {
    if (row.number) check_range(who, row.key, o.*row.number, row.range);
    if (row.optional && (o.*row.optional)) check_range(who, row.key, *(o.*row.optional), row.range);
  }
}

// Adds every value of o by key (an absent optional value is left out, as Keras' None).
template <class O>
void write_options(const O& o, Options& out) {
  for (const auto& row : table_of<O>()) {
    if (row.number) out.emplace(row.key, o.*row.number);
    if (row.optional && (o.*row.optional)) out.emplace(row.key, *(o.*row.optional));
    if (row.flag) out.emplace(row.key, o.*row.flag);
  }
}

// Sets the members of o that the reader has a value for (ArgumentError for a value
// of the wrong type); the others keep their value, normally the default.
template <class O>
void read_options(const OptionReader& r, O& o) {
  for (const auto& row : table_of<O>()) {
    if (row.number) o.*row.number = r.number(row.key, o.*row.number);
    if (row.optional) {
      if (const auto v = r.number(row.key)) o.*row.optional = *v;
    }
    if (row.flag) o.*row.flag = r.flag(row.key, o.*row.flag);
  }
}

}  // namespace dtrain::optimizers::detail
