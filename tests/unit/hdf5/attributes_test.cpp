// hdf5 attributes on a real file: round trips of every written type, strict reads
// naming the file and the key, lenient reads, listing and text.
#include "hdf5/attributes.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hdf5/groups.hpp"
#include "hdf5_test_util.hpp"

namespace dtrain::hdf5 {
namespace {

using test::failure_of;

class Hdf5Attributes : public test::FreshFile {
 protected:
  void SetUp() override {
    FreshFile::SetUp();
    root_ = open_group(file(), "/", errors());
  }
  hid_t root() const { return root_.get(); }

  // An attribute written with the plain C API (fixed-length text, or an array of numbers).
  void write_raw(const std::string& name, hid_t type, std::vector<hsize_t> dims, const void* data) {
    Dataspace space(dims.empty() ? H5Screate(H5S_SCALAR)
                                 : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    Attribute a(H5Acreate2(root(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    ASSERT_TRUE(a);
    ASSERT_GE(H5Awrite(a.get(), type, data), 0);
  }

  Group root_;
};

TEST_F(Hdf5Attributes, NumbersRoundTrip) {
  write_attribute(root(), "step", std::int64_t{-1234567890123}, errors());
  write_attribute(root(), "seed", std::uint64_t{18446744073709551615ULL}, errors());
  write_attribute(root(), "trainable", std::int8_t{1}, errors());
  write_attribute(root(), "lr", 0.001, errors());
  write_attribute(root(), "scale", 1.0f / 255.0f, errors());
  EXPECT_EQ(read_int_attribute(root(), "step", errors()), -1234567890123);
  EXPECT_EQ(read_uint_attribute(root(), "seed", errors()), 18446744073709551615ULL);
  EXPECT_EQ(read_int_attribute(root(), "trainable", errors()), 1);
  EXPECT_EQ(read_double_attribute(root(), "lr", errors()), 0.001);
  EXPECT_EQ(read_double_attribute(root(), "scale", errors()), static_cast<double>(1.0f / 255.0f));
  EXPECT_EQ(find_int_attribute(root(), "step"), -1234567890123);
  EXPECT_EQ(find_double_attribute(root(), "lr"), 0.001);
  EXPECT_EQ(find_double_attribute(root(), "step"), -1234567890123.0) << "an integer is a number too";
}

TEST_F(Hdf5Attributes, StringsRoundTrip) {
  write_attribute(root(), "format", std::string("dtrain-checkpoint"), errors());
  write_attribute(root(), "note", std::string("ünïcode ✓"), errors());
  const std::vector<std::string> names{"t-shirt", "", "ankle boot"};
  write_attribute(root(), "class_names", std::span<const std::string>(names), errors());
  write_attribute(root(), "none", std::span<const std::string>(), errors());
  EXPECT_EQ(read_string_attribute(root(), "format", errors()), "dtrain-checkpoint");
  EXPECT_EQ(read_string_attribute(root(), "note", errors()), "ünïcode ✓");
  EXPECT_EQ(read_strings_attribute(root(), "class_names", errors()), names);
  EXPECT_EQ(read_strings_attribute(root(), "none", errors()), std::vector<std::string>{});
  EXPECT_EQ(find_string_attribute(root(), "format"), "dtrain-checkpoint");
  EXPECT_EQ(find_strings_attribute(root(), "class_names"), names);
  EXPECT_EQ(read_strings_attribute(root(), "format", errors()),
            std::vector<std::string>{"dtrain-checkpoint"});
}

TEST_F(Hdf5Attributes, FixedLengthTextIsRead) {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), 14);
  write_raw("format", t.get(), {}, "dtrain-dataset");
  Datatype padded(H5Tcopy(H5T_C_S1));
  H5Tset_size(padded.get(), 4);
  H5Tset_strpad(padded.get(), H5T_STR_NULLPAD);
  write_raw("codes", padded.get(), {2}, "ab\0\0cdef");
  EXPECT_EQ(read_string_attribute(root(), "format", errors()), "dtrain-dataset");
  EXPECT_EQ(read_strings_attribute(root(), "codes", errors()), (std::vector<std::string>{"ab", "cdef"}));
}

TEST_F(Hdf5Attributes, WritingAgainReplacesTheValueAndItsType) {
  write_attribute(root(), "v", std::string("text"), errors());
  write_attribute(root(), "v", std::int64_t{7}, errors());
  EXPECT_EQ(read_int_attribute(root(), "v", errors()), 7);
  EXPECT_EQ(attribute_names(root(), errors()), std::vector<std::string>{"v"});
}

TEST_F(Hdf5Attributes, MissingAttributeNamesTheFileAndTheKey) {
  EXPECT_FALSE(has_attribute(root(), "seed"));
  EXPECT_EQ(failure_of([&] { read_int_attribute(root(), "seed", errors()); }),
            path() + ": attribute 'seed' is missing");
  EXPECT_EQ(failure_of([&] { read_string_attribute(root(), "format", errors()); }),
            path() + ": attribute 'format' is missing");
  EXPECT_EQ(find_int_attribute(root(), "seed"), std::nullopt);
  EXPECT_EQ(find_strings_attribute(root(), "class_names"), std::nullopt);
}

TEST_F(Hdf5Attributes, AValueOfAnotherKindIsNamed) {
  write_attribute(root(), "name", std::string("adam"), errors());
  write_attribute(root(), "half", 2.5, errors());
  write_attribute(root(), "three", 3.0, errors());
  write_attribute(root(), "step", std::int64_t{3}, errors());
  const std::int64_t pair[2] = {1, 2};
  write_raw("pair", H5T_NATIVE_INT64, {2}, pair);
  const std::vector<std::string> two{"a", "b"};
  write_attribute(root(), "two", std::span<const std::string>(two), errors());

  EXPECT_EQ(failure_of([&] { read_int_attribute(root(), "name", errors()); }),
            path() + ": attribute 'name' is not a number");
  EXPECT_EQ(failure_of([&] { read_int_attribute(root(), "half", errors()); }),
            path() + ": attribute 'half' is not an integer");
  EXPECT_EQ(read_int_attribute(root(), "three", errors()), 3) << "a float holding a whole number";
  EXPECT_EQ(failure_of([&] { read_uint_attribute(root(), "half", errors()); }),
            path() + ": attribute 'half' is not an integer");
  EXPECT_EQ(failure_of([&] { read_string_attribute(root(), "step", errors()); }),
            path() + ": attribute 'step' is not text");
  EXPECT_EQ(failure_of([&] { read_int_attribute(root(), "pair", errors()); }),
            path() + ": attribute 'pair' is not a single value");
  EXPECT_EQ(failure_of([&] { read_string_attribute(root(), "two", errors()); }),
            path() + ": attribute 'two' is not a single string");
  EXPECT_EQ(find_int_attribute(root(), "name"), std::nullopt);
  EXPECT_EQ(find_int_attribute(root(), "half"), std::nullopt);
  EXPECT_EQ(find_int_attribute(root(), "three"), 3);
  EXPECT_EQ(find_string_attribute(root(), "two"), std::nullopt);
  EXPECT_EQ(find_strings_attribute(root(), "step"), std::nullopt);
}

TEST_F(Hdf5Attributes, NamesAreListedInNameOrder) {
  for (const char* name : {"zeta", "alpha", "mid"}) write_attribute(root(), name, std::int64_t{1}, errors());
  const std::vector<std::string> sorted{"alpha", "mid", "zeta"};
  EXPECT_EQ(attribute_names(root(), errors()), sorted);
  EXPECT_EQ(find_attribute_names(root()), sorted);
}

TEST_F(Hdf5Attributes, TextShowsAnyAttributeShortly) {
  write_attribute(root(), "n", std::int64_t{10}, errors());
  write_attribute(root(), "f", 0.5, errors());
  write_attribute(root(), "s", std::string("csv:in.csv"), errors());
  const std::vector<std::string> names{"a", "b"};
  write_attribute(root(), "names", std::span<const std::string>(names), errors());
  std::vector<std::int64_t> many(20);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::int64_t>(i);
  write_raw("many", H5T_NATIVE_INT64, {20}, many.data());
  EXPECT_EQ(attribute_text(root(), "n"), "10");
  EXPECT_EQ(attribute_text(root(), "f"), "0.5");
  EXPECT_EQ(attribute_text(root(), "s"), "\"csv:in.csv\"");
  EXPECT_EQ(attribute_text(root(), "names"), "[\"a\", \"b\"]");
  EXPECT_EQ(attribute_text(root(), "many"), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (20 values)]");
  EXPECT_EQ(attribute_text(root(), "missing"), "");
}

}  // namespace
}  // namespace dtrain::hdf5
