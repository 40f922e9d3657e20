// hdf5 groups on a real file: exists (every link on the way, no dangling link),
// groups with their parents, and the datasets below a group.
#include "hdf5/groups.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hdf5/datasets.hpp"
#include "hdf5_test_util.hpp"

namespace dtrain::hdf5 {
namespace {

using test::failure_of;

class Hdf5Groups : public test::FreshFile {};

TEST_F(Hdf5Groups, CreateGroupMakesTheGroupsOnTheWay) {
  create_group(file(), "/optimizer/slots/dense_1", errors());
  EXPECT_TRUE(exists(file(), "/optimizer"));
  EXPECT_TRUE(exists(file(), "/optimizer/slots"));
  EXPECT_TRUE(exists(file(), "/optimizer/slots/dense_1"));
  EXPECT_TRUE(exists(file(), "/"));
  EXPECT_FALSE(exists(file(), "/optimizer/slots/dense_2"));
  EXPECT_FALSE(exists(file(), "/model/weights")) << "a missing parent is not an error";
  Group g = open_group(file(), "/optimizer", errors());
  EXPECT_TRUE(exists(g.get(), "slots/dense_1")) << "relative to a group";
  EXPECT_FALSE(exists(g.get(), "slots/dense_2"));
}

TEST_F(Hdf5Groups, ADanglingSoftLinkDoesNotExist) {
  create_group(file(), "/a", errors());
  ASSERT_GE(H5Lcreate_soft("/nowhere", file(), "/a/link", H5P_DEFAULT, H5P_DEFAULT), 0);
  EXPECT_FALSE(exists(file(), "/a/link"));
  ASSERT_GE(H5Lcreate_soft("/a", file(), "/to_a", H5P_DEFAULT, H5P_DEFAULT), 0);
  EXPECT_TRUE(exists(file(), "/to_a"));
}

TEST_F(Hdf5Groups, MissingGroupIsNamed) {
  EXPECT_EQ(failure_of([&] { open_group(file(), "/history", errors()); }),
            path() + ": group /history is missing");
  create_group(file(), "/a", errors());
  const auto msg = failure_of([&] { create_group(file(), "/a", errors()); });
  EXPECT_TRUE(msg.starts_with(path() + ": cannot create group /a (")) << msg;
}

TEST_F(Hdf5Groups, DatasetPathsListsEveryDatasetBelowAGroupInNameOrder) {
  const std::vector<float> one{1.0f};
  const std::int64_t shape[1] = {1};
  for (const char* p : {"/w/dense_2/kernel", "/w/dense_1/kernel", "/w/dense_1/bias", "/other/x"}) {
    write_floats(file(), p, shape, one, errors());
  }
  create_group(file(), "/w/empty", errors());
  ASSERT_GE(H5Lcreate_soft("/other/x", file(), "/w/soft", H5P_DEFAULT, H5P_DEFAULT), 0);
  Group w = open_group(file(), "/w", errors());
  EXPECT_EQ(dataset_paths(w.get(), errors()),
            (std::vector<std::string>{"dense_1/bias", "dense_1/kernel", "dense_2/kernel"}));
}

}  // namespace
}  // namespace dtrain::hdf5
