#!/usr/bin/env python3
"""Which folders each folder of the library includes, from the #include lines.

    tests/architecture/include_graph.py [ROOT]          # prints the table
    tests/architecture/include_graph.py --check [ROOT]  # also checks the arrows, exit 1 if one points the wrong way

A folder is a concern: src/<concern>/ and include/dtrain/<concern>/ (or the
header include/dtrain/<concern>.hpp) count as one. Quoted includes of
"dtrain/..." name the concern they reach; quoted relative includes stay inside
the folder, except "hdf5/..." (src/hdf5, the private HDF5 glue).
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

# Public headers that are one concern each though they sit at the top level.
TOP_LEVEL = {"tensor": "tensor", "callbacks": "callbacks", "checkpoint": "checkpoint", "losses": "losses",
             "metrics": "metrics", "initializers": "initializers", "activations": "layers", "model": "model",
             "version": "core"}

# The arrows (DESIGN.md): each concern may include these and nothing else.
BELOW = {
    "core": set(),
    "tensor": {"core"},
    "kernels": {"core", "tensor"},
    "graph": {"core", "tensor", "kernels"},
    "initializers": {"core", "tensor"},
    "layers": {"core", "tensor", "kernels", "graph", "initializers"},
    "losses": {"core", "tensor", "kernels", "graph"},
    "metrics": {"core", "tensor", "kernels", "graph", "losses"},
    "optimizers": {"core", "tensor", "kernels"},
    "hdf5": {"core", "tensor"},
    "data": {"core", "tensor", "kernels", "hdf5"},
    "distributed": {"core", "tensor", "kernels", "graph"},
    "checkpoint": {"core", "tensor", "hdf5"},
    # callbacks see the model they are given (Keras' callback.model), its
    # optimizer (learning-rate callbacks) and its rank (output on rank 0 only)
    "callbacks": {"core", "tensor", "model", "optimizers", "distributed"},
    "model": {"core", "tensor", "kernels", "graph", "initializers", "layers", "losses", "metrics", "optimizers",
              "callbacks", "data", "distributed", "checkpoint"},
    "cli": {"core", "tensor", "model", "data", "distributed", "checkpoint", "callbacks", "losses", "optimizers"},
}


def concern_of(path: Path, root: Path):
    rel = path.relative_to(root).parts
    if rel[0] == "src":
        return rel[1] if len(rel) > 2 else TOP_LEVEL.get(Path(rel[1]).stem, rel[1])
    if rel[0] == "include" and len(rel) > 2:
        return rel[2] if len(rel) > 3 else TOP_LEVEL.get(Path(rel[2]).stem, Path(rel[2]).stem)
    return None


def included_concern(name: str, own: str):
    if name.startswith("dtrain/"):
        parts = name.split("/")[1:]
        return parts[0] if len(parts) > 1 else TOP_LEVEL.get(Path(parts[0]).stem, Path(parts[0]).stem)
    if name.startswith("hdf5/"):
        return "hdf5"
    return own


def graph(root: Path):
    edges = defaultdict(lambda: defaultdict(int))
    for base in ("src", "include"):
        for path in sorted((root / base).rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h"):
                continue
            own = concern_of(path, root)
            if own is None:
                continue
            edges[own]  # every concern gets a row
            for m in re.finditer(r'^\s*#\s*include\s+"([^"]+)"', path.read_text(), re.M):
                other = included_concern(m.group(1), own)
                if other != own:
                    edges[own][other] += 1
    return edges


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = Path(args[0] if args else Path(__file__).resolve().parents[2])
    edges = graph(root)
    wrong = []
    for concern in sorted(edges):
        reached = edges[concern]
        print(f"{concern:13} -> " + (", ".join(f"{c} ({n})" for c, n in sorted(reached.items())) or "-"))
        allowed = BELOW.get(concern)
        if allowed is None:
            wrong.append(f"{concern}: a concern the arrows do not list (add it to BELOW)")
            continue
        for c in sorted(reached):
            if c not in allowed:
                wrong.append(f"{concern} includes {c} ({reached[c]} lines), against the arrows")
    if check:
        for w in wrong:
            print("wrong way:", w)
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
