#include "dtrain/tensor.hpp"

#include "dtrain/core/error.hpp"

#include <sstream>

namespace dtrain {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  for (auto d : dims) push_back(d);
}

Shape::Shape(const std::vector<std::int64_t>& dims) {
  for (auto d : dims) push_back(d);
}

void Shape::push_back(std::int64_t d) {
  if (rank_ == kMaxRank) {
    throw ShapeError("Shape: rank above " + std::to_string(kMaxRank) + " is not supported");
  }
  dims_[static_cast<std::size_t>(rank_++)] = d;
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

std::int64_t Shape::inner() const {
  std::int64_t n = 1;
  for (int i = 1; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

std::vector<std::int64_t> Shape::to_vector() const {
  return {dims_.begin(), dims_.begin() + rank_};
}

std::string Shape::str() const {
  std::ostringstream out;
  out << '[';
  for (int i = 0; i < rank_; ++i) {
    if (i) out << ", ";
    const auto d = dims_[static_cast<std::size_t>(i)];
    if (d < 0) {
      out << "batch";
    } else {
      out << d;
    }
  }
  out << ']';
  return out.str();
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

template <class T>
void BasicTensor<T>::reshape(const Shape& shape) {
  if (shape.numel() != shape_.numel()) {
    throw ShapeError("Tensor::reshape: cannot view " + shape_.str() + " as " + shape.str());
  }
  shape_ = shape;
}

template class BasicTensor<float>;
template class BasicTensor<double>;

void check_same_shape(const char* what, const Shape& expected, const Shape& got) {
  if (!(expected == got)) {
    throw ShapeError(std::string(what) + ": expected " + expected.str() + ", got " + got.str());
  }
}

}  // namespace dtrain
