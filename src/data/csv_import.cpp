// dtrain data import-csv: a CSV table into HDF5 (features float32, labels int64 or float32).
#include "dataset_writer.hpp"
#include "hdf5_files.hpp"
#include "rows.hpp"

#include "dtrain/data/error.hpp"
#include "dtrain/data/import.hpp"

#include <algorithm>
#include <memory>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace dtrain::data {
namespace {

constexpr std::int64_t kBlockRows = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits one line into fields; a field may be enclosed in double quotes ("" is a quote).
std::vector<std::string> split_fields(const std::string& line, char delim, const std::string& where) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && trim(cur).empty() && !was_quoted) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (c == delim) {
      fields.push_back(was_quoted ? cur : std::string(trim(cur)));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) throw DataError(where + ": unterminated quoted field");
  fields.push_back(was_quoted ? cur : std::string(trim(cur)));
  return fields;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

struct Column {
  std::size_t index;
  std::string name;  // header name or "#<index>"
};

class CsvImporter {
 public:
  explicit CsvImporter(const CsvImportOptions& o) : o_(o) {}

  DatasetInfo run() {
    if (o_.label_columns.empty()) throw ArgumentError("import-csv needs --label-column");
    if (!o_.regression && o_.label_columns.size() != 1) {
      throw ArgumentError("classification takes exactly one --label-column (several only with --regression)");
    }
    std::error_code ec;
    if (!std::filesystem::exists(o_.input, ec)) throw DataError(o_.input + ": no such file");
    std::ifstream in(o_.input, std::ios::binary);
    if (!in) throw DataError(o_.input + ": cannot open");
    AtomicOutput out(o_.output, o_.force);
    {
      hdf5::File file = create(out.temp_path());
      read_all(in, file.get());
      finish(file.get());
      close_file(file, out.temp_path());
    }
    out.commit();
    return read_dataset_info(o_.output);
  }

 private:
  std::string where(std::int64_t line) const { return o_.input + " line " + std::to_string(line); }
  std::string where(std::int64_t line, std::size_t col) const {
    const std::string name = names_.empty() ? "" : " (" + names_[col] + ")";
    return where(line) + ", column " + std::to_string(col + 1) + name;
  }

  void resolve_columns(std::size_t width, std::int64_t line) {
    width_ = width;
    std::vector<bool> is_label(width, false);
    for (const auto& want : o_.label_columns) {
      std::optional<std::size_t> idx;
      if (o_.header) {
        for (std::size_t i = 0; i < names_.size(); ++i) {
          if (names_[i] == want) idx = i;
        }
        if (!idx) {
          std::string all;
          for (const auto& n : names_) all += (all.empty() ? "" : ", ") + n;
          throw DataError(o_.input + ": no column named '" + want + "' in the header (columns: " + all + ")");
        }
      } else {
        const auto v = parse_number(want);
        if (!v || *v < 0 || *v != std::floor(*v)) {
          throw ArgumentError("--label-column '" + want +
                              "': without a header, give the 0-based column index");
        }
        idx = static_cast<std::size_t>(*v);
        if (*idx >= width) {
          throw DataError(where(line) + ": label column " + want + " outside the " +
                          std::to_string(width) + " columns");
        }
      }
      if (is_label[*idx]) throw ArgumentError("--label-column '" + want + "' given twice");
      is_label[*idx] = true;
      labels_.push_back({*idx, names_.empty() ? "#" + std::to_string(*idx) : names_[*idx]});
    }
    for (std::size_t i = 0; i < width; ++i) {
      if (!is_label[i]) features_.push_back({i, names_.empty() ? "#" + std::to_string(i) : names_[i]});
    }
    if (features_.empty()) throw DataError(o_.input + ": no feature columns besides the label column(s)");
  }

