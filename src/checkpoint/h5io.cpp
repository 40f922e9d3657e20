#include "h5io.hpp"

#include <cstring>

#include "dtrain/checkpoint.hpp"

namespace dtrain::checkpoint::detail::h5 {
namespace {


[[noreturn]] void fail(const std::string& what) {
  throw CheckpointError(what + " (HDF5: " + error_detail() + ")");
}

// Link creation: make the intermediate groups of "a/b/c" on the way.
PropList intermediate_groups() {
  PropList lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

Datatype utf8_string_type() {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Dataspace space_for(std::span<const std::int64_t> shape) {
  if (shape.empty()) return Dataspace(H5Screate(H5S_SCALAR));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Dataspace(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::size_t element_count(hid_t space) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

Attribute create_attribute(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Attribute a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a) fail("cannot create attribute '" + name + "'");
  return a;
}

template <class T>
void write_scalar_attribute(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, T value) {
  Dataspace space(H5Screate(H5S_SCALAR));
  Attribute a = create_attribute(obj, name, file_type, space.get());
  if (H5Awrite(a.get(), mem_type, &value) < 0) fail("cannot write attribute '" + name + "'");
}

Attribute open_attribute(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) {
    throw CheckpointError("attribute '" + name + "' is missing");
  }
  Attribute a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!a) fail("cannot open attribute '" + name + "'");
  return a;
}

H5T_class_t class_of_attribute(hid_t attr) {
  Datatype t(H5Aget_type(attr));
  return H5Tget_class(t.get());
}

template <class T>
T read_scalar_attribute(hid_t obj, const std::string& name, hid_t mem_type, bool want_float) {
  Attribute a = open_attribute(obj, name);
  const H5T_class_t cls = class_of_attribute(a.get());
  if (cls != H5T_INTEGER && !(want_float && cls == H5T_FLOAT)) {
    throw CheckpointError("attribute '" + name + "' is not a number");
  }
  Dataspace space(H5Aget_space(a.get()));
  if (element_count(space.get()) != 1) {
    throw CheckpointError("attribute '" + name + "' is not a single value");
  }
  T value{};
  if (H5Aread(a.get(), mem_type, &value) < 0) fail("cannot read attribute '" + name + "'");
  return value;
}


// Reads n strings through `read(memtype, buffer)` (an attribute or a dataset).
template <class Read>
std::vector<std::string> read_string_values(hid_t file_type, std::size_t n, Read read,
                                            const std::string& what) {
  if (H5Tget_class(file_type) != H5T_STRING) throw CheckpointError(what + " is not text");
  Datatype mtype = hdf5::string_memtype(file_type);
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  if (H5Tis_variable_str(file_type) > 0) {
    std::vector<char*> ptrs(n, nullptr);
    if (read(mtype.get(), ptrs.data()) < 0) fail("cannot read " + what);
    for (char* p : ptrs) {
      out.emplace_back(p != nullptr ? p : "");
      H5free_memory(p);
    }
  } else {
    const std::size_t size = H5Tget_size(file_type);
    std::vector<char> buf(n * size + 1, '\0');
    if (read(mtype.get(), buf.data()) < 0) fail("cannot read " + what);
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}

template <class T>
Dataset write_numbers(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const T> data, hid_t file_type, hid_t mem_type) {
  Dataspace space = space_for(shape);
  PropList lcpl = intermediate_groups();
  Dataset d(H5Dcreate2(loc, path.c_str(), file_type, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!d) fail("cannot create dataset " + path);
  if (!data.empty() && H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0) {
    fail("cannot write dataset " + path);
  }
  return d;
}

template <class T>
std::vector<T> read_numbers(hid_t dataset, const std::string& path, hid_t mem_type) {
  Datatype t(H5Dget_type(dataset));
  if (H5Tget_class(t.get()) != H5T_FLOAT && H5Tget_class(t.get()) != H5T_INTEGER) {
    throw CheckpointError(path + " is not numeric");
  }
  Dataspace space(H5Dget_space(dataset));
  std::vector<T> v(element_count(space.get()));
  if (!v.empty() && H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    fail("cannot read " + path);
  }
  return v;
}

}  // namespace

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

std::string error_detail() {
  std::string msg = hdf5::innermost_error();
  return msg.empty() ? "no detail" : msg;
}

File create_file(const std::string& path) {
  // SEMI: closing the file fails if an object is still open, instead of silently
  // deferring the final metadata write past our fsync.
  PropList fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI);
  File f(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()));
  if (!f) fail("cannot create " + path);
  return f;
}

File open_file_read(const std::string& path) {
  File f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f) fail("truncated or corrupt HDF5 file");
  return f;
}

Group create_group(hid_t loc, const std::string& path) {
  PropList lcpl = intermediate_groups();
  Group g(H5Gcreate2(loc, path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!g) fail("cannot create group " + path);
  return g;
}

void write_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Datatype t = utf8_string_type();
  Dataspace space(H5Screate(H5S_SCALAR));
  Attribute a = create_attribute(obj, name, t.get(), space.get());
  const char* p = value.c_str();
  if (H5Awrite(a.get(), t.get(), &p) < 0) fail("cannot write attribute '" + name + "'");
}

void write_attribute(hid_t obj, const std::string& name, std::int64_t value) {
  write_scalar_attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}

void write_attribute(hid_t obj, const std::string& name, std::uint64_t value) {
  write_scalar_attribute(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, value);
}

void write_attribute(hid_t obj, const std::string& name, double value) {
  write_scalar_attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

void write_attribute(hid_t obj, const std::string& name, std::int8_t value) {
  write_scalar_attribute(obj, name, H5T_STD_I8LE, H5T_NATIVE_INT8, value);
}

void write_attribute(hid_t obj, const std::string& name, std::span<const std::string> values) {
  Datatype t = utf8_string_type();
  const std::int64_t n = static_cast<std::int64_t>(values.size());
  // An empty list is a null dataspace (a zero-length simple one is not allowed for
  // attributes in every HDF5 version).
  Dataspace space = n == 0 ? Dataspace(H5Screate(H5S_NULL)) : space_for(std::span(&n, 1));
  Attribute a = create_attribute(obj, name, t.get(), space.get());
  if (n == 0) return;
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (H5Awrite(a.get(), t.get(), ptrs.data()) < 0) fail("cannot write attribute '" + name + "'");
}

Dataset write_floats(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                     std::span<const float> data) {
  return write_numbers(loc, path, shape, data, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
}

Dataset write_doubles(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const double> data) {
  return write_numbers(loc, path, shape, data, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}

void write_string(hid_t loc, const std::string& path, const std::string& value) {
  Datatype t = utf8_string_type();
  Dataspace space(H5Screate(H5S_SCALAR));
  PropList lcpl = intermediate_groups();
  Dataset d(H5Dcreate2(loc, path.c_str(), t.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!d) fail("cannot create dataset " + path);
  const char* p = value.c_str();
  if (H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0) {
    fail("cannot write dataset " + path);
  }
}

void write_strings(hid_t loc, const std::string& path, std::span<const std::string> values) {
  Datatype t = utf8_string_type();
  const std::int64_t n = static_cast<std::int64_t>(values.size());
  Dataspace space = space_for(std::span(&n, 1));
  PropList lcpl = intermediate_groups();
  Dataset d(H5Dcreate2(loc, path.c_str(), t.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!d) fail("cannot create dataset " + path);
  if (n == 0) return;
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) {
    fail("cannot write dataset " + path);
  }
}

bool exists(hid_t loc, const std::string& path) {
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start < path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    start = slash + 1;
  }
  return true;
}

bool has_attribute(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

Group open_group(hid_t loc, const std::string& path) {
  if (!exists(loc, path)) throw CheckpointError("group " + path + " is missing");
  Group g(H5Gopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!g) fail("cannot open group " + path);
  return g;
}

Dataset open_dataset(hid_t loc, const std::string& path) {
  if (!exists(loc, path)) throw CheckpointError("dataset " + path + " is missing");
  Dataset d(H5Dopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!d) fail("cannot open dataset " + path);
  return d;
}

std::string read_string_attribute(hid_t obj, const std::string& name) {
  Attribute a = open_attribute(obj, name);
  Datatype t(H5Aget_type(a.get()));
  Dataspace space(H5Aget_space(a.get()));
  if (element_count(space.get()) != 1) {
    throw CheckpointError("attribute '" + name + "' is not a single string");
  }
  auto v = read_string_values(
      t.get(), 1, [&](hid_t mt, void* buf) { return H5Aread(a.get(), mt, buf); }, "attribute '" + name + "'");
  return v.front();
}

std::int64_t read_int_attribute(hid_t obj, const std::string& name) {
  return read_scalar_attribute<std::int64_t>(obj, name, H5T_NATIVE_INT64, false);
}

std::uint64_t read_uint_attribute(hid_t obj, const std::string& name) {
  return read_scalar_attribute<std::uint64_t>(obj, name, H5T_NATIVE_UINT64, false);
}

double read_double_attribute(hid_t obj, const std::string& name) {
  return read_scalar_attribute<double>(obj, name, H5T_NATIVE_DOUBLE, true);
}

std::vector<std::string> read_strings_attribute(hid_t obj, const std::string& name) {
  Attribute a = open_attribute(obj, name);
  Datatype t(H5Aget_type(a.get()));
  Dataspace space(H5Aget_space(a.get()));
  const std::size_t n = H5Sget_simple_extent_type(space.get()) == H5S_NULL ? 0 : element_count(space.get());
  return read_string_values(
      t.get(), n, [&](hid_t mt, void* buf) { return H5Aread(a.get(), mt, buf); }, "attribute '" + name + "'");
}

std::vector<std::string> attribute_names(hid_t obj) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t idx = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names) < 0) {
    fail("cannot list attributes");
  }
  return names;
}

std::vector<std::int64_t> shape_of(hid_t dataset) {
  Dataspace space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<std::int64_t>(dims.begin(), dims.end());
}

std::vector<float> read_floats(hid_t dataset, const std::string& path) {
  return read_numbers<float>(dataset, path, H5T_NATIVE_FLOAT);
}

std::vector<double> read_doubles(hid_t dataset, const std::string& path) {
  return read_numbers<double>(dataset, path, H5T_NATIVE_DOUBLE);
}

std::string read_string(hid_t loc, const std::string& path) {
  Dataset d = open_dataset(loc, path);
  Datatype t(H5Dget_type(d.get()));
  Dataspace space(H5Dget_space(d.get()));
  if (element_count(space.get()) != 1) throw CheckpointError(path + " is not a single string");
  auto v = read_string_values(
      t.get(), 1,
      [&](hid_t mt, void* buf) { return H5Dread(d.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }, path);
  return v.front();
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path) {
  Dataset d = open_dataset(loc, path);
  Datatype t(H5Dget_type(d.get()));
  Dataspace space(H5Dget_space(d.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw CheckpointError(path + " is not a list of strings");
  }
  return read_string_values(
      t.get(), element_count(space.get()),
      [&](hid_t mt, void* buf) { return H5Dread(d.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }, path);
}

std::vector<std::string> dataset_paths(hid_t loc) {
  std::vector<std::string> paths;
  auto visit = [](hid_t group, const char* name, const H5L_info_t* info, void* out) -> herr_t {
    if (info->type != H5L_TYPE_HARD) return 0;
    Object o(H5Oopen(group, name, H5P_DEFAULT));
    if (o && H5Iget_type(o.get()) == H5I_DATASET) {
      static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    }
    return 0;
  };
  if (H5Lvisit(loc, H5_INDEX_NAME, H5_ITER_INC, visit, &paths) < 0) fail("cannot list datasets");
  return paths;
}

}  // namespace dtrain::checkpoint::detail::h5
