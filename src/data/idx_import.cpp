// dtrain data import-idx: MNIST-style IDX files (gzip or plain) into HDF5.
#include "dataset_writer.hpp"
#include "hdf5_files.hpp"

#include "dtrain/data/error.hpp"
#include "dtrain/data/import.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace dtrain::data {
namespace {

// IDX element types (third magic byte).
enum IdxType : std::uint8_t {
  kU8 = 0x08, kI8 = 0x09, kI16 = 0x0B, kI32 = 0x0C, kF32 = 0x0D, kF64 = 0x0E
};

std::size_t idx_type_size(std::uint8_t t) {
  switch (t) {
    case kU8:
    case kI8:
      return 1;
    case kI16:
      return 2;
    case kI32:
    case kF32:
      return 4;
    case kF64:
      return 8;
    default:
      return 0;
  }
}

// A gzip or plain IDX file being read (gzread passes plain files through).
class IdxFile {
 public:
  explicit IdxFile(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw DataError(path + ": no such file");
    gz_.reset(gzopen(path.c_str(), "rb"));
    if (!gz_) throw DataError(path + ": cannot open");
    gzbuffer(gz_.get(), 1 << 20);
    unsigned char magic[4];
    read_exact(magic, 4, "the header");
    if (magic[0] != 0 || magic[1] != 0 || idx_type_size(magic[2]) == 0 || magic[3] == 0) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", magic[0], magic[1], magic[2], magic[3]);
      throw DataError(path + ": not an IDX file (magic bytes " + hex +
                      ", expected 00 00 <type 08|09|0b|0c|0d|0e> <ndims>)");
    }
    type_ = magic[2];
    for (int i = 0; i < magic[3]; ++i) {
      unsigned char b[4];
      read_exact(b, 4, "the header");
      dims_.push_back((std::int64_t{b[0]} << 24) | (std::int64_t{b[1]} << 16) |
                      (std::int64_t{b[2]} << 8) | std::int64_t{b[3]});
    }
  }

  const std::string& path() const { return path_; }
  std::uint8_t type() const { return type_; }
  const std::vector<std::int64_t>& dims() const { return dims_; }
  std::int64_t rows() const { return dims_[0]; }
  std::int64_t row_elements() const {
    std::int64_t n = 1;
    for (std::size_t i = 1; i < dims_.size(); ++i) n *= dims_[i];
    return n;
  }
  std::size_t row_bytes() const { return static_cast<std::size_t>(row_elements()) * idx_type_size(type_); }

  // Reads `rows` rows starting at row `first` (for the error message) into out.
  void read_rows(void* out, std::int64_t first, std::int64_t rows) {
    read_exact(out, static_cast<std::size_t>(rows) * row_bytes(),
               "rows " + std::to_string(first) + ".." + std::to_string(first + rows - 1));
  }

  // Element i of a big-endian buffer as double.
  double element(const unsigned char* p) const {
    switch (type_) {
      case kU8:
        return p[0];
      case kI8:
        return static_cast<std::int8_t>(p[0]);
      case kI16:
        return static_cast<std::int16_t>(static_cast<std::uint16_t>((p[0] << 8) | p[1]));
      case kI32:
        return static_cast<std::int32_t>(be32(p));
      case kF32:
        return std::bit_cast<float>(be32(p));
      case kF64:
        return std::bit_cast<double>((std::uint64_t{be32(p)} << 32) | be32(p + 4));
      default:
        return 0;
    }
  }

 private:
  static std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }

  void read_exact(void* out, std::size_t n, const std::string& what) {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
      const int got = gzread(gz_.get(), p, step);
      if (got < 0) {
        int code = 0;
        throw DataError(path_ + ": cannot read " + what + " (" + gzerror(gz_.get(), &code) + ")");
      }
      if (got == 0) throw DataError(path_ + ": truncated: the file ends inside " + what);
      p += got;
      n -= static_cast<std::size_t>(got);
    }
  }

  struct GzClose {
    void operator()(gzFile f) const { gzclose(f); }
  };
  std::string path_;
  std::unique_ptr<gzFile_s, GzClose> gz_;  // closed also when the constructor throws
  std::uint8_t type_ = 0;
  std::vector<std::int64_t> dims_;
};

std::vector<std::int64_t> read_labels(IdxFile& f) {
  if (f.dims().size() != 1) {
    throw DataError(f.path() + ": labels must be a 1-D IDX file, this one has " +
                    std::to_string(f.dims().size()) + " dimensions");
  }
  if (f.type() == kF32 || f.type() == kF64) {
    throw DataError(f.path() + ": labels must be integers (IDX type 08, 09, 0b or 0c)");
  }
  const auto n = f.rows();
  const auto size = idx_type_size(f.type());
  std::vector<unsigned char> raw(static_cast<std::size_t>(n) * size);
  if (n > 0) f.read_rows(raw.data(), 0, n);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = static_cast<std::int64_t>(f.element(raw.data() + i * size));
    if (labels[i] < 0) {
      throw DataError(f.path() + ": row " + std::to_string(i) + ": label " +
                      std::to_string(labels[i]) + " is negative");
    }
  }
  return labels;
}

