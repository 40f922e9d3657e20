// Shape, Tensor and View (include/dtrain/tensor.hpp): dimensions, element
// counts, the text form used in error messages, reshape, views and their Eigen
// maps, alignment, and the ShapeErrors.
#include "dtrain/tensor.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace dtrain {
namespace {

// The message of the ShapeError that fn throws ("" if it throws none).
template <class F>
std::string shape_error(F&& fn) {
  try {
    fn();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "";
}

TEST(Shape, RankZeroIsAScalar) {
  const Shape s;
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.inner(), 1);
  EXPECT_EQ(s.rows(), 1);
  EXPECT_EQ(s.str(), "[]");
  EXPECT_TRUE(s.to_vector().empty());
}

TEST(Shape, DimensionsCountsAndText) {
  const Shape s{128, 784};
  EXPECT_EQ(s.rank(), 2);
  EXPECT_EQ(s[0], 128);
  EXPECT_EQ(s[1], 784);
  EXPECT_EQ(s.numel(), 128 * 784);
  EXPECT_EQ(s.inner(), 784);
  EXPECT_EQ(s.rows(), 128);
  EXPECT_EQ(s.str(), "[128, 784]");
  EXPECT_EQ(s.to_vector(), (std::vector<std::int64_t>{128, 784}));

  const Shape images{32, 28, 28, 1};  // NHWC
  EXPECT_EQ(images.numel(), 32 * 28 * 28);
  EXPECT_EQ(images.inner(), 28 * 28);
  EXPECT_EQ(images.str(), "[32, 28, 28, 1]");

  const Shape vector{10};
  EXPECT_EQ(vector.numel(), 10);
  EXPECT_EQ(vector.inner(), 1);  // the product of no dimensions
  EXPECT_EQ(vector.rows(), 10);
}

TEST(Shape, AZeroDimensionHoldsNothing) {
  const Shape s{0, 784};
  EXPECT_EQ(s.numel(), 0);
  EXPECT_EQ(s.inner(), 784);
  EXPECT_EQ(s.str(), "[0, 784]");
}

TEST(Shape, TheBatchDimensionPrintsAsBatch) {
  // A negative dimension is the symbolic batch (graph::kBatch == -1).
  EXPECT_EQ((Shape{-1, 10}).str(), "[batch, 10]");
  EXPECT_EQ((Shape{-1, 28, 28, 1}).str(), "[batch, 28, 28, 1]");
}

TEST(Shape, VectorAndListConstructionAgree) {
  const std::vector<std::int64_t> dims{2, 3, 4};
  EXPECT_EQ(Shape(dims), (Shape{2, 3, 4}));
  EXPECT_EQ(Shape(std::vector<std::int64_t>{}), Shape());
  Shape built;
  for (auto d : dims) built.push_back(d);
  EXPECT_EQ(built, Shape(dims));
}

TEST(Shape, EqualityComparesRankAndEveryDimension) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_FALSE((Shape{2, 3}) == (Shape{3, 2}));
  EXPECT_FALSE((Shape{6}) == (Shape{6, 1}));  // same numel, other rank
  EXPECT_FALSE((Shape{6, 1}) == (Shape{6}));
  EXPECT_FALSE(Shape() == (Shape{1}));
}

TEST(Shape, DimensionsCanBeAssigned) {
  Shape s{4, 5};
  s[0] = 7;
  EXPECT_EQ(s, (Shape{7, 5}));
  EXPECT_EQ(s.numel(), 35);
}

TEST(Shape, RankAboveTheMaximumIsAShapeError) {
  Shape s{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(s.rank(), Shape::kMaxRank);
  const auto what = shape_error([&] { s.push_back(7); });
  EXPECT_NE(what.find("rank above 6"), std::string::npos) << what;
  EXPECT_EQ(s.rank(), Shape::kMaxRank);  // unchanged
  EXPECT_THROW((void)Shape({1, 2, 3, 4, 5, 6, 7}), ShapeError);
  EXPECT_THROW((void)Shape(std::vector<std::int64_t>(7, 1)), ShapeError);
}

TEST(Tensor, IsZeroFilledOrFilledWithTheGivenValue) {
  const Tensor zeros({3, 4});
  EXPECT_EQ(zeros.shape(), (Shape{3, 4}));
  EXPECT_EQ(zeros.size(), 12);
  for (std::int64_t i = 0; i < zeros.size(); ++i) EXPECT_EQ(zeros[i], 0.0f);

  const Tensor sevens({2, 2, 2}, 7.5f);
  EXPECT_EQ(sevens.size(), 8);
  for (std::int64_t i = 0; i < sevens.size(); ++i) EXPECT_EQ(sevens[i], 7.5f);
}

TEST(Tensor, StorageIs64ByteAligned) {
  for (std::int64_t n : {1, 3, 17, 1000}) {
    Tensor t({n});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u) << n << " floats";
    BasicTensor<double> d({n});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d.data()) % 64, 0u) << n << " doubles";
  }
}

