"""NumPy runners of bench/compare: plain NumPy and a tfdeploy-style evaluator.

    runner.py --peer numpy|tfdeploy --spec SPEC --threads N
              [--warmup W --reps R --budget-ms B --out DIR]

Same flags and timing protocol as the tfd runner (`compare tfd`): warm up
with at most W runs (stopping once B ms have passed), then time at most R
runs, stopping once the timed runs took B ms (at least one). Prints one JSON
line {"peer", "workload", "threads", "times_ms", "info"} and writes the
outputs of the last run as DIR/out_<k>.npy.

The BLAS thread count comes from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS,
which the driver sets before NumPy is imported; --threads is checked
against them.

numpy: the README graph as a NumPy user writes it for speed (one GEMM, then
bias, max-subtraction, exp and normalisation in place); the Conv2D workload
as im2col (a strided window view copied into a [H*W, 27] matrix) and one
GEMM, bias and ReLU in place, and a mean over the pixels.

tfdeploy: the graph evaluated op by op the way tfdeploy 0.4 does it: each
tensor asks its op for a value, each op evaluates its inputs recursively
(cached per evaluation by a fresh uuid), calls its NumPy function with the
values and its attrs and returns a tuple of outputs. The op functions are
tfdeploy's (MatMul = np.dot, Add = np.add, Softmax = exp then divide by the
sum, without subtracting the maximum). Only the README graph's ops exist.
"""

import argparse
import json
import os
import sys
import time
import uuid

import numpy as np


