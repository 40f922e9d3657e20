// dtrain data import-idx|import-csv|split: build HDF5 dataset files (data/README.md).
#include "commands.hpp"
#include "validators.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/data/import.hpp"
#include "dtrain/data/split.hpp"

#include <iostream>
#include <memory>

namespace dtrain::cli {
namespace {

void print_written(const data::DatasetInfo& info) {
  std::cout << "wrote " << info.path << ":";
  for (const auto& s : info.splits) {
    std::cout << ' ' << (s.name.empty() ? "/x" : "/" + s.name) << ' ' << s.rows;
  }
  std::cout << " rows of " << info.splits.front().sample_shape.str() << ' '
            << data::storage_type_name(info.splits.front().x_type);
  if (info.task == data::Task::kClassification) {
    std::cout << ", " << info.num_classes << " classes";
  } else {
    std::cout << ", " << info.splits.front().targets << " regression target(s)";
  }
  std::cout << '\n';
}

void add_import_idx(CLI::App& data) {
  auto opts = std::make_shared<data::IdxImportOptions>();
  auto* cmd = data.add_subcommand("import-idx", "Import MNIST-style IDX files (gzip or plain)");
  cmd->add_option("--images", opts->images, "IDX file of images [N, ...]")->required();
  cmd->add_option("--labels", opts->labels, "IDX file of labels [N]")->required();
  auto* ti = cmd->add_option("--test-images", opts->test_images, "IDX file of test images");
  auto* tl = cmd->add_option("--test-labels", opts->test_labels, "IDX file of test labels");
  ti->needs(tl);
  tl->needs(ti);
  cmd->add_option("--num-classes", opts->num_classes, "Number of classes, at least 1 (default: largest label + 1)")
      ->check(at_least(1));
  cmd->add_option("-o,--output", opts->output, "Output HDF5 file")->required();
  cmd->add_flag("--force", opts->force, "Overwrite an existing output file");
  cmd->footer(
      "Without test files the output is unsplit (/x, /y): run `dtrain data split` next.\n"
      "uint8 images are stored as uint8 with scale 1/255; [N, H, W] becomes [N, H, W, 1].");
  cmd->callback([opts] { print_written(data::import_idx(*opts)); });
}

void add_import_csv(CLI::App& data) {
  auto opts = std::make_shared<data::CsvImportOptions>();
  auto delimiter = std::make_shared<std::string>(",");
  auto* cmd = data.add_subcommand("import-csv", "Import a CSV table (classification or regression)");
  cmd->add_option("input", opts->input, "CSV file")->required();
  cmd->add_option("--label-column", opts->label_columns,
                  "Label column: a header name, or a 0-based index with --no-header "
                  "(repeat for several regression targets)")
      ->required();
  cmd->add_option("--delimiter", *delimiter, "Field delimiter, one character (default ,; 'tab' for TAB)");
  cmd->add_flag("--header,!--no-header", opts->header, "The first line holds column names (default)");
  cmd->add_flag("--regression", opts->regression, "Labels are float targets, not class ids");
  cmd->add_option("-o,--output", opts->output, "Output HDF5 file")->required();
  cmd->add_flag("--force", opts->force, "Overwrite an existing output file");
  cmd->footer("The output is unsplit (/x, /y): run `dtrain data split` next.");
  cmd->callback([opts, delimiter] {
    if (*delimiter == "tab" || *delimiter == "\\t") *delimiter = "\t";
    if (delimiter->size() != 1) throw dtrain::ArgumentError("--delimiter must be one character, got '" + *delimiter + "'");
    opts->delimiter = (*delimiter)[0];
    print_written(data::import_csv(*opts));
  });
}

void add_split(CLI::App& data) {
  auto opts = std::make_shared<data::SplitOptions>();
  auto* cmd = data.add_subcommand("split", "Split a dataset into /train, /test and /val");
  cmd->add_option("input", opts->input, "Input HDF5 file (unsplit /x, /y, or one with /train)")->required();
  cmd->add_option("-o,--output", opts->output, "Output HDF5 file")->required();
  cmd->add_option("--test-fraction", opts->test_fraction,
                  "Fraction of the rows for /test (0 when re-splitting a file that has /test)")
      ->required();
  cmd->add_option("--val-fraction", opts->val_fraction, "Fraction of the rows for /val (default 0)");
  cmd->add_option("--seed", opts->seed, "Seed of the random assignment")->required();
  cmd->add_flag("--stratify", opts->stratify, "Keep the class proportions in every part");
  cmd->add_flag("--force", opts->force, "Overwrite an existing output file");
  cmd->footer("Counts are round(fraction * N); rows keep their input order inside each part.");
  cmd->callback([opts] { print_written(data::split_dataset(*opts)); });
}

}  // namespace

void register_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Import and split HDF5 datasets");
  data->require_subcommand(1);
  add_import_idx(*data);
  add_import_csv(*data);
  add_split(*data);
}

}  // namespace dtrain::cli
