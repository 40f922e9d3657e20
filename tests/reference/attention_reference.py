#!/usr/bin/env python3
"""Reference values for tests/unit/layers/attention_test.cpp.

Keras 3's MultiHeadAttention forward pass
(keras/src/layers/attention/multi_head_attention.py), written out in plain
Python floats (double precision, sums with math.fsum), independent of dtrain:

  query = einsum("abc,cde->abde", query_in, query/kernel) + query/bias  [B, T, N, D]
  key   = einsum("abc,cde->abde", key_in,   key/kernel)   + key/bias    [B, S, N, D]
  value = einsum("abc,cde->abde", value_in, value/kernel) + value/bias  [B, S, N, Dv]
  query = query * (1 / sqrt(D))                       (_inverse_sqrt_key_dim)
  scores = einsum("aecd,abcd->acbe", key, query)       [B, N, T, S]
  scores = softmax over the last (key) axis; with use_causal_mask=True a key
           s is masked for query t unless t >= s (_compute_causal_mask: lower
           triangular, row index >= column index). Keras adds a large negative
           number to masked scores; exp of it is exactly 0 in double, so the
           masked keys are simply left out here.
  out    = einsum("acbe,aecd->abcd", scores, value)    [B, T, N, Dv]
  y      = einsum("abcd,cde->abe", out, attention_output/kernel) + attention_output/bias

Fixed inputs and weights, by formulas the C++ test repeats (all exact binary
fractions): the i-th element (row-major) of
  weight number w (Keras order: query/kernel, query/bias, key/kernel, key/bias,
  value/kernel, value/bias, attention_output/kernel, attention_output/bias)
      = ((7*i + 3*w + 1) % 13 - 6) / 8
  the query input = ((5*i + 2) % 9 - 4) / 4
  the value input (cross-attention) = ((3*i + 1) % 7 - 3) / 4
Python's float repr is the shortest decimal that reads back to the same double.

Run: python3 tests/reference/attention_reference.py
and paste the printed C++ arrays into the test.
"""
import math


def weight(w, n):
    return [((7 * i + 3 * w + 1) % 13 - 6) / 8.0 for i in range(n)]


def query_input(n):
    return [((5 * i + 2) % 9 - 4) / 4.0 for i in range(n)]


def value_input(n):
    return [((3 * i + 1) % 7 - 3) / 4.0 for i in range(n)]


def project(x, B, T, F, kernel, bias, N, W):
    # x flat [B, T, F], kernel flat [F, N, W], bias flat [N, W] -> [B][T][N][W]
    out = []
    for b in range(B):
        rows = []
        for t in range(T):
            heads = []
            for n in range(N):
                vals = []
                for w in range(W):
                    s = math.fsum(x[(b * T + t) * F + c] * kernel[(c * N + n) * W + w] for c in range(F))
                    vals.append(s + bias[n * W + w])
                heads.append(vals)
            rows.append(heads)
        out.append(rows)
    return out


def mha(query_in, shape_q, value_in, shape_v, N, D, Dv, O, causal):
    B, T, Fq = shape_q
    _, S, Fv = shape_v
    Fk = Fv  # key = value
    w = [
        weight(0, Fq * N * D), weight(1, N * D),
        weight(2, Fk * N * D), weight(3, N * D),
        weight(4, Fv * N * Dv), weight(5, N * Dv),
        weight(6, N * Dv * O), weight(7, O),
    ]
    q = project(query_in, B, T, Fq, w[0], w[1], N, D)
    k = project(value_in, B, S, Fk, w[2], w[3], N, D)
    v = project(value_in, B, S, Fv, w[4], w[5], N, Dv)
    scale = 1.0 / math.sqrt(D)
    y = []
    for b in range(B):
        for t in range(T):
            att = []  # [N][Dv]
            for n in range(N):
                qs = [q[b][t][n][d] * scale for d in range(D)]
                keys = [s for s in range(S) if not causal or t >= s]
                scores = [math.fsum(qs[d] * k[b][s][n][d] for d in range(D)) for s in keys]
                m = max(scores)
                e = [math.exp(x - m) for x in scores]
                tot = math.fsum(e)
                p = [x / tot for x in e]
                att.append([math.fsum(p[i] * v[b][s][n][c] for i, s in enumerate(keys)) for c in range(Dv)])
            for o in range(O):
                s = math.fsum(att[n][c] * w[6][(n * Dv + c) * O + o] for n in range(N) for c in range(Dv))
                y.append(s + w[7][o])
    return y


def emit(name, values):
    print("const std::vector<double> %s = {" % name)
    for i in range(0, len(values), 4):
        print("    " + ", ".join(repr(v) for v in values[i:i + 4]) + ",")
    print("};")


if __name__ == "__main__":
    # Self-attention: x [2, 3, 4], num_heads 2, key_dim 3, value_dim 2, output 4.
    x = query_input(2 * 3 * 4)
    for causal in (False, True):
        emit("kSelf" + ("Causal" if causal else ""), mha(x, (2, 3, 4), x, (2, 3, 4), 2, 3, 2, 4, causal))
    # Cross-attention: query [2, 3, 4], value (= key) [2, 5, 3], num_heads 2,
    # key_dim 2, value_dim 3, output_shape 5.
    val = value_input(2 * 5 * 3)
    for causal in (False, True):
        emit("kCross" + ("Causal" if causal else ""), mha(x, (2, 3, 4), val, (2, 5, 3), 2, 2, 3, 5, causal))
