#!/usr/bin/env python3
"""PyTorch side of jobs/bench/compare.sh: the same work as tests/bench/train_bench.cpp.

    python3 jobs/bench/torch_bench.py --model mlp --threads 1
    python3 jobs/bench/torch_bench.py --model mlp --threads 1 --blas-threads 2
    python3 jobs/bench/torch_bench.py --model mlp --ddp 2 --threads 1 --batch 256
    python3 jobs/bench/torch_bench.py --model cnn --threads 2 --epochs 2     # + test accuracy

Same model (MLP 784-512-256-10 relu, or Conv2D(32,3x3)-MaxPool-Conv2D(64,3x3)-
MaxPool-Dense(128)-Dense(10)), Keras' initialisers (glorot_uniform kernels, zero
biases), Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-7 as Keras), sparse categorical
cross-entropy on logits, the same global batch drawn from a per-epoch permutation of
Fashion-MNIST held in memory as stored, uint8 (read from data/fashion-mnist.h5 with h5py), `--warmup`
steps, then `--steps` timed steps. With --ddp P, P processes (gloo, CPU) each take
B/P rows of every global batch (DistributedDataParallel averages the gradients).

--threads sets torch.set_num_threads (intra-op); --blas-threads sets the threads of
OpenBLAS inside each GEMM (openblas_set_num_threads through ctypes; the default is
1, i.e. single-threaded BLAS under torch's own threads, unless given). Adam uses
torch's multi-tensor (foreach) update by default, and --channels-last 1 runs the CNN
in channels_last (NHWC) memory format: both are faster here.
Prints one line:
  RESULT system=torch case=mlp ranks=1 threads=1 blas_threads=2 batch=128 samples_per_s=... ...
"""
import argparse
import ctypes
import os
import resource
import sys
import time


def set_openblas_threads(n):
    """Sets OpenBLAS' thread count in this process; returns the library's name or None."""
    candidates = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "openblas" in line or "libblas" in line:
                    path = line.split()[-1]
                    if path not in candidates:
                        candidates.append(path)
    except OSError:
        pass
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            fn = getattr(lib, "openblas_set_num_threads", None)
            if fn is not None:
                fn(int(n))
                return os.path.basename(os.path.realpath(path))
        except OSError:
            continue
    return None


def blas_in_use():
    names = set()
    with open("/proc/self/maps") as f:
        for line in f:
            if "blas" in line or "lapack" in line:
                names.add(os.path.basename(os.path.realpath(line.split()[-1])))
    return ",".join(sorted(names)) or "none"


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--data", default="data/fashion-mnist.h5")
    p.add_argument("--batch", type=int, default=128, help="global batch")
    p.add_argument("--steps", type=int, default=200, help="timed steps")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads per process")
    p.add_argument("--blas-threads", type=int, default=1, help="OpenBLAS threads per process")
    p.add_argument("--ddp", type=int, default=1, help="processes (DistributedDataParallel, gloo)")
    p.add_argument("--epochs", type=int, default=0, help="> 0: also train this many epochs, then test accuracy")
    p.add_argument("--synthetic", action="store_true", help="random data of Fashion-MNIST's shape")
    p.add_argument("--launch-ns", type=int, default=0, help="launch time (date +%%s%%N) for the start-up figure")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--foreach", type=int, default=1, choices=[0, 1],
                   help="Adam's multi-tensor (foreach) implementation: 1 on (default; faster here), 0 off")
    p.add_argument("--channels-last", type=int, default=0, choices=[0, 1],
                   help="CNN: model and data in torch.channels_last memory format")
    p.add_argument("--port", type=int, default=29533)
    p.add_argument("--setting", default="", help="free text describing the environment, copied to the RESULT line")
    return p.parse_args()


def load(args, torch, split, rows):
    """x as stored (uint8) with its scale, y as int64: batches are converted to
    float when drawn (as train_bench.cpp does), a quarter of float32's memory."""
    if args.synthetic:
        g = torch.Generator().manual_seed(args.seed + (split == "test"))
        x = torch.randint(0, 256, (rows, 28, 28, 1), generator=g, dtype=torch.uint8)
        return x, 1.0 / 255.0, torch.randint(0, 10, (rows,), generator=g)
    import h5py
    import numpy as np
    with h5py.File(args.data, "r") as f:
        x = f[split]["x"]
        if x.dtype != np.uint8:
            raise SystemExit(f"torch_bench: {args.data} /{split}/x must be uint8, not {x.dtype}")
        scale = float(np.float32(x.attrs.get("scale", 1.0)))
        xs = x[...]
        ys = f[split]["y"][...].astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(xs)), scale, torch.from_numpy(ys)


def make_model(torch, kind):
    nn = torch.nn
    if kind == "mlp":
        m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        # NCHW inside torch; 28x28x1 -> 26x26x32 -> 13x13x32 -> 11x11x64 -> 5x5x64 = 1600.
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(mod.weight)  # Keras glorot_uniform (fan_in/fan_out of the kernel)
            nn.init.zeros_(mod.bias)
    return m