def parse_args(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--peer", required=True, choices=["numpy", "tfdeploy"])
    p.add_argument("--spec", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--budget-ms", type=float, default=300)
    p.add_argument("--out", default="")
    return p.parse_args(argv)


def time_runs(args, run):
    """The timing protocol shared by every runner (see the module doc)."""
    start = time.perf_counter()
    for _ in range(max(args.warmup, 1)):
        run()
        if (time.perf_counter() - start) * 1e3 >= args.budget_ms:
            break
    times = []
    total = 0.0
    while len(times) < max(args.reps, 1) and (not times or total < args.budget_ms):
        t0 = time.perf_counter()
        run()
        d = (time.perf_counter() - t0) * 1e3
        times.append(d)
        total += d
    return times


# ---- plain NumPy ----

def numpy_mlp(spec):
    w = np.load(spec["params"]["W"])
    b = np.load(spec["params"]["b"])
    x = np.load(spec["inputs"][0]["file"])

    def run():
        y = x @ w
        y += b
        y -= y.max(axis=1, keepdims=True)
        np.exp(y, out=y)
        y /= y.sum(axis=1, keepdims=True)
        return [y]

    return run


def numpy_conv(spec):
    w = np.load(spec["params"]["W"])  # [kh, kw, cin, cout]
    b = np.load(spec["params"]["b"])
    x = np.load(spec["inputs"][0]["file"])  # [n, h, wd, cin]
    kh, kw, cin, cout = w.shape
    n, h, wd, _ = x.shape
    # SAME padding, stride 1, odd kernel: pad (k-1)/2 on each side.
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    # Rows of the im2col matrix are ordered (cin, kh, kw) like the window
    # view below; reorder the weights to match.
    wm = np.ascontiguousarray(w.transpose(2, 0, 1, 3).reshape(cin * kh * kw, cout))
    windows = np.lib.stride_tricks.sliding_window_view

    def run():
        xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        cols = windows(xp, (kh, kw), axis=(1, 2)).reshape(n * h * wd, cin * kh * kw)
        y = cols @ wm
        y += b
        np.maximum(y, 0, out=y)
        return [y.reshape(n, h * wd, cout).mean(axis=1)]

    return run


# ---- tfdeploy-style evaluator ----

class Tensor:
    """A graph tensor: the value_index-th output of op, or a constant or
    placeholder value (op None)."""

    def __init__(self, name, op=None, value_index=0, value=None):
        self.name = name
        self.op = op
        self.value_index = value_index
        self.value = value
        self.last_uuid = None

    def eval(self, feed_dict=None, _uuid=None):
        if _uuid is None:
            _uuid = uuid.uuid4()
        if _uuid == self.last_uuid:
            return self.value
        self.last_uuid = _uuid
        feed_dict = feed_dict or {}
        if self in feed_dict:
            self.value = feed_dict[self]
        elif self.op is not None:
            self.value = self.op.eval(feed_dict, _uuid)[self.value_index]
        return self.value


class Operation:
    """A graph op: its input tensors, its attrs in the order its function
    takes them, and a NumPy function returning a tuple."""

    def __init__(self, name, func, inputs, kwargs):
        self.name = name
        self.func = func
        self.inputs = inputs
        self.kwargs = kwargs
        self.value = None
        self.last_uuid = None

    def eval(self, feed_dict, _uuid):
        if _uuid == self.last_uuid:
            return self.value
        self.last_uuid = _uuid
        args = [t.eval(feed_dict, _uuid) for t in self.inputs]
        args.extend(self.kwargs)
        self.value = self.func(*args)
        return self.value


def op_matmul(a, b, transpose_a, transpose_b):
    return np.dot(a if not transpose_a else np.transpose(a), b if not transpose_b else np.transpose(b)),


def op_add(a, b):
    return np.add(a, b),


def op_relu(a):
    return np.maximum(a, 0),


def op_softmax(a):
    e = np.exp(a)
    return np.divide(e, np.sum(e, axis=-1, keepdims=True)),


OPS = {
    "MatMul": (op_matmul, ["transpose_a", "transpose_b"]),
    "Add": (op_add, []),
    "AddV2": (op_add, []),
    "BiasAdd": (op_add, []),
    "Relu": (op_relu, []),
    "Softmax": (op_softmax, []),
}


def tfdeploy_model(graph_path):
    """Builds Tensor/Operation objects from the graph JSON; returns the
    tensors by name ("node:0")."""
    with open(graph_path) as f:
        nodes = json.load(f)["nodes"]
    tensors = {}

    def ref(name):
        return tensors[name if ":" in name else name + ":0"]

    for n in nodes:
        key = n["name"] + ":0"
        if n["op"] == "Placeholder":
            tensors[key] = Tensor(key)
        elif n["op"] == "Const":
            tensors[key] = Tensor(key, value=np.load(n["value"]))
        else:
            func, attrs = OPS[n["op"]]
            kwargs = [n.get("attrs", {})[a] for a in attrs]
            op = Operation(n["name"], func, [ref(i) for i in n.get("inputs", [])], kwargs)
            tensors[key] = Tensor(key, op=op)
    return tensors


def tfdeploy_mlp(spec):
    tensors = tfdeploy_model(spec["graph"])
    inp = tensors[spec["inputs"][0]["tensor"] + ":0"]
    outs = [tensors[o["tensor"] + ":0"] for o in spec["outputs"]]
    x = np.load(spec["inputs"][0]["file"])

    def run():
        # One evaluation id for all outputs, as tfdeploy's eval would use
        # per call.
        u = uuid.uuid4()
        return [t.eval({inp: x}, u) for t in outs]

    return run


def main(argv):
    args = parse_args(argv)
    with open(args.spec) as f:
        spec = json.load(f)
    env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if env is not None and int(env) != args.threads:
        sys.exit(f"runner.py: --threads {args.threads} but OPENBLAS_NUM_THREADS={env}: the driver sets both")
    builders = {
        ("numpy", "mlp"): numpy_mlp,
        ("numpy", "conv"): numpy_conv,
        ("tfdeploy", "mlp"): tfdeploy_mlp,
    }
    build = builders.get((args.peer, spec["kind"]))
    if build is None:
        sys.exit(f"runner.py: peer {args.peer} has no runner for workload kind {spec['kind']}")
    run = build(spec)
    last = []

    def once():
        last[:] = run()

    times = time_runs(args, once)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for k, v in enumerate(last):
            np.save(os.path.join(args.out, f"out_{k}.npy"), np.ascontiguousarray(v, dtype=np.float32))
    info = {"version:numpy": np.__version__, "version:python": sys.version.split()[0]}
    print(json.dumps({"peer": args.peer, "workload": spec["name"], "threads": args.threads, "times_ms": times, "info": info}))


if __name__ == "__main__":
    main(sys.argv[1:])
