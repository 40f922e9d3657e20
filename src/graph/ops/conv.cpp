// conv2d (NHWC, Keras/TensorFlow padding) by im2col + GEMM, and parse_padding.
//
// The batch is cut into blocks of a fixed number of whole images (a function of
// the shapes only). Blocks are dealt round-robin to a fixed number of slots;
// each slot owns a slice of the workspace and runs its blocks in order:
//   forward:  cols = im2col(x_block);  out_block = cols · K
//             ('valid': out_block from x directly, no cols)
//   backward: cols = im2col(x_block);  dK_slot (+)= colsᵀ · dout_block
//             ('valid': from x directly, no cols)
//             dcols = dout_block · Kᵀ (reusing the cols slice);  dx_block += col2im(dcols)
// then dK += Σ_slot dK_slot in slot order. K is the kernel [kh,kw,cin,cout] read
// as a row-major [kh*kw*cin, cout] matrix; Kᵀ is written once per backward into
// the workspace so that the product for dcols reads whole rows. The products
// are kernels::small_gemm, which streams B's rows without packing, where Eigen
// re-packs both operands for every product: faster at the benchmark CNN's conv
// shapes (figures in docs/benchmarks.md).
// Neither the blocks, nor the slots, nor the order of any sum depends on the
// thread count: bitwise reproducible.
// Backward recomputes im2col instead of keeping cols from forward: it reads the
// input (kh*kw times smaller than cols) and keeps the slices hot in cache.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/im2col.hpp"
#include "dtrain/kernels/small_gemm.hpp"

#include <algorithm>
#include <cctype>

namespace dtrain::graph {
namespace {

// Rows of cols (output positions) per block: big enough for an efficient GEMM,
// small enough that a block's cols stay in L2. A tuning constant: changing it
// changes rounding of the kernel gradient, never correctness.
constexpr std::int64_t kRowsPerBlock = 512;
// At most this many slots (tasks) per conv: bounds the workspace and the
// number of partial kernel gradients.
constexpr std::int64_t kMaxSlots = 16;

std::string dims(std::int64_t a, std::int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

template <class T>
using CMat = Eigen::Map<const RowMatrix<T>>;
template <class T>
using Mat = Eigen::Map<RowMatrix<T>>;

// How a batch is cut: a pure function of the shapes.
struct ConvPlan {
  kernels::Window2d win;
  std::int64_t cout = 0;
  std::int64_t batch = 0;
  std::int64_t per_block = 1;  // images per block
  std::int64_t blocks = 0;
  std::int64_t slots = 0;
  // 'valid' padding: forward and dK read the windows in place, as runs of
  // kw*cin elements (forward_direct, backward_dk_direct): no im2col copy, which
  // was the faster choice for both convs of the benchmark CNN (kw*cin = 3 and
  // 96; docs/benchmarks.md). dx keeps dcols = dout·Kᵀ + col2im_add: one product
  // per tap (9 per output row, m = ow) was no faster. 'same' padding uses
  // im2col throughout.
  bool direct = false;

  std::int64_t cols_slice() const { return per_block * win.positions() * win.patch(); }
  std::int64_t kernel_size() const { return win.patch() * cout; }
};

template <class T>
class Conv2d final : public Op<T> {
 public:
  Conv2d(std::array<int, 2> strides, Padding padding) : strides_(strides), padding_(padding) {}
  std::string name() const override { return "conv2d"; }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 2);
    if (in[0].rank() != 4) throw_shape_error(name(), in, "input must be rank 4 [batch, height, width, channels]");
    if (in[1].rank() != 4) throw_shape_error(name(), in, "kernel must be rank 4 [kh, kw, in_channels, out_channels]");
    for (int i = 1; i < 4; ++i) {
      if (in[0][i] <= 0) throw_shape_error(name(), in, "input height, width and channels must be positive");
    }
    for (int i = 0; i < 4; ++i) {
      if (in[1][i] <= 0) throw_shape_error(name(), in, "kernel dimensions must be positive");
    }
    if (in[0][3] != in[1][2]) {
      throw_shape_error(name(), in,
                        "input has " + std::to_string(in[0][3]) + " channels but the kernel expects " +
                            std::to_string(in[1][2]));
    }
    const auto win = window(in[0], in[1]);
    if (win.oh <= 0 || win.ow <= 0) {
      throw_shape_error(name(), in,
                        "kernel " + dims(in[1][0], in[1][1]) + " is larger than the " + dims(in[0][1], in[0][2]) +
                            " input with 'valid' padding");
    }
    return {in[0][0], win.oh, win.ow, in[1][3]};
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    const auto p = plan(in[0], in[1]);
    // per slot: cols and a partial kernel gradient; then Kᵀ.
    return p.slots * (p.cols_slice() + p.kernel_size()) + p.kernel_size();
  }

