// max_pool2d and avg_pool2d over NHWC images (Keras/TensorFlow padding).
//
// Windows follow kernels::make_window2d. Padded cells take no part: a max is
// over the cells inside the image, an average divides by their count (as
// TensorFlow's avg_pool with "same"). Max pooling sends each output's gradient
// to the first cell of its window (row-major) holding the maximum. Forward
// keeps, per output element, the index of that cell among the window's cells
// inside the image (0 .. kh*kw-1, stored as a T in the workspace: exact while
// kh*kw <= 2^24, checked); backward walks the window's cells again and adds dy
// where the index matches — one vectorised pass over channels per cell instead
// of rescanning each channel's window.
// Work is split into blocks of whole images (windows overlap when strides <
// pool, so one task owns each image's gradient): deterministic.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/im2col.hpp"

#include <algorithm>
#include <limits>

namespace dtrain::graph {
namespace {

std::string dims(std::int64_t a, std::int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

// The window's cells inside the image: rows [y0, y1), columns [x0, x1).
struct Cells {
  std::int64_t y0, y1, x0, x1;
  std::int64_t count() const { return (y1 - y0) * (x1 - x0); }
};
Cells cells(const kernels::Window2d& w, std::int64_t oy, std::int64_t ox) {
  const std::int64_t y = oy * w.sh - w.pad_top, x = ox * w.sw - w.pad_left;
  return {std::max<std::int64_t>(y, 0), std::min(y + w.kh, w.h), std::max<std::int64_t>(x, 0), std::min(x + w.kw, w.w)};
}

template <class T>
class Pool2d final : public Op<T> {
 public:
  Pool2d(bool max, std::array<int, 2> pool, std::array<int, 2> strides, Padding padding)
      : max_(max), pool_(pool), strides_(strides), padding_(padding) {}
  std::string name() const override { return max_ ? "max_pool2d" : "avg_pool2d"; }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    if (in[0].rank() != 4) throw_shape_error(name(), in, "input must be rank 4 [batch, height, width, channels]");
    for (int i = 1; i < 4; ++i) {
      if (in[0][i] <= 0) throw_shape_error(name(), in, "input height, width and channels must be positive");
    }
    const auto w = window(in[0]);
    if (w.oh <= 0 || w.ow <= 0) {
      throw_shape_error(name(), in,
                        "pool " + dims(pool_[0], pool_[1]) + " is larger than the " + dims(in[0][1], in[0][2]) +
                            " input with 'valid' padding");
    }
    if (max_ && static_cast<std::int64_t>(pool_[0]) * pool_[1] > kMaxWindowCells) {
      throw_shape_error(name(), in, "pool " + dims(pool_[0], pool_[1]) + " has more than 2^24 cells");
    }
    return {in[0][0], w.oh, w.ow, in[0][3]};
  }

  // Max pooling: the argmax index of every output element.
  std::int64_t workspace_size(std::span<const Shape>, const Shape& out) const override {
    return max_ ? out.numel() : 0;
  }

  void forward(const OpContext<T>& c) override {
    const auto w = window(c.in[0].shape);
    const auto out_image = w.positions() * w.c;
    for_images(w, c.in[0].shape[0], [&](std::int64_t n) {
      const T* x = c.in[0].data + n * w.image_size();
      T* y = c.out.data + n * out_image;
      T* arg = max_ ? c.workspace.data + n * out_image : nullptr;
      for (std::int64_t oy = 0; oy < w.oh; ++oy) {
        for (std::int64_t ox = 0; ox < w.ow; ++ox, y += w.c) {
          const Cells k = cells(w, oy, ox);
          if (max_) {
            if (k.count() == 4 && w.kh == 2 && w.kw == 2) {
              max_full<2, 2>(w, x + (k.y0 * w.w + k.x0) * w.c, y, arg);
            } else if (k.count() == 9 && w.kh == 3 && w.kw == 3) {
              max_full<3, 3>(w, x + (k.y0 * w.w + k.x0) * w.c, y, arg);
            } else {
              max_window(w, k, x, y, arg);
            }
            arg += w.c;
            continue;
          }
          std::fill_n(y, w.c, T(0));
          for (auto iy = k.y0; iy < k.y1; ++iy) {
            for (auto ix = k.x0; ix < k.x1; ++ix) {
              const T* v = x + (iy * w.w + ix) * w.c;
              for (std::int64_t ch = 0; ch < w.c; ++ch) y[ch] += v[ch];
            }
          }
          const T inv = T(1) / static_cast<T>(k.count());
          for (std::int64_t ch = 0; ch < w.c; ++ch) y[ch] *= inv;
        }
      }
    });
  }

  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const auto w = window(c.in[0].shape);
    const auto out_image = w.positions() * w.c;
    for_images(w, c.in[0].shape[0], [&](std::int64_t n) {
      T* dx = c.din[0].data + n * w.image_size();
      const T* dy = c.dout.data + n * out_image;
      const T* arg = max_ ? c.workspace.data + n * out_image : nullptr;
      for (std::int64_t oy = 0; oy < w.oh; ++oy) {
        for (std::int64_t ox = 0; ox < w.ow; ++ox, dy += w.c) {
          const Cells k = cells(w, oy, ox);
          if (max_) {
            if (k.count() == 4 && w.kh == 2 && w.kw == 2) {
              route_full<2, 2>(w, arg, dy, dx + (k.y0 * w.w + k.x0) * w.c);
            } else if (k.count() == 9 && w.kh == 3 && w.kw == 3) {
              route_full<3, 3>(w, arg, dy, dx + (k.y0 * w.w + k.x0) * w.c);
            } else {
              route_to_max(w, k, arg, dy, dx);
            }
            arg += w.c;
            continue;
          }
          const T inv = T(1) / static_cast<T>(k.count());
          for (auto iy = k.y0; iy < k.y1; ++iy) {
            for (auto ix = k.x0; ix < k.x1; ++ix) {
              T* d = dx + (iy * w.w + ix) * w.c;
              for (std::int64_t ch = 0; ch < w.c; ++ch) d[ch] += dy[ch] * inv;
            }
          }
        }
      }
    });
  }

