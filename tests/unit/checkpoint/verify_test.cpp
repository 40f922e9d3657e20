// verify_weights: each difference names the weight and, for shapes, both shapes.
#include <gtest/gtest.h>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

using ckpt_test::checkpoint_error_of;

std::vector<WeightSpec> model_specs() {
  return {{"dense_1/kernel", {4, 3}},
          {"dense_1/bias", {3}},
          {"dense_2/kernel", {3, 2}},
          {"dense_2/bias", {2}},
          {"scale", {}}};
}

TEST(VerifyWeights, MatchingWeightsPass) {
  EXPECT_NO_THROW(verify_weights(ckpt_test::full_state(), model_specs()));
}

TEST(VerifyWeights, ShapeMismatchNamesTheParameterAndBothShapes) {
  auto specs = model_specs();
  specs[0].shape = {4, 5};  // the model now has 5 units in dense_1
  const auto msg =
      checkpoint_error_of([&] { verify_weights(ckpt_test::full_state(), specs, "runs/x/ckpt.h5"); });
  EXPECT_EQ(msg,
            "runs/x/ckpt.h5: the checkpoint's weights do not match the model: dense_1/kernel: "
            "shape [4, 3] in the checkpoint, [4, 5] in the model");
}

TEST(VerifyWeights, MissingAndExtraWeightsAreNamed) {
  auto specs = model_specs();
  specs.erase(specs.begin() + 4);               // the checkpoint's "scale" is extra
  specs.push_back({"dense_3/kernel", {2, 1}});  // not in the checkpoint
  const auto msg = checkpoint_error_of([&] { verify_weights(ckpt_test::full_state(), specs); });
  EXPECT_EQ(msg,
            "checkpoint: the checkpoint's weights do not match the model: missing dense_3/kernel "
            "[2, 1] (in the model, not in the checkpoint); unexpected scale [] (in the "
            "checkpoint, not in the model)");
}

}  // namespace
}  // namespace dtrain::checkpoint
