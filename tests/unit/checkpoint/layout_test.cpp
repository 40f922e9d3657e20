// The file layout as h5ls (hdf5-tools) shows it: the groups and dataset shapes of
// docs/checkpoint-format.md, so people can read checkpoints with h5ls/h5dump/h5py.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

using ckpt_test::ScratchDir;

// The output of a command (fails the test if it cannot run or exits non-zero).
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0) << command << "\n" << out;
  return out;
}

// "h5ls -r": one "<path>  <Group | Dataset {dims}>" line per object.
std::map<std::string, std::string> h5ls_tree(const std::string& path) {
  std::map<std::string, std::string> tree;
  std::istringstream lines(run("h5ls -r '" + path + "'"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const auto rest = line.find_first_not_of(' ', space);
    tree[line.substr(0, space)] = line.substr(rest);
  }
  return tree;
}

TEST(CheckpointLayout, H5lsShowsTheDocumentedTree) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt-000120.h5");
  save_checkpoint(path, ckpt_test::full_state());
  const auto tree = h5ls_tree(path);
  const std::map<std::string, std::string> expected = {
      {"/", "Group"},
      {"/callbacks", "Group"},
      {"/callbacks/names", "Dataset {2}"},
      {"/callbacks/states", "Dataset {2}"},
      {"/history", "Group"},
      {"/history/accuracy", "Dataset {2}"},
      {"/history/epoch", "Dataset {2}"},
      {"/history/loss", "Dataset {2}"},
      {"/history/val_loss", "Dataset {2}"},
      {"/metric_states", "Group"},
      {"/metric_states/accuracy", "Dataset {2}"},
      {"/metric_states/loss", "Dataset {2}"},
      {"/metric_states/val", "Group"},
      {"/metric_states/val/auc", "Dataset {0}"},
      {"/model", "Group"},
      {"/model/config", "Dataset {SCALAR}"},
      {"/model/weight_names", "Dataset {5}"},
      {"/model/weights", "Group"},
      {"/model/weights/dense_1", "Group"},
      {"/model/weights/dense_1/bias", "Dataset {3}"},
      {"/model/weights/dense_1/kernel", "Dataset {4, 3}"},
      {"/model/weights/dense_2", "Group"},
      {"/model/weights/dense_2/bias", "Dataset {2}"},
      {"/model/weights/dense_2/kernel", "Dataset {3, 2}"},
      {"/model/weights/scale", "Dataset {SCALAR}"},
      {"/optimizer", "Group"},
      {"/optimizer/config", "Dataset {SCALAR}"},
      {"/optimizer/global", "Group"},
      {"/optimizer/global/nadam", "Group"},
      {"/optimizer/global/nadam/u_product", "Dataset {SCALAR}"},
      {"/optimizer/global_names", "Dataset {1}"},
      {"/optimizer/slot_names", "Dataset {8}"},
      {"/optimizer/slots", "Group"},
      {"/optimizer/slots/dense_1", "Group"},
      {"/optimizer/slots/dense_1/bias", "Group"},
      {"/optimizer/slots/dense_1/bias/m", "Dataset {3}"},
      {"/optimizer/slots/dense_1/bias/v", "Dataset {3}"},
      {"/optimizer/slots/dense_1/kernel", "Group"},
      {"/optimizer/slots/dense_1/kernel/m", "Dataset {4, 3}"},
      {"/optimizer/slots/dense_1/kernel/v", "Dataset {4, 3}"},
      {"/optimizer/slots/dense_2", "Group"},
      {"/optimizer/slots/dense_2/kernel", "Group"},
      {"/optimizer/slots/dense_2/kernel/m", "Dataset {3, 2}"},
      {"/optimizer/slots/dense_2/kernel/v", "Dataset {3, 2}"},
      {"/optimizer/slots/scale", "Group"},
      {"/optimizer/slots/scale/m", "Dataset {SCALAR}"},
      {"/optimizer/slots/scale/v", "Dataset {SCALAR}"},
      {"/progress", "Group"},
      {"/progress/rng", "Group"},
      {"/run_config", "Dataset {SCALAR}"},
  };
  EXPECT_EQ(tree, expected);
}

TEST(CheckpointLayout, RootAttributesAreReadableWithH5dump) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  const std::string attrs = run("h5dump -A -g / '" + path + "'");
  for (const char* part :
       {"ATTRIBUTE \"format\"", "\"dtrain-checkpoint\"", "ATTRIBUTE \"format_version\"", "ATTRIBUTE \"step\"",
        "ATTRIBUTE \"epoch\"", "ATTRIBUTE \"world_size\"", "ATTRIBUTE \"seed\"", "ATTRIBUTE \"checksum\"",
        "\"xxh64\"", "ATTRIBUTE \"monitor\"", "\"val_loss\""}) {
    EXPECT_NE(attrs.find(part), std::string::npos) << part << "\n" << attrs;
  }
  // The model config is stored verbatim as a string dataset.
  const std::string config = run("h5dump -d /model/config '" + path + "'");
  EXPECT_NE(config.find(R"([{"class_name": "Dense", "units": 3}])"), std::string::npos) << config;
}

}  // namespace
}  // namespace dtrain::checkpoint
