// Tensor: float32 (or double, for gradient checks), row-major, batch first.
//
//   Tensor x({128, 784});            // owning, 64-byte aligned, zero-filled
//   auto m = x.view().matrix();      // Eigen::Map<RowMatrix>, 128 x 784
//   View<float> v = x.view();        // non-owning (pointer + shape)
//
// A Shape has a fixed maximum rank and lives on the stack, so shapes can be
// recomputed inside a training step without allocating.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace dtrain {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims);

  int rank() const { return rank_; }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t numel() const;                // product of all dims (1 for rank 0)
  std::int64_t inner() const;                // product of dims 1..rank-1
  std::int64_t rows() const { return rank_ == 0 ? 1 : dims_[0]; }
  void push_back(std::int64_t d);
  std::vector<std::int64_t> to_vector() const;
  std::string str() const;                   // "[128, 784]"

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned>;
template <class T>
using VectorMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Unaligned>;

// A non-owning view: pointer + shape. T may be const.
template <class T>
struct View {
  T* data = nullptr;
  Shape shape;

  std::int64_t size() const { return shape.numel(); }
  bool empty() const { return data == nullptr; }
  // rows = shape[0], cols = the product of the other dims.
  Eigen::Map<std::conditional_t<std::is_const_v<T>, const RowMatrix<std::remove_const_t<T>>,
                                RowMatrix<T>>>
  matrix() const {
    return {data, shape.rows(), shape.rank() == 0 ? 1 : shape.inner()};
  }
  Eigen::Map<std::conditional_t<std::is_const_v<T>,
                                const Eigen::Array<std::remove_const_t<T>, Eigen::Dynamic, 1>,
                                Eigen::Array<T, Eigen::Dynamic, 1>>>
  array() const {
    return {data, size()};
  }
  operator View<const T>() const { return {data, shape}; }  // NOLINT: implicit by design
};

// Buffers are 64-byte aligned so vector code sees the same alignment every run:
// that keeps results bitwise reproducible.
template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

template <class T>
class BasicTensor {
 public:
  BasicTensor() = default;
  explicit BasicTensor(const Shape& shape, T fill = T(0))
      : shape_(shape), data_(static_cast<std::size_t>(shape.numel()), fill) {}

  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return shape_.numel(); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  T& operator[](std::int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  const T& operator[](std::int64_t i) const { return data_[static_cast<std::size_t>(i)]; }
  View<T> view() { return {data_.data(), shape_}; }
  View<const T> view() const { return {data_.data(), shape_}; }

  // Same element count, new shape; throws ShapeError otherwise.
  void reshape(const Shape& shape);

 private:
  Shape shape_;
  AlignedVector<T> data_;
};

using Tensor = BasicTensor<float>;

// Throws ShapeError("<what>: expected [..], got [..]") unless a == b.
void check_same_shape(const char* what, const Shape& expected, const Shape& got);

}  // namespace dtrain
