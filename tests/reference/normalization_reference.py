#!/usr/bin/env python3
"""Reference values for tests/unit/layers/normalization_test.cpp.

Independent of dtrain's kernels: plain Python floats (double precision), sums
with math.fsum (correctly rounded), written from the formulas of Keras 3:

  LayerNormalization(axis=-1, epsilon, center, scale)
  (keras/src/layers/normalization/layer_normalization.py), per sample over the
  last axis of k features:
    mean = sum(x) / k
    var  = sum((x - mean)^2) / k                  (biased)
    y    = (x - mean) / sqrt(var + epsilon) * gamma + beta
  scale=False drops gamma (as gamma = 1), center=False drops beta (beta = 0).

  RMSNormalization(axis=-1, epsilon) (keras.ops.rms_normalization):
    y = x * rsqrt(mean(x^2) + epsilon) * scale

Inputs of rank 2 ([batch, features]) and rank 4 ([batch, h, w, channels],
normalised over the channels for every (batch, h, w)). The rows include a
constant row (var = 0: y = beta, epsilon keeps it finite), a row far from zero
(|mean| >> std) and a row of tiny values (epsilon dominates). Python's float
repr is the shortest decimal that reads back to the same double, so the pasted
values are exact doubles. Standard library only (numpy is not needed).

Run: python3 tests/reference/normalization_reference.py
and paste the printed C++ arrays into the test.
"""
import math

# [4, 5]: ordinary values, a constant row, a row far from zero, tiny values.
X2 = [
    [0.5, -1.25, 2.0, 0.0, 3.5],
    [2.0, 2.0, 2.0, 2.0, 2.0],
    [1000.25, 999.5, 1001.0, 1000.0, 998.75],
    [1e-3, -2e-3, 5e-4, 0.0, 3e-3],
]
GAMMA5 = [1.5, -0.5, 1.0, 2.0, 0.25]
BETA5 = [0.1, 0.0, -0.3, 1.0, 0.5]

# [2, 2, 2, 3]: 8 rows of 3 channels.
X4 = [
    [[[1.0, 2.0, 4.0], [-1.0, 0.5, 0.25]], [[3.0, 3.0, 3.0], [0.0, -2.0, 7.0]]],
    [[[10.0, 10.5, 9.0], [0.125, -0.75, 0.5]], [[-4.0, 1.0, 2.5], [6.0, 5.5, -6.5]]],
]
GAMMA3 = [0.5, 2.0, -1.0]
BETA3 = [0.25, -0.5, 1.0]


def layer_norm_row(row, epsilon, gamma=None, beta=None):
    k = len(row)
    mean = math.fsum(row) / k
    var = math.fsum((v - mean) ** 2 for v in row) / k
    inv = 1.0 / math.sqrt(var + epsilon)
    out = []
    for j, v in enumerate(row):
        y = (v - mean) * inv
        if gamma is not None:
            y *= gamma[j]
        if beta is not None:
            y += beta[j]
        out.append(y)
    return out


def rms_norm_row(row, epsilon, scale=None):
    k = len(row)
    inv = 1.0 / math.sqrt(math.fsum(v * v for v in row) / k + epsilon)
    return [v * inv * (scale[j] if scale is not None else 1.0) for j, v in enumerate(row)]


def rows_of(x):
    """The last-axis rows of a nested list, in row-major order."""
    if not isinstance(x[0], list):
        return [x]
    out = []
    for sub in x:
        out.extend(rows_of(sub))
    return out


def flat(rows):
    return [v for r in rows for v in r]


def cpp(name, values):
    print("const std::vector<double> %s = {%s};" % (name, ", ".join(repr(float(v)) for v in values)))


r2, r4 = rows_of(X2), rows_of(X4)
cpp("kX2", flat(r2))
cpp("kGamma5", GAMMA5)
cpp("kBeta5", BETA5)
# LayerNormalization(): epsilon 1e-3, center and scale.
cpp("kLn2", flat(layer_norm_row(r, 1e-3, GAMMA5, BETA5) for r in r2))
# LayerNormalization(center=False, scale=False, epsilon=1e-5).
cpp("kLn2Plain", flat(layer_norm_row(r, 1e-5) for r in r2))
# LayerNormalization(center=False): gamma only; (scale=False): beta only.
cpp("kLn2ScaleOnly", flat(layer_norm_row(r, 1e-3, GAMMA5, None) for r in r2))
cpp("kLn2CenterOnly", flat(layer_norm_row(r, 1e-3, None, BETA5) for r in r2))
# RMSNormalization(): epsilon 1e-6, scale = GAMMA5.
cpp("kRms2", flat(rms_norm_row(r, 1e-6, GAMMA5) for r in r2))

cpp("kX4", flat(r4))
cpp("kGamma3", GAMMA3)
cpp("kBeta3", BETA3)
cpp("kLn4", flat(layer_norm_row(r, 1e-3, GAMMA3, BETA3) for r in r4))
cpp("kRms4", flat(rms_norm_row(r, 1e-6, GAMMA3) for r in r4))
