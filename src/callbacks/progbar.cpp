// ProgbarLogger: Keras' progress display.
//   verbose 1:  120/469 [======>.......................] - ETA: 3s - loss: 0.4321 - accuracy: 0.8765
//   verbose 2:  469/469 - 5s - 10ms/step - loss: ... - val_loss: ...
#include "dtrain/callbacks.hpp"

#include "dtrain/model.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace dtrain {
namespace {

std::string duration(double s) {
  std::ostringstream out;
  if (s >= 3600) {
    out << static_cast<int>(s / 3600) << ':' << std::setw(2) << std::setfill('0') << static_cast<int>(s / 60) % 60
        << ':' << std::setw(2) << static_cast<int>(s) % 60;
  } else if (s >= 60) {
    out << static_cast<int>(s / 60) << ':' << std::setw(2) << std::setfill('0') << static_cast<int>(s) % 60;
  } else {
    out << static_cast<int>(std::lround(s)) << 's';
  }
  return out.str();
}

std::string per_step(double s) {
  std::ostringstream out;
  if (s >= 1) {
    out << std::lround(s) << "s/step";
  } else if (s >= 1e-3) {
    out << std::lround(s * 1e3) << "ms/step";
  } else {
    out << std::lround(s * 1e6) << "us/step";
  }
  return out.str();
}

}  // namespace

ProgbarLogger::ProgbarLogger(int verbose, std::ostream& out) : verbose_(verbose), out_(out) {}

void ProgbarLogger::on_epoch_begin(std::int64_t epoch) {
  epoch_start_ = std::chrono::steady_clock::now();
  last_draw_ = {};
  out_ << "Epoch " << epoch + 1 << '/' << params_.epochs << '\n' << std::flush;
}

void ProgbarLogger::on_train_batch_end(std::int64_t step, const Logs& logs) {
  if (verbose_ != 1) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(step + 1, logs, false);
}

void ProgbarLogger::on_epoch_end(std::int64_t, const Logs& logs) {
  draw(-1, logs, true);
}

void ProgbarLogger::draw(std::int64_t done, const Logs& logs, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  std::ostringstream line;
  const auto steps = params_.steps;
  if (final) {
    line << steps << '/' << steps << " - " << duration(elapsed) << " - "
         << per_step(elapsed / static_cast<double>(std::max<std::int64_t>(1, steps))) << " - " << format_logs(logs);
    if (verbose_ == 1) out_ << '\r' << std::string(100, ' ') << '\r';
    out_ << line.str() << '\n' << std::flush;
    return;
  }
  constexpr std::int64_t kWidth = 30;
  const auto filled = steps > 0 ? std::min(kWidth, done * kWidth / steps) : 0;
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<std::size_t>(kWidth - filled - 1), '.');
  const double per = elapsed / static_cast<double>(done);
  const auto width = std::to_string(steps).size();
  line << '\r' << std::setw(static_cast<int>(width)) << done << '/' << steps << " [" << bar << "] - ETA: "
       << duration(per * static_cast<double>(steps - done)) << " - " << per_step(per) << " - " << format_logs(logs);
  out_ << line.str() << std::flush;
}

}  // namespace dtrain