def main():
    args = parse()
    launch_ns = args.launch_ns
    if args.ddp > 1 and "RANK" not in os.environ:
        # Spawn the workers here (like torchrun, without its start-up cost).
        import subprocess
        procs = []
        for r in range(args.ddp):
            env = dict(os.environ, RANK=str(r), WORLD_SIZE=str(args.ddp), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=str(args.port))
            procs.append(subprocess.Popen([sys.executable] + sys.argv, env=env))
        sys.exit(max(p.wait() for p in procs))

    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    blas_lib = set_openblas_threads(args.blas_threads)
    torch.manual_seed(args.seed)

    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo", rank=rank, world_size=world)

    x, scale, y = load(args, torch, "train", 55000)
    if args.model == "mlp":
        x = x.reshape(-1, 784)
    else:
        x = x.permute(0, 3, 1, 2)  # NHWC file -> NCHW view
        x = x.contiguous(memory_format=torch.channels_last if args.channels_last else torch.contiguous_format)
    n = x.shape[0]
    B = args.batch
    lo, hi = rank * B // world, (rank + 1) * B // world  # this rank's rows of each global batch

    def build():
        torch.manual_seed(args.seed)
        m = make_model(torch, args.model)
        if args.channels_last and args.model == "cnn":
            m = m.to(memory_format=torch.channels_last)
        if world > 1:
            m = torch.nn.parallel.DistributedDataParallel(m)
        return m, torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7,
                                   foreach=bool(args.foreach))

    model, opt = build()

    def to_float(xb):
        xb = xb.float().mul_(scale)
        if args.channels_last and args.model == "cnn":
            xb = xb.contiguous(memory_format=torch.channels_last)
        return xb

    def epoch_batches(epoch, steps=None):
        g = torch.Generator().manual_seed(args.seed * 1000003 + epoch)
        perm = torch.randperm(n, generator=g)
        total = (n + B - 1) // B if steps is None else steps
        for s in range(total):
            idx = perm[s * B:(s + 1) * B]
            part = idx[lo * len(idx) // B:hi * len(idx) // B]
            yield to_float(x.index_select(0, part)), y.index_select(0, part), len(idx)

    def step(m, o, xb, yb, global_count):
        o.zero_grad(set_to_none=True)
        out = m(xb)
        # Sum over this rank's rows / global rows; DDP averages over ranks, so scale by world.
        loss = F.cross_entropy(out, yb, reduction="sum") * (world / global_count)
        loss.backward()
        o.step()
        return loss

    first_step_s = -1.0
    model.train()
    for xb, yb, cnt in epoch_batches(0, args.warmup):
        step(model, opt, xb, yb, cnt)
        if first_step_s < 0 and launch_ns:
            first_step_s = (time.time_ns() - launch_ns) * 1e-9
    if world > 1:
        torch.distributed.barrier()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for xb, yb, cnt in epoch_batches(1, args.steps):  # the row gather is timed, as in dtrain
        step(model, opt, xb, yb, cnt)
    if world > 1:
        torch.distributed.barrier()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rate = args.steps * B / wall

    accuracy = -1.0
    if args.epochs > 0:
        m2, o2 = build()
        m2.train()
        for e in range(args.epochs):
            for xb, yb, cnt in epoch_batches(e):
                step(m2, o2, xb, yb, cnt)
        xt, _, yt = load(args, torch, "test", 10000)
        xt = xt.reshape(-1, 784) if args.model == "mlp" else xt.permute(0, 3, 1, 2).contiguous()
        m2.eval()
        with torch.no_grad():
            net = m2.module if world > 1 else m2
            correct = sum(int((net(to_float(xt[i:i + 1000])).argmax(1) == yt[i:i + 1000]).sum())
                          for i in range(0, len(xt), 1000))
        accuracy = correct / len(xt)

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if world > 1:
        t = torch.tensor([peak_kib], dtype=torch.int64)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        peak_kib = int(t.item())
    if rank == 0:
        fields = [f"system=torch case={args.model} ranks={world} threads={args.threads}",
                  f"blas_threads={args.blas_threads} batch={B} steps={args.steps}",
                  f"samples_per_s={rate:.1f} step_ms={1e3 * wall / args.steps:.4f}",
                  f"cpu_ms_per_step={1e3 * cpu / args.steps:.4f}"]
        if args.model == "mlp":
            flops = 2.0 * B * (3.0 * (784 * 512 + 512 * 256 + 256 * 10) - 784 * 512)
            fields.append(f"gflops={flops * args.steps / wall / 1e9:.1f}")
        fields.append(f"peak_rss_mib={peak_kib / 1024:.1f}")
        if first_step_s >= 0:
            fields.append(f"first_step_s={first_step_s:.3f}")
        if accuracy >= 0:
            fields.append(f"epochs={args.epochs} test_accuracy={accuracy:.4f}")
        fields.append(f"adam_foreach={args.foreach} channels_last={args.channels_last}")
        fields.append(f"torch={torch.__version__} blas={blas_lib or blas_in_use()}")
        fields.append("data=" + ("synthetic" if args.synthetic else "fashion-mnist"))
        if args.setting:
            fields.append(f"setting={args.setting}")
        print("RESULT " + " ".join(fields), flush=True)
    if world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
