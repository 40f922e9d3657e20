// hdf5 datasets on a real file: numbers and text round trips, dims and type as
// text, and errors naming the file and the dataset.
#include "hdf5/datasets.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5/groups.hpp"
#include "hdf5_test_util.hpp"

namespace dtrain::hdf5 {
namespace {

using test::failure_of;

class Hdf5Datasets : public test::FreshFile {
 protected:
  // A [rows] dataset of `type` written with the plain C API.
  void write_raw(const std::string& name, hid_t type, hsize_t rows, const void* data) {
    Dataspace space(H5Screate_simple(1, &rows, nullptr));
    Dataset d(H5Dcreate2(file(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    ASSERT_TRUE(d);
    ASSERT_GE(H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
};

TEST_F(Hdf5Datasets, NumbersRoundTripWithTheirShape) {
  const std::vector<float> w{1, 2, 3, 4, 5, 6};
  const std::int64_t shape[2] = {2, 3};
  write_floats(file(), "/model/weights/dense_1/kernel", shape, w, errors());
  const std::vector<double> h{0.25, 0.5};
  const std::int64_t rows[1] = {2};
  write_doubles(file(), "/history/loss", rows, h, errors());
  write_floats(file(), "/scalar", {}, std::vector<float>{7.0f}, errors());

  Dataset d = open_dataset(file(), "/model/weights/dense_1/kernel", errors());
  EXPECT_EQ(dims_of(d.get()), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(dims_text(dims_of(d.get())), "[2, 3]");
  EXPECT_EQ(dtype_text(d.get()), "float32");
  EXPECT_EQ(read_floats(d.get(), "/model/weights/dense_1/kernel", errors()), w);
  Dataset hd = open_dataset(file(), "/history/loss", errors());
  EXPECT_EQ(read_doubles(hd.get(), "/history/loss", errors()), h);
  EXPECT_EQ(dtype_text(hd.get()), "float64");
  Dataset s = open_dataset(file(), "/scalar", errors());
  EXPECT_EQ(dims_of(s.get()), std::vector<std::int64_t>{});
  EXPECT_EQ(dims_text({}), "[]");
  EXPECT_EQ(read_floats(s.get(), "/scalar", errors()), std::vector<float>{7.0f});
}

TEST_F(Hdf5Datasets, TypesAreNamed) {
  const std::uint8_t bytes[3] = {0, 1, 255};
  const std::int64_t labels[3] = {0, 1, 2};
  write_raw("u8", H5T_NATIVE_UINT8, 3, bytes);
  write_raw("i64", H5T_NATIVE_INT64, 3, labels);
  write_string(file(), "/text", "x", errors());
  EXPECT_EQ(dtype_text(open_dataset(file(), "/u8", errors()).get()), "uint8");
  EXPECT_EQ(dtype_text(open_dataset(file(), "/i64", errors()).get()), "int64");
  EXPECT_EQ(dtype_text(open_dataset(file(), "/text", errors()).get()), "string");
  Dataset i = open_dataset(file(), "/i64", errors());
  EXPECT_EQ(read_doubles(i.get(), "/i64", errors()), (std::vector<double>{0, 1, 2})) << "integers convert";
}

TEST_F(Hdf5Datasets, TextRoundTrips) {
  write_string(file(), "/model/config", "{\"layers\": []}", errors());
  const std::vector<std::string> names{"dense_1/kernel", "dense_1/bias"};
  write_strings(file(), "/model/weight_names", names, errors());
  write_strings(file(), "/callbacks/names", {}, errors());
  EXPECT_EQ(read_string(file(), "/model/config", errors()), "{\"layers\": []}");
  EXPECT_EQ(read_strings(file(), "/model/weight_names", errors()), names);
  EXPECT_EQ(read_strings(file(), "/callbacks/names", errors()), std::vector<std::string>{});
}

TEST_F(Hdf5Datasets, ErrorsNameTheFileAndTheDataset) {
  EXPECT_EQ(failure_of([&] { open_dataset(file(), "/train/x", errors()); }),
            path() + ": dataset /train/x is missing");
  create_group(file(), "/train", errors());
  EXPECT_EQ(failure_of([&] { open_dataset(file(), "/train", errors()); }),
            path() + ": /train is not a dataset");
  write_string(file(), "/config", "{}", errors());
  const std::vector<std::string> two{"a", "b"};
  write_strings(file(), "/names", two, errors());
  const std::int64_t one = 1;
  write_raw("/number", H5T_NATIVE_INT64, 1, &one);
  Dataset config = open_dataset(file(), "/config", errors());
  EXPECT_EQ(failure_of([&] { read_floats(config.get(), "/config", errors()); }),
            path() + ": /config is not numeric");
  EXPECT_EQ(failure_of([&] { read_string(file(), "/names", errors()); }),
            path() + ": /names is not a single string");
  EXPECT_EQ(failure_of([&] { read_strings(file(), "/config", errors()); }),
            path() + ": /config is not a list of strings");
  EXPECT_EQ(failure_of([&] { read_strings(file(), "/number", errors()); }), path() + ": /number is not text");
  EXPECT_EQ(failure_of([&] { read_string(file(), "/missing", errors()); }),
            path() + ": dataset /missing is missing");
  const auto again = failure_of([&] { write_string(file(), "/config", "{}", errors()); });
  EXPECT_TRUE(again.starts_with(path() + ": cannot create dataset /config (")) << again;
}

}  // namespace
}  // namespace dtrain::hdf5
