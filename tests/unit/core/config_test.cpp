// Config: named values with typed getters whose errors name the owner and the key.
#include "dtrain/core/config.hpp"
#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dtrain {
namespace {

// The message of the ArgumentError that f throws.
template <class F>
std::string error_of(F f) try {
  f();
  return "no ArgumentError";
} catch (const ArgumentError& e) {
  return e.what();
}

TEST(Config, SetStoresTheNaturalTypeAndGettersReadIt) {
  Config c;
  c.set("units", 128).set("rate", 0.5f).set("activation", "relu").set("use_bias", true);
  c.set("kernel_size", std::vector<std::int64_t>{3, 3}).set("values", std::vector<double>{1.0, 0.5});
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(c.values().at("units")));
  EXPECT_TRUE(std::holds_alternative<double>(c.values().at("rate")));
  EXPECT_TRUE(std::holds_alternative<std::string>(c.values().at("activation")));
  EXPECT_EQ(c.get_int("units", "Dense 'd'"), 128);
  EXPECT_EQ(c.get_double("rate", "Dropout"), 0.5);
  EXPECT_EQ(c.get_double("units", "x"), 128.0);  // an integer is a number
  EXPECT_EQ(c.get_string("activation", "x"), "relu");
  EXPECT_TRUE(c.get_bool("use_bias", "x"));
  EXPECT_EQ(c.get_ints("kernel_size", "x"), (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(c.get_ints("units", "x"), (std::vector<std::int64_t>{128}));  // int -> [int]
  EXPECT_EQ(c.get_doubles("values", "x"), (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(c.get_doubles("kernel_size", "x"), (std::vector<double>{3.0, 3.0}));
  EXPECT_EQ(c.get_doubles("rate", "x"), (std::vector<double>{0.5}));
  EXPECT_TRUE(c.has("units"));
  EXPECT_FALSE(c.has("filters"));
  // Setting a key again replaces its value.
  c.set("units", 64);
  EXPECT_EQ(c.get_int("units", "x"), 64);
}

TEST(Config, IntegerValuedDoublesAreIntegers) {
  Config c;
  c.set("epochs", 3.0).set("steps", 2.5);
  EXPECT_EQ(c.get_int("epochs", "fit"), 3);
  const auto e = error_of([&] { c.get_int("steps", "fit"); });
  EXPECT_NE(e.find("fit: argument 'steps' must be an integer"), std::string::npos) << e;
  EXPECT_NE(e.find("2.5"), std::string::npos) << e;
}

TEST(Config, DefaultsApplyOnlyWhenTheKeyIsMissing) {
  Config c;
  c.set("units", 8);
  EXPECT_EQ(c.get_int_or("units", 1, "x"), 8);
  EXPECT_EQ(c.get_int_or("filters", 1, "x"), 1);
  EXPECT_EQ(c.get_double_or("rate", 0.25, "x"), 0.25);
  EXPECT_FALSE(c.get_bool_or("use_bias", false, "x"));
  EXPECT_EQ(c.get_string_or("activation", "linear", "x"), "linear");
  EXPECT_EQ(c.get_ints_or("strides", {1, 1}, "x"), (std::vector<std::int64_t>{1, 1}));
  // A present key of the wrong type is an error even with a default.
  c.set("use_bias", "yes");
  EXPECT_NE(error_of([&] { c.get_bool_or("use_bias", true, "Dense 'd'"); }).find("'use_bias'"),
            std::string::npos);
}

TEST(Config, ErrorsNameTheOwnerTheKeyAndWhatWasExpected) {
  Config c;
  c.set("units", "many").set("activation", 3).set("use_bias", 1.0).set("sizes", true);
  const auto missing = error_of([&] { c.get_int("filters", "Conv2D 'conv'"); });
  EXPECT_EQ(missing, "Conv2D 'conv': missing argument 'filters'");
  const auto not_int = error_of([&] { c.get_int("units", "Dense 'd'"); });
  EXPECT_EQ(not_int, "Dense 'd': argument 'units' must be an integer, got \"many\"");
  EXPECT_NE(error_of([&] { c.get_double("units", "o"); }).find("'units' must be a number"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get_string("activation", "o"); }).find("'activation' must be a string, got 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get_bool("use_bias", "o"); }).find("'use_bias' must be true or false"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get_ints("sizes", "o"); }).find("'sizes' must be an integer or a list"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get_doubles("sizes", "o"); }).find("'sizes' must be a number or a list"),
            std::string::npos);
}

TEST(Config, CheckKeysNamesTheFirstUnknownKeyAndTheValidOnes) {
  Config c;
  c.set("units", 4).set("unit", 4);
  EXPECT_NO_THROW(c.check_keys({"units", "unit"}, "Dense"));
  const auto e = error_of([&] { c.check_keys({"units", "activation"}, "Dense 'd'"); });
  EXPECT_EQ(e, "Dense 'd': unknown argument 'unit' (valid: units, activation)");
}

TEST(Config, ConversionsAreTheSameForEveryReader) {
  // as_number / as_integer / as_numbers are what Config's getters and the optimizer
  // factory apply to a value.
  EXPECT_EQ(as_number(ConfigValue(std::int64_t{3})), 3.0);
  EXPECT_EQ(as_number(ConfigValue(0.25)), 0.25);
  EXPECT_FALSE(as_number(ConfigValue(true)));
  EXPECT_FALSE(as_number(ConfigValue(std::string("1"))));
  EXPECT_EQ(as_integer(ConfigValue(std::int64_t{-7})), -7);
  EXPECT_EQ(as_integer(ConfigValue(1000.0)), 1000);
  EXPECT_FALSE(as_integer(ConfigValue(2.5)));
  EXPECT_FALSE(as_integer(ConfigValue(std::nan(""))));
  EXPECT_FALSE(as_integer(ConfigValue(1e300)));
  EXPECT_EQ(as_numbers(ConfigValue(std::vector<std::int64_t>{10, 20})), (std::vector<double>{10, 20}));
  EXPECT_EQ(as_numbers(ConfigValue(std::vector<double>{0.5})), (std::vector<double>{0.5}));
  EXPECT_FALSE(as_numbers(ConfigValue(1.0)));  // a list, not one number
}

TEST(Config, ToStringShowsEachKindOfValue) {
  EXPECT_EQ(to_string(ConfigValue(true)), "true");
  EXPECT_EQ(to_string(ConfigValue(std::int64_t{-3})), "-3");
  EXPECT_EQ(to_string(ConfigValue(0.5)), "0.5");
  EXPECT_EQ(to_string(ConfigValue(std::string("relu"))), "\"relu\"");
  EXPECT_EQ(to_string(ConfigValue(std::vector<std::int64_t>{3, 3})), "[3, 3]");
  EXPECT_EQ(to_string(ConfigValue(std::vector<double>{1.5, 2})), "[1.5, 2]");
  // Numbers in their shortest exact form.
  EXPECT_EQ(to_string(ConfigValue(1e-7)), "1e-07");
  EXPECT_EQ(to_string(ConfigValue(0.123456789)), "0.123456789");
}

}  // namespace
}  // namespace dtrain
