#!/usr/bin/env python3
"""Expected values for update_rules_test.cpp, worked out independently.

The update rules below are written straight from /work/shared/OPTIMIZERS.md
(Keras 3 semantics: keras/src/optimizers/*.py), one element at a time in Python
floats (IEEE double), with no code shared with the C++ implementation.

`python3 keras_reference.py` prints the table of update_rules_test.cpp (for each case,
after each of 3 steps from the same weights and gradients, every weight and every
slot); `python3 keras_reference.py --update update_rules_test.cpp` rewrites the table
between its BEGIN/END GENERATED markers.
"""
import math

# Two variables; every step's gradient has a zero element (kernel[2] always, bias[1]
# at step 2) and negative elements.
W0 = {"dense/kernel": [0.5, -1.25, 2.0, 0.75], "dense/bias": [0.1, -0.3]}
GRADS = [
    {"dense/kernel": [0.2, -0.5, 0.0, 1.5], "dense/bias": [-0.1, 0.05]},
    {"dense/kernel": [0.1, -0.8, 0.0, -2.0], "dense/bias": [0.3, 0.0]},
    {"dense/kernel": [-0.4, 0.3, 0.0, 0.5], "dense/bias": [0.02, -0.6]},
]
NAMES = ["dense/kernel", "dense/bias"]

DEFAULTS = {
    "sgd": dict(learning_rate=0.01, momentum=0.0, nesterov=False),
    "rmsprop": dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    "adam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    "adamw": dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                  epsilon=1e-7, amsgrad=False),
    "adagrad": dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7),
    "adadelta": dict(learning_rate=0.001, rho=0.95, epsilon=1e-7),
    "adamax": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    "nadam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    "ftrl": dict(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0),
    "lion": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.99),
}


def clip_grads(grads, o):
    """Step 1 of OPTIMIZERS.md: clipvalue, clipnorm (per variable), global_clipnorm."""
    out = {k: list(v) for k, v in grads.items()}
    if o.get("clipvalue") is not None:
        c = o["clipvalue"]
        out = {k: [min(max(x, -c), c) for x in v] for k, v in out.items()}
    if o.get("clipnorm") is not None:
        c = o["clipnorm"]
        for k, v in out.items():
            norm = math.sqrt(sum(x * x for x in v))
            out[k] = [x * c / max(norm, c) for x in v]
    if o.get("global_clipnorm") is not None:
        c = o["global_clipnorm"]
        norm = math.sqrt(sum(x * x for v in out.values() for x in v))
        out = {k: [x * c / max(norm, c) for x in v] for k, v in out.items()}
    return out


