// What attributes and datasets share: a dataspace of a shape, the number of
// elements in one, the text type dtrain writes, and reading stored strings.
// Private to src/hdf5 (attributes.cpp, datasets.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hdf5/handle.hpp"

namespace dtrain::hdf5::values {

// A simple dataspace of `shape`; scalar for [].
Dataspace space_for(std::span<const std::int64_t> shape);
// Elements in a dataspace (0 for a null one).
std::size_t element_count(hid_t space);

// Variable-length UTF-8 strings: what dtrain writes.
Datatype utf8_string_type();

// Reads into `buffer` as `memtype` from an attribute or a dataset.
using ReadInto = herr_t (*)(hid_t object, hid_t memtype, void* buffer);
herr_t read_attribute_into(hid_t attribute, hid_t memtype, void* buffer);
herr_t read_dataset_into(hid_t dataset, hid_t memtype, void* buffer);

// Reads the n strings of `object` (stored as `file_type`, variable or fixed
// length) into `out`. False when HDF5 fails (its message is then on the stack).
bool read_strings(hid_t object, hid_t file_type, std::size_t n, ReadInto read, std::vector<std::string>& out);

}  // namespace dtrain::hdf5::values