 private:
  static constexpr std::int64_t kMaxWindowCells = std::int64_t{1} << 24;  // exact integers in a float

  // y[ch] = the max over the window's cells, arg[ch] = the index (row-major among
  // the cells inside the image) of the first cell holding it. y starts at -inf and
  // a cell wins only when strictly greater, as std::max(y, v) would keep y.
  static void max_window(const kernels::Window2d& w, const Cells& k, const T* x, T* y, T* arg) {
    std::fill_n(y, w.c, -std::numeric_limits<T>::infinity());
    std::fill_n(arg, w.c, T(0));
    T t = 0;
    for (auto iy = k.y0; iy < k.y1; ++iy) {
      for (auto ix = k.x0; ix < k.x1; ++ix, t += T(1)) {
        const T* v = x + (iy * w.w + ix) * w.c;
        for (std::int64_t ch = 0; ch < w.c; ++ch) {
          const bool wins = y[ch] < v[ch];
          y[ch] = wins ? v[ch] : y[ch];
          arg[ch] = wins ? t : arg[ch];
        }
      }
    }
  }

  // max_window for a whole KH×KW window starting at cell x (no padding):
  // the cells unrolled inside the channel loop, which then vectorises.
  template <int KH, int KW>
  static void max_full(const kernels::Window2d& w, const T* __restrict x, T* __restrict y, T* __restrict arg) {
    std::int64_t off[KH * KW];
    for (int t = 0; t < KH * KW; ++t) off[t] = ((t / KW) * w.w + t % KW) * w.c;
    for (std::int64_t ch = 0; ch < w.c; ++ch) {
      T m = -std::numeric_limits<T>::infinity(), a = 0;
#pragma GCC unroll 9
      for (int t = 0; t < KH * KW; ++t) {
        const T v = x[off[t] + ch];
        const bool wins = m < v;
        m = wins ? v : m;
        a = wins ? T(t) : a;
      }
      y[ch] = m;
      arg[ch] = a;
    }
  }