  void forward(const OpContext<T>& c) override {
    const auto p = plan(c.in[0].shape, c.in[1].shape);
    const auto patch = p.win.patch(), positions = p.win.positions();
    const T* k = c.in[1].data;
    for_slots(p, [&](std::int64_t s, std::int64_t n0, std::int64_t n) {
      const T* x = c.in[0].data + n0 * p.win.image_size();
      T* out = c.out.data + n0 * positions * p.cout;
      if (p.direct) return forward_direct(p, x, k, n, out);
      T* cols = c.workspace.data + s * p.cols_slice();
      kernels::im2col(p.win, x, n, cols);
      const auto rows = n * positions;
      kernels::small_gemm(rows, p.cout, patch, cols, patch, 1, k, p.cout, out, p.cout, false);
    });
  }

  void backward(const OpContext<T>& c) override {
    const bool need_dx = !c.din[0].empty(), need_dk = !c.din[1].empty();
    if (!need_dx && !need_dk) return;
    const auto p = plan(c.in[0].shape, c.in[1].shape);
    const auto patch = p.win.patch(), positions = p.win.positions();
    T* partials = c.workspace.data + p.slots * p.cols_slice();
    T* kt = partials + p.slots * p.kernel_size();  // Kᵀ [cout, patch]
    if (need_dx) Mat<T>(kt, p.cout, patch) = CMat<T>(c.in[1].data, patch, p.cout).transpose();
    for_slots(p, [&](std::int64_t s, std::int64_t n0, std::int64_t n) {
      T* cols = c.workspace.data + s * p.cols_slice();
      const auto rows = n * positions;
      const T* dout = c.dout.data + n0 * positions * p.cout;
      if (need_dk) {
        const T* x = c.in[0].data + n0 * p.win.image_size();
        const bool first = n0 / p.per_block == s;  // the slot's first block
        T* dk = partials + s * p.kernel_size();
        if (p.direct) {
          backward_dk_direct(p, x, dout, n, !first, dk);
        } else {
          kernels::im2col(p.win, x, n, cols);
          kernels::small_gemm(patch, p.cout, rows, cols, 1, patch, dout, p.cout, dk, p.cout, !first);
        }
      }
      if (need_dx) {
        kernels::small_gemm(rows, patch, p.cout, dout, p.cout, 1, kt, patch, cols, patch, false);
        kernels::col2im_add(p.win, cols, n, c.din[0].data + n0 * p.win.image_size());
      }
    });
    if (need_dk) {
      detail::for_elements(p.kernel_size(), [&](std::int64_t b, std::int64_t e) {
        T* dk = c.din[1].data;
        for (std::int64_t s = 0; s < p.slots; ++s) {
          const T* part = partials + s * p.kernel_size();
          for (auto i = b; i < e; ++i) dk[i] += part[i];
        }
      });
    }
  }

 private:
  kernels::Window2d window(const Shape& x, const Shape& k) const {
    return kernels::make_window2d(x[1], x[2], x[3], k[0], k[1], strides_[0], strides_[1],
                                  padding_ == Padding::kSame);
  }

