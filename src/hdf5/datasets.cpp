#include "hdf5/datasets.hpp"

#include "hdf5/groups.hpp"
#include "hdf5/values.hpp"

namespace dtrain::hdf5 {
namespace {

Dataset create(hid_t loc, const std::string& path, hid_t type, hid_t space, const Errors& errors) {
  PropList lcpl = intermediate_groups();
  Dataset d(H5Dcreate2(loc, path.c_str(), type, space, lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!d) errors.fail_hdf5("cannot create dataset " + path);
  return d;
}

void write_all(hid_t dataset, const std::string& path, hid_t mem_type, const void* data,
               const Errors& errors) {
  if (H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    errors.fail_hdf5("cannot write dataset " + path);
  }
}

template <class T>
Dataset write_numbers(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const T> data, hid_t file_type, hid_t mem_type, const Errors& errors) {
  Dataspace space = values::space_for(shape);
  Dataset d = create(loc, path, file_type, space.get(), errors);
  if (!data.empty()) write_all(d.get(), path, mem_type, data.data(), errors);
  return d;
}

template <class T>
std::vector<T> read_numbers(hid_t dataset, const std::string& path, hid_t mem_type, const Errors& errors) {
  Datatype t(H5Dget_type(dataset));
  const H5T_class_t cls = H5Tget_class(t.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) errors.fail(path + " is not numeric");
  Dataspace space(H5Dget_space(dataset));
  std::vector<T> v(values::element_count(space.get()));
  if (!v.empty() && H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    errors.fail_hdf5("cannot read " + path);
  }
  return v;
}

std::vector<std::string> read_text(hid_t dataset, const std::string& path, std::size_t n,
                                   const Errors& errors) {
  Datatype t(H5Dget_type(dataset));
  if (H5Tget_class(t.get()) != H5T_STRING) errors.fail(path + " is not text");
  std::vector<std::string> out;
  if (!values::read_strings(dataset, t.get(), n, values::read_dataset_into, out)) {
    errors.fail_hdf5("cannot read " + path);
  }
  return out;
}

}  // namespace

Dataset open_dataset(hid_t loc, const std::string& path, const Errors& errors, hid_t access) {
  if (!exists(loc, path)) errors.fail("dataset " + path + " is missing");
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, path.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET) {
    errors.fail(path + " is not a dataset");
  }
  Dataset d(H5Dopen2(loc, path.c_str(), access));
  if (!d) errors.fail_hdf5("cannot open dataset " + path);
  return d;
}

std::vector<std::int64_t> dims_of(hid_t dataset) {
  Dataspace space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<std::int64_t>(dims.begin(), dims.end());
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string dtype_text(hid_t dataset) {
  Datatype t(H5Dget_type(dataset));
  const auto bits = std::to_string(8 * H5Tget_size(t.get()));
  switch (H5Tget_class(t.get())) {
    case H5T_INTEGER:
      return (H5Tget_sign(t.get()) == H5T_SGN_NONE ? "uint" : "int") + bits;
    case H5T_FLOAT:
      return "float" + bits;
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    default:
      return "an unsupported type";
  }
}

Dataset write_floats(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                     std::span<const float> data, const Errors& errors) {
  return write_numbers(loc, path, shape, data, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, errors);
}

Dataset write_doubles(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const double> data, const Errors& errors) {
  return write_numbers(loc, path, shape, data, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, errors);
}

std::vector<float> read_floats(hid_t dataset, const std::string& path, const Errors& errors) {
  return read_numbers<float>(dataset, path, H5T_NATIVE_FLOAT, errors);
}

std::vector<double> read_doubles(hid_t dataset, const std::string& path, const Errors& errors) {
  return read_numbers<double>(dataset, path, H5T_NATIVE_DOUBLE, errors);
}

void write_string(hid_t loc, const std::string& path, const std::string& value, const Errors& errors) {
  Datatype t = values::utf8_string_type();
  Dataspace space(H5Screate(H5S_SCALAR));
  Dataset d = create(loc, path, t.get(), space.get(), errors);
  const char* p = value.c_str();
  write_all(d.get(), path, t.get(), &p, errors);
}

void write_strings(hid_t loc, const std::string& path, std::span<const std::string> items,
                   const Errors& errors) {
  Datatype t = values::utf8_string_type();
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  Dataspace space = values::space_for(std::span(&n, 1));
  Dataset d = create(loc, path, t.get(), space.get(), errors);
  if (n == 0) return;
  std::vector<const char*> ptrs;
  for (const auto& v : items) ptrs.push_back(v.c_str());
  write_all(d.get(), path, t.get(), ptrs.data(), errors);
}

std::string read_string(hid_t loc, const std::string& path, const Errors& errors) {
  Dataset d = open_dataset(loc, path, errors);
  Dataspace space(H5Dget_space(d.get()));
  if (values::element_count(space.get()) != 1) errors.fail(path + " is not a single string");
  return read_text(d.get(), path, 1, errors).front();
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path, const Errors& errors) {
  Dataset d = open_dataset(loc, path, errors);
  Dataspace space(H5Dget_space(d.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) errors.fail(path + " is not a list of strings");
  return read_text(d.get(), path, values::element_count(space.get()), errors);
}

}  // namespace dtrain::hdf5
