#include "dtrain/kernels/im2col.hpp"

#include <algorithm>
#include <cstring>

namespace dtrain::kernels {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// One axis of make_window2d: output size and padding before.
void axis_geometry(std::int64_t in, std::int64_t k, std::int64_t s, bool same, std::int64_t& out,
                   std::int64_t& pad_before) {
  if (same) {
    out = ceil_div(in, s);
    const std::int64_t total = std::max<std::int64_t>((out - 1) * s + k - in, 0);
    pad_before = total / 2;
  } else {
    out = in >= k ? (in - k) / s + 1 : in - k + 1;  // <= 0 when the window does not fit
    pad_before = 0;
  }
}

// Short runs (one channel, 3 pixels) are common in the first conv layer: a
// plain loop beats a call to memcpy there.
template <class T>
inline void copy_run(const T* src, std::int64_t n, T* dst) {
  if (n <= 16) {
    for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
  }
}

template <class T>
inline void zero_run(std::int64_t n, T* dst) {
  for (std::int64_t i = 0; i < n; ++i) dst[i] = T(0);
}

// The part [lo, hi) of a window row of kw pixels starting at input column ix0
// that falls inside the image.
struct Span {
  std::int64_t lo, hi;
};
inline Span inside(std::int64_t ix0, std::int64_t kw, std::int64_t w) {
  const std::int64_t lo = std::clamp<std::int64_t>(-ix0, 0, kw);
  const std::int64_t hi = std::clamp<std::int64_t>(w - ix0, lo, kw);
  return {lo, hi};
}

}  // namespace

Window2d make_window2d(std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t kh, std::int64_t kw,
                       std::int64_t sh, std::int64_t sw, bool same) {
  Window2d g;
  g.h = h;
  g.w = w;
  g.c = c;
  g.kh = kh;
  g.kw = kw;
  g.sh = sh;
  g.sw = sw;
  axis_geometry(h, kh, sh, same, g.oh, g.pad_top);
  axis_geometry(w, kw, sw, same, g.ow, g.pad_left);
  return g;
}

template <class T>
void im2col(const Window2d& g, const T* x, std::int64_t images, T* cols) {
  const std::int64_t row_stride = g.w * g.c;
  const std::int64_t krow = g.kw * g.c;  // one window row in cols
  T* out = cols;
  for (std::int64_t n = 0; n < images; ++n) {
    const T* img = x + n * g.image_size();
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
      for (std::int64_t ox = 0; ox < g.ow; ++ox) {
        const std::int64_t ix0 = ox * g.sw - g.pad_left;
        const Span s = inside(ix0, g.kw, g.w);
        for (std::int64_t ky = 0; ky < g.kh; ++ky, out += krow) {
          const std::int64_t iy = oy * g.sh - g.pad_top + ky;
          if (iy < 0 || iy >= g.h) {
            zero_run(krow, out);
            continue;
          }
          zero_run(s.lo * g.c, out);
          copy_run(img + iy * row_stride + (ix0 + s.lo) * g.c, (s.hi - s.lo) * g.c, out + s.lo * g.c);
          zero_run((g.kw - s.hi) * g.c, out + s.hi * g.c);
        }
      }
    }
  }
}

template <class T>
void col2im_add(const Window2d& g, const T* cols, std::int64_t images, T* dx) {
  const std::int64_t row_stride = g.w * g.c;
  const std::int64_t krow = g.kw * g.c;
  const T* in = cols;
  for (std::int64_t n = 0; n < images; ++n) {
    T* img = dx + n * g.image_size();
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
      for (std::int64_t ox = 0; ox < g.ow; ++ox) {
        const std::int64_t ix0 = ox * g.sw - g.pad_left;
        const Span s = inside(ix0, g.kw, g.w);
        for (std::int64_t ky = 0; ky < g.kh; ++ky, in += krow) {
          const std::int64_t iy = oy * g.sh - g.pad_top + ky;
          if (iy < 0 || iy >= g.h) continue;
          T* dst = img + iy * row_stride + (ix0 + s.lo) * g.c;
          const T* src = in + s.lo * g.c;
          const std::int64_t n_run = (s.hi - s.lo) * g.c;
          for (std::int64_t i = 0; i < n_run; ++i) dst[i] += src[i];
        }
      }
    }
  }
}

template void im2col<float>(const Window2d&, const float*, std::int64_t, float*);
template void im2col<double>(const Window2d&, const double*, std::int64_t, double*);
template void col2im_add<float>(const Window2d&, const float*, std::int64_t, float*);
template void col2im_add<double>(const Window2d&, const double*, std::int64_t, double*);

}  // namespace dtrain::kernels
