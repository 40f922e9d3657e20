#include "hdf5/attributes.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include "hdf5/values.hpp"

namespace dtrain::hdf5 {
namespace {

// Why a read gave no value; the strict reads word it, the lenient ones drop it.
enum class Problem {
  kNone,
  kMissing,
  kCannotOpen,
  kNotNumber,
  kNotInteger,
  kNotText,
  kNotSingle,
  kCannotRead
};

struct Outcome {
  Problem problem = Problem::kNone;
  std::string hdf5_message;  // for kCannotOpen / kCannotRead, read before the handles close
  bool ok() const { return problem == Problem::kNone; }
};

[[noreturn]] void report(const Outcome& o, const std::string& name, const Errors& errors,
                         const char* single) {
  const std::string attribute = "attribute '" + name + "'";
  switch (o.problem) {
    case Problem::kMissing:
      errors.fail(attribute + " is missing");
    case Problem::kCannotOpen:
      errors.fail_hdf5("cannot open " + attribute, o.hdf5_message);
    case Problem::kNotNumber:
      errors.fail(attribute + " is not a number");
    case Problem::kNotInteger:
      errors.fail(attribute + " is not an integer");
    case Problem::kNotText:
      errors.fail(attribute + " is not text");
    case Problem::kNotSingle:
      errors.fail(attribute + " is not a single " + single);
    case Problem::kNone:
    case Problem::kCannotRead:
      break;
  }
  errors.fail_hdf5("cannot read " + attribute, o.hdf5_message);
}

Outcome open(hid_t object, const std::string& name, Attribute& a) {
  if (H5Aexists(object, name.c_str()) <= 0) return {Problem::kMissing};
  a = Attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
  if (!a) return {Problem::kCannotOpen, innermost_error()};
  return {};
}

H5T_class_t class_of(hid_t attribute) {
  Datatype t(H5Aget_type(attribute));
  return H5Tget_class(t.get());
}

std::size_t count_of(hid_t attribute) {
  Dataspace space(H5Aget_space(attribute));
  return values::element_count(space.get());
}

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return H5T_NATIVE_INT64;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    return H5T_NATIVE_UINT64;
  } else if constexpr (std::is_same_v<T, std::int8_t>) {
    return H5T_NATIVE_INT8;
  } else if constexpr (std::is_same_v<T, float>) {
    return H5T_NATIVE_FLOAT;
  } else {
    static_assert(std::is_same_v<T, double>);
    return H5T_NATIVE_DOUBLE;
  }
}

// True if d is a whole number that T holds (2^63 and 2^64 are exact doubles).
template <class T>
bool holds_whole(double d) {
  constexpr double kEnd = std::is_signed_v<T> ? 9223372036854775808.0 : 18446744073709551616.0;
  constexpr double kBegin = std::is_signed_v<T> ? -kEnd : 0.0;
  return std::isfinite(d) && d == std::trunc(d) && d >= kBegin && d < kEnd;
}

// One number: an integer or a float, of one element; an integer T also takes a
// float holding a whole number.
template <class T>
Outcome read_number(hid_t object, const std::string& name, T& value) {
  Attribute a;
  if (Outcome o = open(object, name, a); !o.ok()) return o;
  const H5T_class_t cls = class_of(a.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return {Problem::kNotNumber};
  if (count_of(a.get()) != 1) return {Problem::kNotSingle};
  if constexpr (std::is_integral_v<T>) {
    if (cls == H5T_FLOAT) {
      double d = 0;
      if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &d) < 0) return {Problem::kCannotRead, innermost_error()};
      if (!holds_whole<T>(d)) return {Problem::kNotInteger};
      value = static_cast<T>(d);
      return {};
    }
  }
  if (H5Aread(a.get(), native_type<T>(), &value) < 0) return {Problem::kCannotRead, innermost_error()};
  return {};
}

Outcome read_text(hid_t object, const std::string& name, std::vector<std::string>& out) {
  Attribute a;
  if (Outcome o = open(object, name, a); !o.ok()) return o;
  Datatype t(H5Aget_type(a.get()));
  if (H5Tget_class(t.get()) != H5T_STRING) return {Problem::kNotText};
  if (!values::read_strings(a.get(), t.get(), count_of(a.get()), values::read_attribute_into, out)) {
    return {Problem::kCannotRead, innermost_error()};
  }
  return {};
}

template <class T>
T strict_number(hid_t object, const std::string& name, const Errors& errors) {
  T value{};
  if (Outcome o = read_number(object, name, value); !o.ok()) report(o, name, errors, "value");
  return value;
}

template <class T>
std::optional<T> lenient_number(hid_t object, const std::string& name) {
  T value{};
  if (!read_number(object, name, value).ok()) return std::nullopt;
  return value;
}

// Every element as T (for listings); {} if HDF5 cannot read them.
template <class T>
std::vector<T> all_numbers(hid_t attribute) {
  std::vector<T> v(count_of(attribute));
  if (!v.empty() && H5Aread(attribute, native_type<T>(), v.data()) < 0) return {};
  return v;
}

std::string number_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

Attribute create(hid_t object, const std::string& name, hid_t type, hid_t space, const Errors& errors) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  Attribute a(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a) errors.fail_hdf5("cannot create attribute '" + name + "'");
  return a;
}

void write(hid_t object, const std::string& name, hid_t file_type, hid_t mem_type, hid_t space,
           const void* data, const Errors& errors) {
  Attribute a = create(object, name, file_type, space, errors);
  if (data != nullptr && H5Awrite(a.get(), mem_type, data) < 0) {
    errors.fail_hdf5("cannot write attribute '" + name + "'");
  }
}