  void read_all(std::istream& in, hid_t file) {
    std::string line;
    std::int64_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty()) continue;
      auto fields = split_fields(line, o_.delimiter, where(line_no));
      if (width_ == 0) {
        if (o_.header) {
          names_ = fields;
          resolve_columns(fields.size(), line_no);
          continue;
        }
        resolve_columns(fields.size(), line_no);
      }
      if (fields.size() != width_) {
        throw DataError(where(line_no) + ": " + std::to_string(fields.size()) + " fields, expected " +
                        std::to_string(width_) + (o_.header ? " (as in the header)" : " (as in line 1)"));
      }
      add_row(fields, line_no, file);
    }
    if (rows_ + pending_ == 0) throw DataError(o_.input + ": no data rows");
  }

  void add_row(const std::vector<std::string>& fields, std::int64_t line, hid_t file) {
    for (const auto& c : features_) {
      const auto v = parse_number(fields[c.index]);
      if (!v) {
        throw DataError(where(line, c.index) + ": '" + fields[c.index] + "' is not a number");
      }
      const auto f = static_cast<float>(*v);
      if (!std::isfinite(f)) {
        throw DataError(where(line, c.index) + ": '" + fields[c.index] +
                        "': NaN or Inf in features (or beyond float32)");
      }
      x_.push_back(f);
    }
    if (o_.regression) {
      for (const auto& c : labels_) {
        const auto v = parse_number(fields[c.index]);
        if (!v) throw DataError(where(line, c.index) + ": target '" + fields[c.index] + "' is not a number");
        const auto f = static_cast<float>(*v);
        if (!std::isfinite(f)) throw DataError(where(line, c.index) + ": NaN or Inf in targets");
        y_.push_back(f);
      }
    } else {
      const auto& c = labels_.front();
      const std::string& text = fields[c.index];
      if (text.empty()) throw DataError(where(line, c.index) + ": empty label");
      class_text_.push_back(text);
      const auto v = parse_number(text);
      if (!v) {
        all_numeric_ = false;
      } else if ((*v < 0 || *v != std::floor(*v) || *v > 1e15) && !bad_label_) {
        bad_label_ = where(line, c.index) + ": label '" + text + "' is not a class id (an integer >= 0)";
      }
    }
    if (++pending_ == kBlockRows) flush(file);
  }

  void ensure_writer(hid_t file) {
    if (writer_) return;
    // x is written now; y is written at the end (class names need every label).
    writer_ = std::make_unique<rows::Appender>(file, "x", H5T_IEEE_F32LE,
                                               Shape{static_cast<std::int64_t>(features_.size())});
  }

  void flush(hid_t file) {
    ensure_writer(file);
    writer_->append(x_.data(), pending_, H5T_NATIVE_FLOAT);
    rows_ += pending_;
    pending_ = 0;
    x_.clear();
  }

  void finish(hid_t file) {
    if (pending_ > 0) flush(file);
    RootAttributes attrs;
    attrs.source = "csv:" + std::filesystem::path(o_.input).filename().string();
    for (const auto& c : features_) attrs.feature_names.push_back(c.name);
    if (o_.regression) {
      attrs.task = Task::kRegression;
      const auto k = static_cast<std::int64_t>(labels_.size());
      rows::Appender y(file, "y", H5T_IEEE_F32LE, Shape{k});
      y.append(y_.data(), rows_, H5T_NATIVE_FLOAT);
    } else {
      std::vector<std::int64_t> ids(class_text_.size());
      if (all_numeric_) {
        if (bad_label_) throw DataError(*bad_label_);
        std::int64_t max_id = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
          ids[i] = static_cast<std::int64_t>(*parse_number(class_text_[i]));
          max_id = std::max(max_id, ids[i]);
        }
        attrs.num_classes = max_id + 1;
      } else {
        std::map<std::string, std::int64_t> index;
        for (const auto& t : class_text_) index.emplace(t, 0);
        std::int64_t next = 0;
        for (auto& [name, id] : index) {
          id = next++;
          attrs.class_names.push_back(name);
        }
        for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = index[class_text_[i]];
        attrs.num_classes = next;
      }
      rows::Appender y(file, "y", H5T_STD_I64LE, Shape{});
      y.append(ids.data(), rows_, H5T_NATIVE_INT64);
    }
    write_root_attributes(file, attrs);
    writer_.reset();
  }

  const CsvImportOptions& o_;
  std::vector<std::string> names_;
  std::size_t width_ = 0;
  std::vector<Column> features_, labels_;
  std::vector<float> x_, y_;
  std::vector<std::string> class_text_;
  bool all_numeric_ = true;
  std::optional<std::string> bad_label_;
  std::unique_ptr<rows::Appender> writer_;
  std::int64_t rows_ = 0, pending_ = 0;
};

}  // namespace

DatasetInfo import_csv(const CsvImportOptions& options) { return CsvImporter(options).run(); }

}  // namespace dtrain::data
