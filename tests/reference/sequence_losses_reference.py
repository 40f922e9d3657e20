#!/usr/bin/env python3
"""Reference values for the rank-3 ([batch, time, ...]) cases of
tests/unit/losses/losses_test.cpp and tests/unit/metrics/metrics_test.cpp.

Independent of dtrain: plain Python floats (double precision), sums with
math.fsum, written from Keras 3's formulas:

  sparse_categorical_crossentropy (keras/src/losses/losses.py, numpy backend
  keras/src/backend/numpy/nn.py), per token over the last axis of K classes:
    from_logits: -log_softmax(x)[label]  = -(x[label] - max - log(sum(exp(x - max))))
    else:        p = x / sum(x); p = clip(p, 1e-7, 1 - 1e-7); -log(p[label])
  The loss function returns [batch, time]; Loss.__call__ with the default
  reduction "sum_over_batch_size" (keras/src/losses/loss.py, reduce_values)
  divides the sum over all elements by their count: mean over batch * time.

  mean_squared_error: mean over the last axis of (p - t)^2 -> [batch, time],
  then the same reduction: mean over every element.

  sparse_categorical_accuracy (keras/src/metrics/accuracy_metrics.py):
  argmax(y_pred, -1) == y_true per token -> [batch, time] of 0/1; the
  MeanMetricWrapper (reduction_metrics.py, reduce_to_samplewise_values) takes
  the mean over the non-batch axes per sample, then the mean over samples.
  With every sample of equal length this is the mean over all tokens.
  np.argmax takes the first maximum on ties.

dtrain's per-sample loss is the mean over time of the per-token losses (the
model divides the sum of per-sample losses by the sample count): both figures
are printed. Python's float repr is the shortest decimal that reads back to the
same double, so the pasted values are exact doubles.

Run: python3 tests/reference/sequence_losses_reference.py
and paste the printed C++ arrays into the tests.
"""
import math

B, T, K = 2, 3, 4

# [2, 3, 4] logits; sample 1, time 2 has a tie between classes 1 and 3.
LOGITS = [
    [[1.5, -0.25, 0.75, 2.0], [-1.0, 0.5, 0.0, -2.5], [3.0, 1.0, -1.0, 0.25]],
    [[0.0, 0.0, 0.0, 0.0], [-0.5, 2.25, 1.75, -3.0], [0.125, 1.5, -0.75, 1.5]],
]
LABELS = [[3, 1, 2], [0, 2, 3]]

# [2, 3, 4] probabilities, rows not normalised (Keras divides by the sum); one
# label has probability 0 (clipped to 1e-7 after the division).
PROBS = [
    [[0.1, 0.2, 0.3, 0.4], [0.5, 0.25, 0.125, 0.125], [0.9, 0.05, 0.05, 0.0]],
    [[1.0, 2.0, 3.0, 4.0], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.2, 0.3]],
]
PROB_LABELS = [[2, 0, 3], [3, 1, 0]]

# MSE on [2, 3, 2].
MSE_PRED = [[[0.5, -1.0], [2.0, 0.25], [1.5, 1.5]], [[-0.75, 0.0], [3.0, -2.0], [0.125, 0.5]]]
MSE_TRUE = [[[0.0, 1.0], [2.0, 0.0], [1.0, -0.5]], [[0.25, 0.5], [1.0, -1.0], [0.0, 0.0]]]

EPS = 1e-7


def ce_logits(x, label):
    m = max(x)
    lse = math.log(math.fsum(math.exp(v - m) for v in x))
    return -((x[label] - m) - lse)


def ce_probs(p, label):
    s = math.fsum(p)
    q = min(max(p[label] / s, EPS), 1.0 - EPS)
    return -math.log(q)


def first_argmax(x):
    best = 0
    for j in range(1, len(x)):
        if x[j] > x[best]:
            best = j
    return best


def keras_mean(rows):
    """sum_over_batch_size: sum over all [batch, time] elements / their count."""
    flat = [v for r in rows for v in r]
    return math.fsum(flat) / len(flat)


def per_sample(rows):
    return [math.fsum(r) / len(r) for r in rows]


def show(name, values):
    print(f"const std::vector<double> {name}{{{', '.join(repr(v) for v in values)}}};")


def main():
    tok_logits = [[ce_logits(LOGITS[b][t], LABELS[b][t]) for t in range(T)] for b in range(B)]
    tok_probs = [[ce_probs(PROBS[b][t], PROB_LABELS[b][t]) for t in range(T)] for b in range(B)]
    tok_mse = [[math.fsum((p - q) ** 2 for p, q in zip(MSE_PRED[b][t], MSE_TRUE[b][t])) / 2 for t in range(T)]
               for b in range(B)]
    hits = [[1.0 if first_argmax(LOGITS[b][t]) == LABELS[b][t] else 0.0 for t in range(T)] for b in range(B)]
    acc = math.fsum(math.fsum(r) / len(r) for r in hits) / len(hits)

    show("kScceLogitsPerSample", per_sample(tok_logits))
    show("kScceLogitsKeras", [keras_mean(tok_logits)])
    show("kScceProbsPerSample", per_sample(tok_probs))
    show("kScceProbsKeras", [keras_mean(tok_probs)])
    show("kMsePerSample", per_sample(tok_mse))
    show("kMseKeras", [keras_mean(tok_mse)])
    show("kTokenAccuracy", [acc])


if __name__ == "__main__":
    main()