Shape sample_shape_of(const IdxFile& f) {
  const auto& d = f.dims();
  if (d.size() < 2 || static_cast<int>(d.size()) > Shape::kMaxRank) {
    throw DataError(f.path() + ": images must have 2 to " + std::to_string(Shape::kMaxRank) +
                    " IDX dimensions, this one has " + std::to_string(d.size()));
  }
  Shape s;
  for (std::size_t i = 1; i < d.size(); ++i) s.push_back(d[i]);
  if (d.size() == 3) s.push_back(1);  // [N, H, W] grey images -> [N, H, W, 1] (NHWC)
  return s;
}

struct IdxPair {
  std::unique_ptr<IdxFile> images;
  std::vector<std::int64_t> labels;
  std::string labels_path;
};

IdxPair open_pair(const std::string& images, const std::string& labels) {
  IdxPair p;
  p.images = std::make_unique<IdxFile>(images);
  {
    IdxFile lf(labels);
    p.labels = read_labels(lf);
  }
  p.labels_path = labels;
  if (p.images->dims().size() < 2) {
    throw DataError(images + ": images must have at least 2 IDX dimensions (rows, features)");
  }
  if (p.images->rows() != static_cast<std::int64_t>(p.labels.size())) {
    throw DataError(images + " has " + std::to_string(p.images->rows()) + " rows but " + labels +
                    " has " + std::to_string(p.labels.size()));
  }
  if (p.images->rows() == 0) throw DataError(images + ": no rows");
  return p;
}

// Streams the images of one pair into a split group, in blocks of about 4 MiB.
void write_pair(hid_t file, const std::string& group, IdxPair& p, const Shape& shape) {
  IdxFile& f = *p.images;
  const bool bytes = f.type() == kU8;
  SplitWriter w(file, group, bytes ? StorageType::kUint8 : StorageType::kFloat32, shape,
                1.0f / 255.0f, Task::kClassification, 1);
  const auto row_bytes = static_cast<std::int64_t>(f.row_bytes());
  const std::int64_t block = std::max<std::int64_t>(1, (4 << 20) / row_bytes);
  std::vector<unsigned char> raw(static_cast<std::size_t>(std::min(block, f.rows()) * row_bytes));
  std::vector<float> converted;
  const auto elems = static_cast<std::size_t>(f.row_elements());
  const auto esize = idx_type_size(f.type());
  for (std::int64_t at = 0; at < f.rows(); at += block) {
    const auto n = std::min(block, f.rows() - at);
    f.read_rows(raw.data(), at, n);
    const std::int64_t* y = p.labels.data() + at;
    if (bytes) {
      w.append(raw.data(), y, n);
      continue;
    }
    converted.resize(static_cast<std::size_t>(n) * elems);
    for (std::size_t i = 0; i < converted.size(); ++i) {
      converted[i] = static_cast<float>(f.element(raw.data() + i * esize));
      if (!std::isfinite(converted[i])) {
        throw DataError(f.path() + ": row " + std::to_string(at + static_cast<std::int64_t>(i / elems)) +
                        ": NaN or Inf in features (feature " + std::to_string(i % elems) + ")");
      }
    }
    w.append(converted.data(), y, n);
  }
}

std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

DatasetInfo import_idx(const IdxImportOptions& o) {
  if (o.images.empty() || o.labels.empty()) throw ArgumentError("import-idx needs --images and --labels");
  const bool with_test = !o.test_images.empty() || !o.test_labels.empty();
  if (with_test && (o.test_images.empty() || o.test_labels.empty())) {
    throw ArgumentError("--test-images and --test-labels go together");
  }
  if (o.num_classes < 0) throw ArgumentError("--num-classes must be positive");
  AtomicOutput out(o.output, o.force);

  IdxPair train = open_pair(o.images, o.labels);
  IdxPair test;
  const Shape shape = sample_shape_of(*train.images);
  if (with_test) {
    test = open_pair(o.test_images, o.test_labels);
    if (!(sample_shape_of(*test.images) == shape)) {
      throw DataError(o.test_images + ": rows are " + sample_shape_of(*test.images).str() + " but " +
                      o.images + " rows are " + shape.str());
    }
    if ((test.images->type() == kU8) != (train.images->type() == kU8)) {
      throw DataError(o.test_images + ": element type differs from " + o.images);
    }
  }
  std::int64_t max_label = 0;
  for (auto v : train.labels) max_label = std::max(max_label, v);
  for (auto v : test.labels) max_label = std::max(max_label, v);
  const std::int64_t num_classes = o.num_classes > 0 ? o.num_classes : max_label + 1;
  auto check_range = [&](const IdxPair& p) {
    for (std::size_t i = 0; i < p.labels.size(); ++i) {
      if (p.labels[i] >= num_classes) {
        throw DataError(p.labels_path + ": row " + std::to_string(i) + ": label " +
                        std::to_string(p.labels[i]) + " outside [0, " + std::to_string(num_classes) +
                        ") (--num-classes)");
      }
    }
  };
  check_range(train);
  check_range(test);

  {
    hdf5::File file = create(out.temp_path());
    write_pair(file.get(), with_test ? "train" : "", train, shape);
    if (with_test) write_pair(file.get(), "test", test, shape);
    RootAttributes attrs;
    attrs.num_classes = num_classes;
    attrs.source = "idx:" + base_name(o.images) + "," + base_name(o.labels);
    if (with_test) attrs.source += ";" + base_name(o.test_images) + "," + base_name(o.test_labels);
    write_root_attributes(file.get(), attrs);
    close_file(file, out.temp_path());
  }
  out.commit();
  auto info = read_dataset_info(o.output);
  return info;
}

}  // namespace dtrain::data