template <class T>
void write_scalar(hid_t object, const std::string& name, hid_t file_type, T value, const Errors& errors) {
  Dataspace space(H5Screate(H5S_SCALAR));
  write(object, name, file_type, native_type<T>(), space.get(), &value, errors);
}

}  // namespace

bool has_attribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

std::optional<std::vector<std::string>> find_attribute_names(hid_t object) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t idx = 0;
  if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names) < 0) return std::nullopt;
  return names;
}

std::vector<std::string> attribute_names(hid_t object, const Errors& errors) {
  auto names = find_attribute_names(object);
  if (!names) errors.fail_hdf5("cannot list attributes");
  return std::move(*names);
}

std::int64_t read_int_attribute(hid_t object, const std::string& name, const Errors& errors) {
  return strict_number<std::int64_t>(object, name, errors);
}

std::uint64_t read_uint_attribute(hid_t object, const std::string& name, const Errors& errors) {
  return strict_number<std::uint64_t>(object, name, errors);
}

double read_double_attribute(hid_t object, const std::string& name, const Errors& errors) {
  return strict_number<double>(object, name, errors);
}

std::string read_string_attribute(hid_t object, const std::string& name, const Errors& errors) {
  std::vector<std::string> v;
  if (Outcome o = read_text(object, name, v); !o.ok()) report(o, name, errors, "string");
  if (v.size() != 1) report({Problem::kNotSingle}, name, errors, "string");
  return std::move(v.front());
}

std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name, const Errors& errors) {
  std::vector<std::string> v;
  if (Outcome o = read_text(object, name, v); !o.ok()) report(o, name, errors, "string");
  return v;
}

std::optional<std::int64_t> find_int_attribute(hid_t object, const std::string& name) {
  return lenient_number<std::int64_t>(object, name);
}

std::optional<double> find_double_attribute(hid_t object, const std::string& name) {
  return lenient_number<double>(object, name);
}

std::optional<std::string> find_string_attribute(hid_t object, const std::string& name) {
  std::vector<std::string> v;
  if (!read_text(object, name, v).ok() || v.size() != 1) return std::nullopt;
  return std::move(v.front());
}

std::optional<std::vector<std::string>> find_strings_attribute(hid_t object, const std::string& name) {
  std::vector<std::string> v;
  if (!read_text(object, name, v).ok()) return std::nullopt;
  return v;
}

std::string attribute_text(hid_t object, const std::string& name) {
  Attribute a;
  if (!open(object, name, a).ok()) return "";
  std::vector<std::string> items;
  switch (class_of(a.get())) {
    case H5T_INTEGER:
      for (auto v : all_numbers<std::int64_t>(a.get())) items.push_back(std::to_string(v));
      break;
    case H5T_FLOAT:
      for (auto v : all_numbers<double>(a.get())) items.push_back(number_text(v));
      break;
    case H5T_STRING: {
      Datatype t(H5Aget_type(a.get()));
      std::vector<std::string> text;
      values::read_strings(a.get(), t.get(), count_of(a.get()), values::read_attribute_into, text);
      for (auto& s : text) items.push_back('"' + s + '"');
      break;
    }
    default:
      return "(unsupported attribute type)";
  }
  Dataspace space(H5Aget_space(a.get()));
  if (H5Sget_simple_extent_type(space.get()) == H5S_SCALAR && items.size() == 1) return items[0];
  std::string out = "[";
  const std::size_t shown = std::min<std::size_t>(items.size(), 12);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + items[i];
  if (shown < items.size()) out += ", ... (" + std::to_string(items.size()) + " values)";
  return out + "]";
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value, const Errors& errors) {
  write_scalar(object, name, H5T_STD_I64LE, value, errors);
}

void write_attribute(hid_t object, const std::string& name, std::uint64_t value, const Errors& errors) {
  write_scalar(object, name, H5T_STD_U64LE, value, errors);
}

void write_attribute(hid_t object, const std::string& name, std::int8_t value, const Errors& errors) {
  write_scalar(object, name, H5T_STD_I8LE, value, errors);
}

void write_attribute(hid_t object, const std::string& name, double value, const Errors& errors) {
  write_scalar(object, name, H5T_IEEE_F64LE, value, errors);
}

void write_attribute(hid_t object, const std::string& name, float value, const Errors& errors) {
  write_scalar(object, name, H5T_IEEE_F32LE, value, errors);
}

void write_attribute(hid_t object, const std::string& name, const std::string& value, const Errors& errors) {
  Datatype t = values::utf8_string_type();
  Dataspace space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write(object, name, t.get(), t.get(), space.get(), &p, errors);
}

void write_attribute(hid_t object, const std::string& name, std::span<const std::string> items,
                     const Errors& errors) {
  Datatype t = values::utf8_string_type();
  // An empty list is a null dataspace (a zero-length simple one is not allowed for
  // attributes in every HDF5 version).
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  Dataspace space = n == 0 ? Dataspace(H5Screate(H5S_NULL)) : values::space_for(std::span(&n, 1));
  std::vector<const char*> ptrs;
  for (const auto& v : items) ptrs.push_back(v.c_str());
  write(object, name, t.get(), t.get(), space.get(), n == 0 ? nullptr : ptrs.data(), errors);
}

}  // namespace dtrain::hdf5
