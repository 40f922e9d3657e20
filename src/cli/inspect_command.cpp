// dtrain inspect FILE: a readable summary of a dataset or checkpoint file.
//
// The kind of file comes from data::detect_file_kind (root attribute `format`);
// kSummaries maps each kind to its summary.
#include "commands.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/data/inspect.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace dtrain::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool check = true;
};

void summarise_dataset(const InspectOptions& o) {
  const auto info = data::read_dataset_info(o.path);
  data::describe_dataset(info, std::cout);
  if (o.check) {
    data::validate_dataset(info);
    std::cout << "  check: ok (no NaN/Inf in features, labels within [0, num_classes))\n";
  }
}

void summarise_tree(const InspectOptions& o) { data::describe_hdf5(o.path, std::cout); }

void summarise_checkpoint(const InspectOptions& o) { std::cout << checkpoint::describe_checkpoint(o.path); }

struct Summary {
  data::FileKind kind;
  void (*print)(const InspectOptions&);
};

// One row per kind of file.
constexpr Summary kSummaries[] = {
    {data::FileKind::kDataset, summarise_dataset},
    {data::FileKind::kCheckpoint, summarise_checkpoint},
    {data::FileKind::kOtherHdf5, summarise_tree},
};

}  // namespace

void register_inspect_command(CLI::App& app) {
  auto opts = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Summarise an HDF5 dataset or checkpoint file");
  cmd->add_option("file", opts->path, "HDF5 file")->required();
  cmd->add_flag("--check,!--no-check", opts->check,
                "Datasets: read every row and check NaN/Inf and label ranges (default on)");
  cmd->callback([opts] {
    const auto kind = data::detect_file_kind(opts->path);
    for (const auto& s : kSummaries) {
      if (s.kind == kind) return s.print(*opts);
    }
  });
}

}  // namespace dtrain::cli
