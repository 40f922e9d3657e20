// HDF5 attributes: read (strictly, or leniently as std::optional), write, list
// and show as text. Scalar or one-element attributes hold a value; string lists
// are one-dimensional (an empty one has a null dataspace). Private to src/.
//
//   const std::int64_t step = hdf5::read_int_attribute(root, "step", errors);
//   // errors.fail("attribute 'step' is missing"), "... is not a number", ...
//   if (auto v = hdf5::find_double_attribute(x, "scale")) scale = *v;   // nullopt if absent
//   hdf5::write_attribute(root, "format", std::string("dtrain-checkpoint"), errors);
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hdf5/errors.hpp"
#include "hdf5/handle.hpp"

namespace dtrain::hdf5 {

bool has_attribute(hid_t object, const std::string& name);
// In name order; errors.fail_hdf5("cannot list attributes") when HDF5 cannot.
std::vector<std::string> attribute_names(hid_t object, const Errors& errors);

// --- strict reads: errors.fail with "attribute '<name>' is missing", "... is not
// a number", "... is not an integer", "... is not text", "... is not a single
// value" / "... is not a single string", or errors.fail_hdf5("cannot read attribute '<name>'").
// An integer may be stored as a float holding a whole number.
std::int64_t read_int_attribute(hid_t object, const std::string& name, const Errors& errors);
std::uint64_t read_uint_attribute(hid_t object, const std::string& name, const Errors& errors);
double read_double_attribute(hid_t object, const std::string& name, const Errors& errors);
std::string read_string_attribute(hid_t object, const std::string& name, const Errors& errors);
std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name, const Errors& errors);

// --- lenient reads: std::nullopt wherever the strict read fails ---------------
std::optional<std::int64_t> find_int_attribute(hid_t object, const std::string& name);
std::optional<double> find_double_attribute(hid_t object, const std::string& name);
std::optional<std::string> find_string_attribute(hid_t object, const std::string& name);
std::optional<std::vector<std::string>> find_strings_attribute(hid_t object, const std::string& name);
std::optional<std::vector<std::string>> find_attribute_names(hid_t object);

// Any attribute as short text for listings: numbers, "strings", small arrays as
// "[a, b, ...]"; "" when it is missing.
std::string attribute_text(hid_t object, const std::string& name);

// --- writes (replacing an attribute of the same name): errors.fail_hdf5 with
// "cannot create attribute '<name>'" or "cannot write attribute '<name>'".
// Strings are stored as variable-length UTF-8.
void write_attribute(hid_t object, const std::string& name, std::int64_t value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, std::uint64_t value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, std::int8_t value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, double value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, float value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, const std::string& value, const Errors& errors);
void write_attribute(hid_t object, const std::string& name, std::span<const std::string> values,
                     const Errors& errors);

}  // namespace dtrain::hdf5
