// Sliding 2-D windows over NHWC images: geometry (Keras/TensorFlow padding),
// im2col and its adjoint col2im, for convolution and pooling.
//
//   auto w = kernels::make_window2d(28, 28, 1, 3, 3, 1, 1, /*same=*/false);  // oh = ow = 26
//   kernels::im2col(w, x, images, cols);       // cols [images*oh*ow, kh*kw*c]
//   kernels::col2im_add(w, dcols, images, dx); // dx += the adjoint of im2col
//
// A row of cols is one output position (n, oy, ox); its columns run over
// (ky, kx, c) in that order, which matches a Keras kernel [kh, kw, cin, cout]
// read as a row-major [kh*kw*cin, cout] matrix. Cells outside the image
// (padding) are 0 in cols and dropped by col2im_add.
//
// Both functions are serial: callers parallelise over blocks of whole images,
// so col2im_add never has two tasks adding into the same image.
#pragma once

#include <cstdint>

namespace dtrain::kernels {

struct Window2d {
  std::int64_t h = 0, w = 0, c = 0;      // input image
  std::int64_t kh = 0, kw = 0;           // window
  std::int64_t sh = 1, sw = 1;           // strides
  std::int64_t oh = 0, ow = 0;           // output positions (<= 0: the window does not fit)
  std::int64_t pad_top = 0, pad_left = 0;

  std::int64_t patch() const { return kh * kw * c; }      // columns of cols
  std::int64_t positions() const { return oh * ow; }      // rows of cols per image
  std::int64_t image_size() const { return h * w * c; }   // elements of one input image
};

// Output size and padding as TensorFlow computes them (tf.nn.conv2d docs,
// "padding"): valid: out = ceil((in - k + 1) / s) = floor((in - k) / s) + 1;
// same: out = ceil(in / s), pad_total = max((out - 1)·s + k - in, 0),
// pad_before = pad_total / 2 (the extra pixel goes to the bottom/right).
// With valid and k > in, oh or ow is <= 0 (callers report the error).
Window2d make_window2d(std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t kh, std::int64_t kw,
                       std::int64_t sh, std::int64_t sw, bool same);

// cols[images*oh*ow, kh*kw*c] = the windows of x[images, h, w, c] (0 where padded).
template <class T>
void im2col(const Window2d& g, const T* x, std::int64_t images, T* cols);

// dx[images, h, w, c] += the sum, over every window, of its row of cols.
template <class T>
void col2im_add(const Window2d& g, const T* cols, std::int64_t images, T* dx);

}  // namespace dtrain::kernels