  // route_to_max for a whole KH×KW window starting at cell dx.
  template <int KH, int KW>
  static void route_full(const kernels::Window2d& w, const T* __restrict arg, const T* __restrict dy,
                         T* __restrict dx) {
    std::int64_t off[KH * KW];
    for (int t = 0; t < KH * KW; ++t) off[t] = ((t / KW) * w.w + t % KW) * w.c;
    for (std::int64_t ch = 0; ch < w.c; ++ch) {
      const T a = arg[ch], g = dy[ch];
#pragma GCC unroll 9
      for (int t = 0; t < KH * KW; ++t) {
        T& d = dx[off[t] + ch];
        d = a == T(t) ? d + g : d;
      }
    }
  }

  // dx[cell arg[ch]][ch] += dy[ch] for every channel: the window's cells in the
  // order max_window numbered them, all channels of a cell at once.
  static void route_to_max(const kernels::Window2d& w, const Cells& k, const T* arg, const T* dy, T* dx) {
    T t = 0;
    for (auto iy = k.y0; iy < k.y1; ++iy) {
      for (auto ix = k.x0; ix < k.x1; ++ix, t += T(1)) {
        T* d = dx + (iy * w.w + ix) * w.c;
        for (std::int64_t ch = 0; ch < w.c; ++ch) d[ch] = arg[ch] == t ? d[ch] + dy[ch] : d[ch];
      }
    }
  }

  kernels::Window2d window(const Shape& x) const {
    return kernels::make_window2d(x[1], x[2], x[3], pool_[0], pool_[1], strides_[0], strides_[1],
                                  padding_ == Padding::kSame);
  }

  template <class F>
  static void for_images(const kernels::Window2d& w, std::int64_t batch, F&& fn) {
    const auto per_block = std::max<std::int64_t>(1, detail::kElementBlock / w.image_size());
    kernels::for_blocks(batch, per_block, [&](std::int64_t n0, std::int64_t n1) {
      for (auto n = n0; n < n1; ++n) fn(n);
    });
  }

  bool max_;
  std::array<int, 2> pool_, strides_;
  Padding padding_;
};

void check_positive(const char* op, const char* what, std::array<int, 2> v) {
  if (v[0] <= 0 || v[1] <= 0) {
    throw ArgumentError(std::string(op) + ": " + what + " must be positive, got [" + std::to_string(v[0]) + ", " +
                        std::to_string(v[1]) + "]");
  }
}

template <class T>
NodeId pool2d(Graph<T>& g, NodeId x, bool max, std::array<int, 2> pool, std::array<int, 2> strides,
              Padding padding) {
  const char* op = max ? "max_pool2d" : "avg_pool2d";
  check_positive(op, "pool", pool);
  check_positive(op, "strides", strides);
  return detail::add_op<T, Pool2d<T>>(g, {x}, max, pool, strides, padding);
}

}  // namespace

template <class T>
NodeId max_pool2d(Graph<T>& g, NodeId x, std::array<int, 2> pool, std::array<int, 2> strides, Padding padding) {
  return pool2d(g, x, true, pool, strides, padding);
}
template <class T>
NodeId avg_pool2d(Graph<T>& g, NodeId x, std::array<int, 2> pool, std::array<int, 2> strides, Padding padding) {
  return pool2d(g, x, false, pool, strides, padding);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, max_pool2d, NodeId, std::array<int, 2>, std::array<int, 2>, Padding)
DTRAIN_INSTANTIATE_BUILDER(NodeId, avg_pool2d, NodeId, std::array<int, 2>, std::array<int, 2>, Padding)

}  // namespace dtrain::graph
