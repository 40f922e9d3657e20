#!/usr/bin/env python3
"""Reference values for tests/unit/layers/embedding_test.cpp.

Independent of dtrain: plain Python floats (double precision), sums with
math.fsum (correctly rounded), from the formulas of Keras 3:

  Embedding(input_dim, output_dim) (keras/src/layers/core/embedding.py):
    y[b, t, :] = embeddings[ids[b, t], :]          (ops.take along axis 0)
  GlobalAveragePooling1D(data_format="channels_last")
  (keras/src/layers/pooling/global_average_pooling1d.py):
    y[b, f] = mean over t of x[b, t, f]            (ops.mean(x, axis=1))

The ids repeat tokens inside a row and across rows, use the first and the last
row of the table, and the time length 3 makes the mean divide by a number that
is not a power of two. Standard library only (numpy is not needed).

Run: python3 tests/reference/embedding_reference.py
and paste the printed C++ arrays into the test.
"""
import math

TABLE = [  # [5, 4]
    [0.5, -1.25, 2.0, 0.125],
    [-0.3, 0.7, 1.1, -2.2],
    [3.0, 0.0, -0.6, 0.45],
    [0.01, -0.02, 0.03, -0.04],
    [1.5, 2.5, -3.5, 4.5],
]
IDS = [  # [2, 3]
    [0, 2, 2],
    [4, 1, 4],
]


def embedding(ids, table):
    return [[list(table[i]) for i in row] for row in ids]


def gap1d(x):
    return [[math.fsum(x[b][t][f] for t in range(len(x[b]))) / len(x[b]) for f in range(len(x[b][0]))]
            for b in range(len(x))]


def cpp(name, values):
    return "const std::vector<double> " + name + " = {" + ", ".join(repr(v) for v in values) + "};"


def flat(x):
    if isinstance(x, list):
        return [v for e in x for v in flat(e)]
    return [x]


if __name__ == "__main__":
    e = embedding(IDS, TABLE)
    print(cpp("kEmbeddingOut", flat(e)))
    print(cpp("kPooledOut", flat(gap1d(e))))
