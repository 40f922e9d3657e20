#include "dtrain/data/inspect.hpp"

#include "dtrain/data/error.hpp"
#include "hdf5/attributes.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/groups.hpp"
#include "hdf5_files.hpp"

#include <algorithm>
#include <ostream>

namespace dtrain::data {
namespace {

void print_attributes(hid_t object, std::ostream& out, const std::string& indent) {
  for (const auto& name : hdf5::find_attribute_names(object).value_or(std::vector<std::string>{})) {
    out << indent << "@" << name << " = " << hdf5::attribute_text(object, name) << '\n';
  }
}

struct TreePrinter {
  std::ostream& out;
};

herr_t visit(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto& out = static_cast<TreePrinter*>(data)->out;
  if (std::string(name) == ".") return 0;
  const std::string path = std::string("/") + name;
  const auto depth = static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
  const std::string indent(2 * depth, ' ');
  if (info->type == H5O_TYPE_GROUP) {
    out << indent << path << "/\n";
    hdf5::Group g(H5Gopen2(root, name, H5P_DEFAULT));
    if (g) print_attributes(g.get(), out, indent + "  ");
  } else if (info->type == H5O_TYPE_DATASET) {
    hdf5::Dataset d(H5Dopen2(root, name, H5P_DEFAULT));
    if (d) {
      out << indent << path << "  " << hdf5::dtype_text(d.get()) << " "
          << hdf5::dims_text(hdf5::dims_of(d.get())) << '\n';
      print_attributes(d.get(), out, indent + "  ");
    }
  }
  return 0;
}

std::string fraction_text(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", f);
  return buf;
}

}  // namespace

const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kDataset:
      return "dataset";
    case FileKind::kCheckpoint:
      return "checkpoint";
    case FileKind::kOtherHdf5:
      return "HDF5 file";
  }
  return "?";
}

FileKind detect_file_kind(const std::string& path) {
  hdf5::File f = open_read(path);
  if (auto format = hdf5::find_string_attribute(f.get(), "format")) {
    if (*format == kDatasetFormat) return FileKind::kDataset;
    if (*format == kCheckpointFormat) return FileKind::kCheckpoint;
    return FileKind::kOtherHdf5;
  }
  if (hdf5::exists(f.get(), "/train") || hdf5::exists(f.get(), "/x")) return FileKind::kDataset;
  return FileKind::kOtherHdf5;
}

void describe_dataset(const DatasetInfo& info, std::ostream& out) {
  out << info.path << ": dtrain dataset" << (info.unsplit ? " (unsplit: run `dtrain data split`)" : "")
      << '\n';
  out << "  task: "
      << (info.task == Task::kClassification
              ? "classification, " + std::to_string(info.num_classes) + " classes"
              : "regression, " + std::to_string(info.splits.front().targets) + " target(s)")
      << '\n';
  if (!info.source.empty()) out << "  source: " << info.source << '\n';
  if (info.split_record) {
    const auto& r = *info.split_record;
    out << "  split: seed " << r.seed << ", test_fraction " << fraction_text(r.test_fraction)
        << ", val_fraction " << fraction_text(r.val_fraction)
        << (r.stratified ? ", stratified" : "") << '\n';
  }
  out << "  attributes:\n";
  for (const auto& [name, value] : info.attributes) out << "    " << name << " = " << value << '\n';
  std::int64_t total = 0;
  for (const auto& s : info.splits) total += s.rows;
  for (const auto& s : info.splits) {
    const std::string group = s.name.empty() ? "/" : "/" + s.name;
    Shape xs{s.rows};
    for (int i = 0; i < s.sample_shape.rank(); ++i) xs.push_back(s.sample_shape[i]);
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * static_cast<double>(s.rows) / static_cast<double>(total));
    out << "  " << group << "  " << s.rows << " rows (" << pct << ")\n";
    out << "    x  " << storage_type_name(s.x_type) << " " << xs.str();
    if (s.x_type == StorageType::kUint8) out << "  scale " << s.scale << " (read as float32 = stored * scale)";
    if (s.x_type == StorageType::kInt32) out << "  token ids (read as float32, exact below 2^24)";
    out << '\n';
    if (s.task == Task::kClassification) {
      out << "    y  " << s.y_dtype << " [" << s.rows << (s.y_rank == 2 ? ", " + std::to_string(s.targets) : "")
          << "] class ids" << (s.y_rank == 2 ? " (one per token)" : "") << '\n';
      const auto hist = class_histogram(info, s.name);
      out << "    classes:";
      for (std::size_t c = 0; c < hist.size(); ++c) {
        if (c % 10 == 0 && c > 0) out << "\n            ";
        out << ' ' << (c < info.class_names.size() ? info.class_names[c] : std::to_string(c)) << ':'
            << hist[c];
      }
      out << '\n';
    } else {
      // As stored: float64 [N] is one target per row (read as float32).
      out << "    y  " << s.y_dtype << " [" << s.rows << (s.y_rank == 2 ? ", " + std::to_string(s.targets) : "")
          << "] " << (s.targets == 1 ? "target" : "targets")
          << (s.y_dtype == "float32" ? "" : " (read as float32)") << '\n';
    }
  }
}

void describe_hdf5(const std::string& path, std::ostream& out) {
  hdf5::File f = open_read(path);
  out << path << ":\n";
  print_attributes(f.get(), out, "  ");
  TreePrinter printer{out};
  if (H5Ovisit(f.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &printer) < 0) {
    throw DataError(path + ": cannot list the HDF5 tree (" + hdf5::innermost_error() + ")");
  }
}

}  // namespace dtrain::data
