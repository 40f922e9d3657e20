#!/usr/bin/env python3
"""Reference values for tests/unit/optimizers/schedules_test.cpp (Keras3Reference).

Written from the formulas of Keras 3's learning-rate schedules
(keras/src/optimizers/schedules/learning_rate_schedule.py, the __call__ of each
class), in Python floats (IEEE double), standard library only (numpy is not
needed), with no code shared with dtrain:

  ExponentialDecay     init * rate ** p,  p = step / decay_steps (floored with staircase)
  PiecewiseConstant    values[0] if step <= b[0]; values[i] if b[i-1] < step <= b[i];
                       values[-1] if step > b[-1]
  PolynomialDecay      s = min(step, ds) (cycle: ds *= 1 if step == 0 else ceil(step / ds));
                       (init - end) * (1 - s / ds) ** power + end
  InverseTimeDecay     init / (1 + rate * p), p as ExponentialDecay's
  CosineDecay          no warm-up: init * ((1 - a) * 0.5 * (1 + cos(pi * min(step, ds) / ds)) + a);
                       warm-up: s = min(step, ds + ws); s < ws: (target - init) * s / ws + init;
                       else the decay from target at s - ws
  CosineDecayRestarts  f = step / first; t_mul == 1: i = floor(f), f -= i; else
                       i = floor(log(1 - f * (1 - t_mul)) / log(t_mul)),
                       f = (f - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i;
                       init * ((1 - a) * 0.5 * m_mul ** i * (1 + cos(pi * f)) + a)

Python's float repr is the shortest decimal that reads back to the same double,
so the printed values are exact doubles.

Run: python3 tests/reference/schedules_reference.py
and paste the printed C++ initializer into the test.
"""
import math


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    if staircase:
        p = math.floor(p)
    return initial_learning_rate * decay_rate ** p


def piecewise_constant_decay(step, boundaries, values):
    if step <= boundaries[0]:
        return values[0]
    if step > boundaries[-1]:
        return values[-1]
    for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
        if low < step <= high:
            return value
    raise AssertionError("unreachable")


def polynomial_decay(step, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False):
    ds = float(decay_steps)
    s = float(step)
    if cycle:
        ds = ds * (1.0 if s == 0 else math.ceil(s / decay_steps))
    else:
        s = min(s, ds)
    p = s / ds
    return (initial_learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    if staircase:
        p = math.floor(p)
    return initial_learning_rate / (1 + decay_rate * p)


def cosine_decay(step, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
                 warmup_steps=0):
    def decay(s, start):
        return start * ((1 - alpha) * 0.5 * (1.0 + math.cos(math.pi * (s / decay_steps))) + alpha)

    if warmup_target is None:
        return decay(min(float(step), decay_steps), initial_learning_rate)
    s = min(float(step), decay_steps + warmup_steps)
    if s < warmup_steps:
        return (warmup_target - initial_learning_rate) * (s / warmup_steps) + initial_learning_rate
    return decay(s - warmup_steps, warmup_target)


def cosine_decay_restarts(step, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0):
    f = step / first_decay_steps
    if t_mul == 1.0:
        i = math.floor(f)
        f -= i
    else:
        i = math.floor(math.log(1.0 - f * (1.0 - t_mul)) / math.log(t_mul))
        f = (f - (1.0 - t_mul ** i) / (1.0 - t_mul)) / t_mul ** i
    cosine = 0.5 * m_mul ** i * (1.0 + math.cos(math.pi * f))
    return initial_learning_rate * ((1 - alpha) * cosine + alpha)


# (case name, Keras class, arguments, function, steps): steps 0 and 1, the end of
# the warm-up (or the first boundary / restart), the middle, the end and past it.
CASES = [
    ("exponential", "ExponentialDecay",
     dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5), exponential_decay,
     [0, 1, 50, 100, 250]),
    ("exponential_staircase", "ExponentialDecay",
     dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5, staircase=True),
     exponential_decay, [0, 1, 99, 100, 250]),
    ("piecewise", "PiecewiseConstantDecay",
     dict(boundaries=[100, 200], values=[0.1, 0.01, 0.001]), piecewise_constant_decay,
     [0, 1, 100, 101, 150, 200, 201, 1000]),
    ("polynomial_defaults", "PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100),
     polynomial_decay, [0, 1, 50, 100, 150]),
    ("polynomial_power_cycle", "PolynomialDecay",
     dict(initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.001, power=0.5,
          cycle=True), polynomial_decay, [0, 1, 50, 99, 100, 101, 150, 200, 250]),
    ("inverse_time", "InverseTimeDecay",
     dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5), inverse_time_decay,
     [0, 1, 5, 10, 100]),
    ("inverse_time_staircase", "InverseTimeDecay",
     dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=True),
     inverse_time_decay, [0, 1, 9, 10, 25]),
    ("cosine", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100), cosine_decay,
     [0, 1, 50, 100, 150]),
    ("cosine_warmup", "CosineDecay",
     dict(initial_learning_rate=0.0, decay_steps=1000, alpha=0.1, warmup_target=0.001,
          warmup_steps=100), cosine_decay, [0, 1, 50, 99, 100, 101, 600, 1100, 2000]),
    ("cosine_warmup_from_nonzero", "CosineDecay",
     dict(initial_learning_rate=0.0002, decay_steps=30, warmup_target=0.002, warmup_steps=10),
     cosine_decay, [0, 1, 5, 10, 25, 40, 41]),
    ("cosine_target_no_warmup_steps", "CosineDecay",
     dict(initial_learning_rate=0.01, decay_steps=100, warmup_target=0.1), cosine_decay,
     [0, 1, 50, 100, 150]),
    ("restarts_defaults", "CosineDecayRestarts",
     dict(initial_learning_rate=0.1, first_decay_steps=100), cosine_decay_restarts,
     [0, 1, 50, 99, 100, 101, 200, 299, 300, 301, 700]),
    ("restarts_t_mul_1", "CosineDecayRestarts",
     dict(initial_learning_rate=0.1, first_decay_steps=100, t_mul=1.0, m_mul=0.5, alpha=0.1),
     cosine_decay_restarts, [0, 1, 50, 100, 150, 250]),
    ("restarts_t_mul_1_5", "CosineDecayRestarts",
     dict(initial_learning_rate=0.1, first_decay_steps=40, t_mul=1.5, m_mul=0.8, alpha=0.05),
     cosine_decay_restarts, [0, 1, 20, 40, 41, 70, 100, 101, 500]),
]


def cpp(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "std::vector<double>{" + ", ".join(repr(float(x)) for x in v) + "}"
    if isinstance(v, int):
        return "std::int64_t{%d}" % v
    return repr(float(v))


def main():
    for name, cls, args, fn, steps in CASES:
        opts = ", ".join('{"%s", %s}' % (k, cpp(v)) for k, v in args.items())
        values = ", ".join("{%d, %r}" % (s, float(fn(s, **args))) for s in steps)
        print('{"%s", {"%s", {%s}},\n {%s}},' % (name, cls, opts, values))


if __name__ == "__main__":
    main()
