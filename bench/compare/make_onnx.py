"""Builds the ONNX twins of bench/compare's workloads with Debian's python3-onnx.

    make_onnx.py WORK

reads the weights `compare prepare` wrote under WORK and writes

  WORK/mlp/mlp.onnx    y = Softmax(MatMul(x, W) + b), x float32 [N, 784]
  WORK/conv/conv.onnx  y = Flatten(GlobalAveragePool(Relu(Conv(x, W', b)))),
                       x float32 [N, 3, 224, 224] (NCHW), W' = W transposed
                       from TensorFlow's HWIO to ONNX's OIHW, pads 1 (SAME
                       for a 3×3 kernel at stride 1); y [N, 32]

and WORK/conv/x_nchw.npy, the Conv2D input transposed to NCHW for ONNX
Runtime. Both models pass onnx.checker. The driver checks that ONNX
Runtime's outputs agree with tfd's.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def save(model, path):
    onnx.checker.check_model(model)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)


def mlp(work):
    d = os.path.join(work, "mlp")
    w = np.load(os.path.join(d, "W.npy"))
    b = np.load(os.path.join(d, "b.npy"))
    k, n = w.shape
    g = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "W"], ["mm"], name="MatMul"),
            helper.make_node("Add", ["mm", "b"], ["add"], name="add"),
            helper.make_node("Softmax", ["add"], ["output"], name="output", axis=-1),
        ],
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", k])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", n])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")],
    )
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tfd-bench-compare"),
         os.path.join(d, "mlp.onnx"))


def conv(work):
    d = os.path.join(work, "conv")
    w = np.load(os.path.join(d, "W.npy"))  # [kh, kw, cin, cout]
    b = np.load(os.path.join(d, "b.npy"))
    x = np.load(os.path.join(d, "x.npy"))  # [n, h, w, cin]
    kh, kw, cin, cout = w.shape
    _, h, wd, _ = x.shape
    if kh % 2 != 1 or kw % 2 != 1:
        sys.exit("make_onnx.py: SAME padding is written as symmetric pads, which needs an odd kernel")
    w_oihw = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
    np.save(os.path.join(d, "x_nchw.npy"), np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    g = helper.make_graph(
        [
            helper.make_node("Conv", ["input", "W", "b"], ["conv"], name="conv", kernel_shape=[kh, kw],
                             pads=[ph, pw, ph, pw], strides=[1, 1], dilations=[1, 1]),
            helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
            helper.make_node("GlobalAveragePool", ["relu"], ["pool"], name="pool"),
            helper.make_node("Flatten", ["pool"], ["output"], name="output", axis=1),
        ],
        "conv",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", cin, h, wd])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", cout])],
        initializer=[numpy_helper.from_array(w_oihw, "W"), numpy_helper.from_array(b, "b")],
    )
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tfd-bench-compare"),
         os.path.join(d, "conv.onnx"))


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: make_onnx.py WORK")
    mlp(argv[0])
    conv(argv[0])
    print(f"make_onnx.py: wrote mlp.onnx and conv.onnx (onnx {onnx.__version__}, opset {OPSET})")


if __name__ == "__main__":
    main(sys.argv[1:])
