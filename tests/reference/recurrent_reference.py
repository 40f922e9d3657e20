#!/usr/bin/env python3
"""Reference values for tests/unit/layers/recurrent_test.cpp.

Independent of dtrain's kernels: plain Python floats (double precision), dot
products with math.fsum, one batch row and one time step at a time, written
from the formulas of Keras 3 (keras/src/layers/rnn/simple_rnn.py, lstm.py,
gru.py), with the state starting at zero:

  SimpleRNN (SimpleRNNCell.call):
    h = x @ kernel + bias;  output = h + h_prev @ recurrent_kernel
    output = activation(output)                                    (tanh)
  LSTM (LSTMCell.call, implementation 2): kernel columns [i | f | c | o]
    z = x @ kernel + h_prev @ recurrent_kernel + bias;  z0, z1, z2, z3 = split(z, 4)
    i = sigmoid(z0); f = sigmoid(z1); c = f * c_prev + i * tanh(z2); o = sigmoid(z3)
    h = o * tanh(c)
  GRU (GRUCell.call, reset_after=True): bias [2, 3u] = [input_bias, recurrent_bias],
  columns [z | r | h]
    x_z, x_r, x_h = split(x @ kernel + input_bias, 3)
    rec_z, rec_r, rec_h = split(h_prev @ recurrent_kernel + recurrent_bias, 3)
    z = sigmoid(x_z + rec_z); r = sigmoid(x_r + rec_r)
    hh = tanh(x_h + r * rec_h)
    h = z * h_prev + (1 - z) * hh

The inputs and weights are fixed by simple formulas (printed with the outputs,
so the test holds exactly these doubles). Standard library only.

Run: python3 tests/reference/recurrent_reference.py
and paste the printed C++ arrays into the test.
"""
import math

B, T, F, U = 2, 5, 3, 2


def values(n, a, b):
    """n fixed values in about [-0.8, 0.8]: 0.8 * sin(a * i + b), rounded to 1/1024."""
    return [round(0.8 * math.sin(a * i + b) * 1024) / 1024 for i in range(n)]


def matrix(flat, rows, cols):
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def matvec(v, m):
    """v @ m for v [k], m [k][n]."""
    return [math.fsum(v[k] * m[k][j] for k in range(len(v))) for j in range(len(m[0]))]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


X = values(B * T * F, 0.37, 0.1)


def x_at(b, t):
    return X[(b * T + t) * F:(b * T + t + 1) * F]


def simple_rnn(kernel, rec, bias):
    out = []
    for b in range(B):
        h = [0.0] * U
        for t in range(T):
            xk = matvec(x_at(b, t), kernel)
            hr = matvec(h, rec)
            h = [math.tanh(xk[j] + bias[j] + hr[j]) for j in range(U)]
            out.append(h)
    return out


def lstm(kernel, rec, bias):
    out = []
    for b in range(B):
        h = [0.0] * U
        c = [0.0] * U
        for t in range(T):
            xk = matvec(x_at(b, t), kernel)
            hr = matvec(h, rec)
            z = [xk[j] + hr[j] + bias[j] for j in range(4 * U)]
            i = [sigmoid(v) for v in z[0:U]]
            f = [sigmoid(v) for v in z[U:2 * U]]
            g = [math.tanh(v) for v in z[2 * U:3 * U]]
            o = [sigmoid(v) for v in z[3 * U:4 * U]]
            c = [f[j] * c[j] + i[j] * g[j] for j in range(U)]
            h = [o[j] * math.tanh(c[j]) for j in range(U)]
            out.append(h)
    return out


def gru(kernel, rec, bias):
    input_bias, recurrent_bias = bias[0:3 * U], bias[3 * U:6 * U]
    out = []
    for b in range(B):
        h = [0.0] * U
        for t in range(T):
            mx = [v + input_bias[j] for j, v in enumerate(matvec(x_at(b, t), kernel))]
            mi = [v + recurrent_bias[j] for j, v in enumerate(matvec(h, rec))]
            z = [sigmoid(mx[j] + mi[j]) for j in range(U)]
            r = [sigmoid(mx[U + j] + mi[U + j]) for j in range(U)]
            hh = [math.tanh(mx[2 * U + j] + r[j] * mi[2 * U + j]) for j in range(U)]
            h = [z[j] * h[j] + (1 - z[j]) * hh[j] for j in range(U)]
            out.append(h)
    return out


def cpp(name, flat):
    print("const std::vector<double> %s = {%s};" % (name, ", ".join(repr(v) for v in flat)))


def flatten(rows):
    return [v for row in rows for v in row]


print("// x [%d, %d, %d], units %d" % (B, T, F, U))
cpp("kX", X)
cases = [
    ("Rnn", 1, simple_rnn, lambda g: values(g * U, 0.53, 0.7)),
    ("Lstm", 4, lstm, lambda g: values(g * U, 0.53, 0.7)),
    ("Gru", 3, gru, lambda g: values(2 * g * U, 0.53, 0.7)),
]
for name, gates, fn, bias_of in cases:
    kernel = values(F * gates * U, 0.71, 0.3)
    rec = values(U * gates * U, 0.29, 1.1)
    bias = bias_of(gates)
    cpp("k%sKernel" % name, kernel)
    cpp("k%sRecurrent" % name, rec)
    cpp("k%sBias" % name, bias)
    cpp("k%sSequences" % name, flatten(fn(matrix(kernel, F, gates * U), matrix(rec, U, gates * U), bias)))