  ConvPlan plan(const Shape& x, const Shape& k) const {
    ConvPlan p;
    p.win = window(x, k);
    p.cout = k[3];
    p.batch = x[0];
    p.per_block = std::max<std::int64_t>(1, kRowsPerBlock / p.win.positions());
    p.blocks = kernels::block_count(p.batch, p.per_block);
    p.slots = std::min(p.blocks, kMaxSlots);
    p.direct = padding_ == Padding::kValid;
    return p;
  }

  // Direct forward ('valid'): for output row oy and window row ky, the windows
  // of the row's positions read x row oy*sh + ky at kw*cin consecutive elements
  // from ox*sw*cin: a strided A, no im2col. out row (n, oy) = Σ_ky x_rows · K[ky]
  // as one product whose inner index runs over kh segments (one per ky) of kw*cin.
  static void forward_direct(const ConvPlan& p, const T* x, const T* k, std::int64_t images, T* out) {
    const auto& w = p.win;
    const auto run = w.kw * w.c;
    for (std::int64_t n = 0; n < images; ++n) {
      const T* img = x + n * w.image_size();
      for (std::int64_t oy = 0; oy < w.oh; ++oy, out += w.ow * p.cout) {
        kernels::small_gemm_segmented(w.ow, p.cout, w.kh, run, img + oy * w.sh * w.w * w.c, w.sw * w.c, 1,
                                      w.w * w.c, k, p.cout, out, p.cout, false);
      }
    }
  }

  // Direct kernel gradient ('valid'): the window rows of forward_direct read
  // as Aᵀ, all output rows of an image in one product (segments of ow
  // positions, one per output row): dK[ky] (+)= x_rows(ky)ᵀ · dout_image.
  // In order of image, then ky; within a product, positions in order.
  static void backward_dk_direct(const ConvPlan& p, const T* x, const T* dout, std::int64_t images, bool accumulate,
                                 T* dk) {
    const auto& w = p.win;
    const auto run = w.kw * w.c;
    for (std::int64_t n = 0; n < images; ++n, dout += w.positions() * p.cout) {
      const T* img = x + n * w.image_size();
      for (std::int64_t ky = 0; ky < w.kh; ++ky) {
        kernels::small_gemm_segmented(run, p.cout, w.oh, w.ow, img + ky * w.w * w.c, 1, w.sw * w.c, w.sh * w.w * w.c,
                                      dout, p.cout, dk + ky * run * p.cout, p.cout, accumulate || n > 0);
      }
    }
  }

  // fn(slot, first image, images) for every block; slot s runs blocks s, s+slots, ... in order.
  template <class F>
  static void for_slots(const ConvPlan& p, F&& fn) {
    kernels::for_blocks(p.slots, 1, [&](std::int64_t s0, std::int64_t s1) {
      for (auto s = s0; s < s1; ++s) {
        for (auto b = s; b < p.blocks; b += p.slots) {
          const auto n0 = b * p.per_block;
          fn(s, n0, std::min(p.per_block, p.batch - n0));
        }
      }
    });
  }

  std::array<int, 2> strides_;
  Padding padding_;
};

void check_strides(const char* op, const char* what, std::array<int, 2> v) {
  if (v[0] <= 0 || v[1] <= 0) {
    throw ArgumentError(std::string(op) + ": " + what + " must be positive, got [" + std::to_string(v[0]) + ", " +
                        std::to_string(v[1]) + "]");
  }
}

}  // namespace

Padding parse_padding(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower == "valid") return Padding::kValid;
  if (lower == "same") return Padding::kSame;
  throw ArgumentError("padding: expected \"valid\" or \"same\", got \"" + name + "\"");
}

template <class T>
NodeId conv2d(Graph<T>& g, NodeId x, NodeId kernel, std::array<int, 2> strides, Padding padding) {
  check_strides("conv2d", "strides", strides);
  return detail::add_op<T, Conv2d<T>>(g, {x, kernel}, strides, padding);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, conv2d, NodeId, NodeId, std::array<int, 2>, Padding)

}  // namespace dtrain::graph