TEST(Tensor, ElementsAreRowMajor) {
  Tensor t({2, 3});
  for (std::int64_t i = 0; i < 6; ++i) t[i] = static_cast<float>(i);
  const auto m = t.view().matrix();
  EXPECT_EQ(m(0, 2), 2.0f);
  EXPECT_EQ(m(1, 0), 3.0f);
  EXPECT_EQ(m(1, 2), 5.0f);
}

TEST(Tensor, ReshapeKeepsTheDataAndChecksTheCount) {
  Tensor t({2, 3});
  for (std::int64_t i = 0; i < 6; ++i) t[i] = static_cast<float>(i);
  const float* before = t.data();
  t.reshape({3, 2});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.data(), before);
  EXPECT_EQ(t[5], 5.0f);
  t.reshape({6});
  EXPECT_EQ(t.shape(), (Shape{6}));

  const auto what = shape_error([&] { t.reshape({4, 2}); });
  EXPECT_EQ(what, "Tensor::reshape: cannot view [6] as [4, 2]");
  EXPECT_EQ(t.shape(), (Shape{6}));  // unchanged after the error
}

TEST(Tensor, DoubleTensorsWork) {
  BasicTensor<double> t({2, 2}, 0.25);
  EXPECT_EQ(t.size(), 4);
  EXPECT_EQ(t[3], 0.25);
  t.reshape({4});
  EXPECT_EQ(t.view().array().sum(), 1.0);
}

TEST(View, SharesTheTensorStorage) {
  Tensor t({2, 3});
  View<float> v = t.view();
  EXPECT_EQ(v.data, t.data());
  EXPECT_EQ(v.shape, t.shape());
  EXPECT_EQ(v.size(), 6);
  EXPECT_FALSE(v.empty());
  v.data[4] = 9.0f;
  EXPECT_EQ(t[4], 9.0f);
  v.matrix()(0, 1) = 2.0f;
  EXPECT_EQ(t[1], 2.0f);
  v.array() += 1.0f;
  EXPECT_EQ(t[0], 1.0f);
  EXPECT_EQ(t[4], 10.0f);
}

TEST(View, MatrixIsRowsByTheProductOfTheOtherDimensions) {
  Tensor images({4, 5, 6, 2});
  const auto m = images.view().matrix();
  EXPECT_EQ(m.rows(), 4);
  EXPECT_EQ(m.cols(), 5 * 6 * 2);

  Tensor vector({7});
  EXPECT_EQ(vector.view().matrix().rows(), 7);
  EXPECT_EQ(vector.view().matrix().cols(), 1);

  Tensor scalar{Shape{}, 3.0f};
  const auto s = scalar.view().matrix();
  EXPECT_EQ(s.rows(), 1);
  EXPECT_EQ(s.cols(), 1);
  EXPECT_EQ(s(0, 0), 3.0f);
}

TEST(View, ConstViewsAreReadOnlyAndConvertImplicitly) {
  Tensor t({2, 2}, 1.0f);
  const Tensor& ct = t;
  View<const float> cv = ct.view();
  static_assert(std::is_same_v<decltype(cv.data), const float*>);
  EXPECT_EQ(cv.array().sum(), 4.0f);
  View<const float> from_mutable = t.view();  // View<T> -> View<const T>
  EXPECT_EQ(from_mutable.data, t.data());
  EXPECT_EQ(from_mutable.shape, t.shape());
}

TEST(View, DefaultViewIsEmpty) {
  const View<float> v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.data, nullptr);
}

TEST(CheckSameShape, PassesOnEqualShapesAndNamesBothOtherwise) {
  EXPECT_NO_THROW(check_same_shape("add", Shape{2, 3}, Shape{2, 3}));
  const auto what = shape_error([] { check_same_shape("add", Shape{2, 3}, Shape{3, 2}); });
  EXPECT_EQ(what, "add: expected [2, 3], got [3, 2]");
  EXPECT_THROW(check_same_shape("x", Shape{6}, Shape{6, 1}), ShapeError);
}

TEST(ShapeError, IsADtrainError) {
  // Callers catch dtrain::Error for every library failure (main maps it to an exit code).
  try {
    check_same_shape("matmul", Shape{1}, Shape{2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(dynamic_cast<const ShapeError*>(&e), nullptr);
  }
}

}  // namespace
}  // namespace dtrain
