#!/usr/bin/env python3
"""Reference values for tests/unit/layers/activations_test.cpp.

Independent of dtrain's kernels: Python's math module (erf/erfc, tanh, exp,
log1p) in double precision, written from the formulas of keras.activations
(Keras 3):
  gelu(x, approximate=False) = 0.5 * x * (1 + erf(x / sqrt(2)))
  gelu(x, approximate=True)  = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
  silu(x) = swish(x)         = x * sigmoid(x)
  softplus(x)                = log(1 + exp(x))
  log_softmax(x)             = x - log(sum(exp(x)))   over the last axis
For x << 0, 1 + erf and log(1 + exp(x)) lose every digit to cancellation, so
the script uses the equal forms 0.5 * erfc(-x / sqrt(2)) and
max(x, 0) + log1p(exp(-|x|)); log-sum-exp sums with math.fsum after shifting
by the row maximum. Python's float repr is the shortest decimal that reads
back to the same double, so the pasted values are exact doubles. Standard
library only (numpy is not needed).

Run: python3 tests/reference/activations_reference.py
and paste the printed C++ arrays into the test.
"""
import math

XS = [-100.0, -30.0, -10.0, -5.0, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0]


def gelu(x):
    return 0.5 * x * math.erfc(-x / math.sqrt(2.0))


def gelu_approximate(x):
    return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def silu(x):
    return x * sigmoid(x)


def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def log_softmax(row):
    m = max(row)
    lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


# Rows for log_softmax: ordinary values, one huge logit, equal values, a wide spread.
ROWS = [
    [0.5, -1.0, 2.0, 0.0],
    [1000.0, 0.0, -1000.0, 1.0],
    [3.0, 3.0, 3.0, 3.0],
    [-50.0, 50.0, 25.0, -25.0],
]


def cpp_array(name, values):
    body = ", ".join(repr(float(v)) for v in values)
    return f"const std::vector<double> {name} = {{{body}}};"


if __name__ == "__main__":
    print(cpp_array("kX", XS))
    print(cpp_array("kGelu", [gelu(x) for x in XS]))
    print(cpp_array("kGeluApproximate", [gelu_approximate(x) for x in XS]))
    print(cpp_array("kSilu", [silu(x) for x in XS]))
    print(cpp_array("kSoftplus", [softplus(x) for x in XS]))
    print(cpp_array("kLogSoftmaxIn", [v for r in ROWS for v in r]))
    print(cpp_array("kLogSoftmax", [v for r in ROWS for v in log_softmax(r)]))