class Reference:
    """One optimizer: slots[name][slot] -> list, plus optimizer-wide state."""

    def __init__(self, kind, options):
        self.kind = kind
        self.o = dict(DEFAULTS[kind])
        self.o.update(options)
        self.t = 0  # iterations
        self.slot_names = self.make_slot_names()
        init = {"acc": self.o.get("initial_accumulator_value", 0.0),
                "n": self.o.get("initial_accumulator_value", 0.0)}
        self.slots = {p: {s: [init.get(s, 0.0)] * len(W0[p]) for s in self.slot_names}
                      for p in NAMES}
        self.u_product = 1.0

    def make_slot_names(self):
        o, k = self.o, self.kind
        if k == "sgd":
            return ["v"] if o["momentum"] != 0 else []
        if k == "rmsprop":
            return ["ms"] + (["mg"] if o["centered"] else []) + (["mom"] if o["momentum"] > 0 else [])
        if k in ("adam", "adamw"):
            return ["m", "v"] + (["vhat"] if o["amsgrad"] else [])
        return {"adagrad": ["acc"], "adadelta": ["ag", "ad"], "adamax": ["m", "u"],
                "nadam": ["m", "v"], "ftrl": ["n", "z"], "lion": ["m"]}[k]

    def step(self, weights, grads):
        o = self.o
        lr = o["learning_rate"]
        t = self.t + 1
        grads = clip_grads(grads, o)
        if o.get("weight_decay") is not None:  # step 2
            wd = o["weight_decay"]
            weights = {p: [w - w * wd * lr for w in ws] for p, ws in weights.items()}
        if self.kind == "nadam":  # the shared product, before the step
            self.u_product *= o["beta_1"] * (1 - 0.5 * 0.96 ** t)
        new = {}
        for p in NAMES:
            s = self.slots[p]
            new[p] = [self.update(i, weights[p][i], grads[p][i], s, lr, t)
                      for i in range(len(weights[p]))]
        self.t = t
        return new

    def update(self, i, w, g, s, lr, t):
        o, k = self.o, self.kind
        if k == "sgd":
            if o["momentum"] == 0:
                return w - lr * g
            v = o["momentum"] * s["v"][i] - lr * g
            s["v"][i] = v
            return w + (o["momentum"] * v - lr * g if o["nesterov"] else v)
        if k == "rmsprop":
            rho, eps = o["rho"], o["epsilon"]
            ms = rho * s["ms"][i] + (1 - rho) * g * g
            s["ms"][i] = ms
            if o["centered"]:
                mg = rho * s["mg"][i] + (1 - rho) * g
                s["mg"][i] = mg
                d = ms - mg * mg + eps
            else:
                d = ms + eps
            inc = lr * g / math.sqrt(d)  # epsilon inside the root
            if o["momentum"] > 0:
                mom = o["momentum"] * s["mom"][i] + inc
                s["mom"][i] = mom
                return w - mom
            return w - inc
        if k in ("adam", "adamw"):
            b1, b2, eps = o["beta_1"], o["beta_2"], o["epsilon"]
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m = s["m"][i] + (g - s["m"][i]) * (1 - b1)
            v = s["v"][i] + (g * g - s["v"][i]) * (1 - b2)
            s["m"][i], s["v"][i] = m, v
            if o["amsgrad"]:
                v = max(s["vhat"][i], v)
                s["vhat"][i] = v
            return w - alpha * m / (math.sqrt(v) + eps)
        if k == "adagrad":
            acc = s["acc"][i] + g * g
            s["acc"][i] = acc
            return w - lr * g / math.sqrt(acc + o["epsilon"])
        if k == "adadelta":
            rho, eps = o["rho"], o["epsilon"]
            ag = rho * s["ag"][i] + (1 - rho) * g * g
            dw = -math.sqrt(s["ad"][i] + eps) * g / math.sqrt(ag + eps)
            ad = rho * s["ad"][i] + (1 - rho) * dw * dw
            s["ag"][i], s["ad"][i] = ag, ad
            return w + lr * dw
        if k == "adamax":
            b1, b2, eps = o["beta_1"], o["beta_2"], o["epsilon"]
            m = s["m"][i] + (g - s["m"][i]) * (1 - b1)
            u = max(b2 * s["u"][i], abs(g))
            s["m"][i], s["u"][i] = m, u
            return w - lr * m / ((1 - b1 ** t) * (u + eps))
        if k == "nadam":
            b1, b2, eps = o["beta_1"], o["beta_2"], o["epsilon"]
            u_t = b1 * (1 - 0.5 * 0.96 ** t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            P = self.u_product
            P1 = P * u_t1
            m = s["m"][i] + (g - s["m"][i]) * (1 - b1)
            v = s["v"][i] + (g * g - s["v"][i]) * (1 - b2)
            s["m"][i], s["v"][i] = m, v
            mhat = u_t1 * m / (1 - P1) + (1 - u_t) * g / (1 - P)
            vhat = v / (1 - b2 ** t)
            return w - lr * mhat / (math.sqrt(vhat) + eps)
        if k == "ftrl":
            p = o["learning_rate_power"]
            l1 = o["l1_regularization_strength"]
            l2r = o["l2_regularization_strength"] + o["beta"] / (2 * lr)
            gs = g + 2 * o["l2_shrinkage_regularization_strength"] * w
            n = s["n"][i]
            n1 = n + g * g
            z = s["z"][i] + gs - (n1 ** (-p) - n ** (-p)) / lr * w
            q = n1 ** (-p) / lr + 2 * l2r
            s["z"][i], s["n"][i] = z, n1
            return (min(max(z, -l1), l1) - z) / q
        if k == "lion":  # keras/src/optimizers/lion.py
            b1, b2 = o["beta_1"], o["beta_2"]
            c = s["m"][i] * b1 + g * (1.0 - b1)
            sign = 1.0 if c > 0 else (-1.0 if c < 0 else 0.0)
            s["m"][i] = s["m"][i] * b2 + g * (1.0 - b2)
            return w - lr * sign
        raise ValueError(k)


# (case name, optimizer, options given to make_optimizer)
CASES = [
    ("sgd", "sgd", dict(learning_rate=0.1)),
    ("sgd_momentum", "sgd", dict(learning_rate=0.1, momentum=0.9)),
    ("sgd_nesterov", "sgd", dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("sgd_momentum_weight_decay", "sgd", dict(learning_rate=0.1, momentum=0.5, weight_decay=0.2)),
    ("sgd_global_clipnorm", "sgd", dict(learning_rate=0.1, momentum=0.9, global_clipnorm=1.5)),
    ("rmsprop", "rmsprop", dict(learning_rate=0.1)),
    ("rmsprop_centered_momentum", "rmsprop",
     dict(learning_rate=0.1, rho=0.8, momentum=0.5, centered=True)),
    ("rmsprop_clipvalue", "rmsprop", dict(learning_rate=0.1, clipvalue=0.5)),
    ("adam", "adam", dict(learning_rate=0.1)),
    ("adam_amsgrad", "adam", dict(learning_rate=0.1, beta_2=0.5, amsgrad=True)),
    ("adam_clipnorm", "adam", dict(learning_rate=0.1, clipnorm=1.0)),
    ("adamw", "adamw", dict(learning_rate=0.1, weight_decay=0.05)),
    ("adamw_default_decay", "adamw", dict(learning_rate=0.1)),
    ("adagrad", "adagrad", dict(learning_rate=0.1)),
    ("adadelta", "adadelta", dict(learning_rate=1.0)),
    ("adamax", "adamax", dict(learning_rate=0.1)),
    ("nadam", "nadam", dict(learning_rate=0.1)),
    ("ftrl", "ftrl", dict(learning_rate=0.1)),
    ("ftrl_l1_l2_shrinkage_beta", "ftrl",
     dict(learning_rate=0.1, l1_regularization_strength=0.05, l2_regularization_strength=0.02,
          l2_shrinkage_regularization_strength=0.05, beta=0.3)),
    ("ftrl_power", "ftrl", dict(learning_rate=0.1, learning_rate_power=-0.7,
                                initial_accumulator_value=0.5)),
    ("lion", "lion", dict(learning_rate=0.1)),
    ("lion_weight_decay_betas", "lion",
     dict(learning_rate=0.1, beta_1=0.5, beta_2=0.9, weight_decay=0.2)),
]


def cpp_number(x):
    return repr(float(x))


def cpp_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return cpp_number(v)


def table():
    lines = []
    print = lines.append  # noqa: A001 - collect the lines
    for case, kind, options in CASES:
        ref = Reference(kind, options)
        weights = {p: list(v) for p, v in W0.items()}
        opts = ", ".join('{"%s", %s}' % (k, cpp_value(v)) for k, v in options.items())
        print('{"%s", "%s", {%s}, {' % (case, kind, opts))
        for step in range(3):
            weights = ref.step(weights, GRADS[step])
            entries = []
            for p in NAMES:
                entries.append((p, weights[p]))
                for sname in ref.slot_names:
                    entries.append((p + "/" + sname, ref.slots[p][sname]))
            if kind == "nadam":
                entries.append(("nadam/u_product", [ref.u_product]))
            print("  {  // after step %d" % (step + 1))
            for name, values in entries:
                print('    {"%s", {%s}},' % (name, ", ".join(cpp_number(x) for x in values)))
            print("  },")
        print("}},")
    return lines


BEGIN = "// BEGIN GENERATED by keras_reference.py"
END = "// END GENERATED"


def main():
    import sys
    lines = table()
    if len(sys.argv) == 3 and sys.argv[1] == "--update":
        path = sys.argv[2]
        text = open(path).read()
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        open(path, "w").write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    else:
        sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
