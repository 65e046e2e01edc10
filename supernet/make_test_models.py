"""Write the tiny ONNX models used by test/onnx-supernet.test.ts.

``tiny_supernet.onnx`` follows the supernet contract: ``images`` float32
[batch, 1, 28, 28] and ``arch`` int64 [6] in, ``logits`` float32
[batch, 10] out. It computes

    logits = mean(images) * w + b + log(sum(arch))

so its logits are finite for every architecture except all-none (sum 0),
which gives -inf and exercises the evaluator's non-finite check. Each other
model breaks the contract in exactly one way, named by its file.

Run with Debian's interpreter, which has python3-onnx::

    /usr/bin/python3 supernet/make_test_models.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "fixtures")


def build(
    images_name="images",
    arch_name="arch",
    logits_name="logits",
    arch_type=TensorProto.INT64,
    arch_length=6,
    image_shape=("batch", 1, 28, 28),
    extra_input=False,
):
    """Build the tiny model with the given input and output signature."""
    weight = numpy_helper.from_array(np.linspace(-1.0, 1.0, 10, dtype=np.float32).reshape(1, 10), "w")
    bias = numpy_helper.from_array(np.arange(10, dtype=np.float32) * 0.1, "b")
    nodes = [
        helper.make_node("ReduceMean", [images_name], ["pooled"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["shifted"]),
        helper.make_node("Cast", [arch_name], ["arch_float"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["arch_float"], ["arch_sum"], keepdims=1),
        helper.make_node("Log", ["arch_sum"], ["arch_log"]),
        helper.make_node("Add", ["shifted", "arch_log"], [logits_name]),
    ]
    inputs = [
        helper.make_tensor_value_info(images_name, TensorProto.FLOAT, list(image_shape)),
        helper.make_tensor_value_info(arch_name, arch_type, [arch_length]),
    ]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("temperature", TensorProto.FLOAT, [1]))
    graph = helper.make_graph(
        nodes,
        "tiny_supernet",
        inputs,
        [helper.make_tensor_value_info(logits_name, TensorProto.FLOAT, ["batch", 10])],
        initializer=[weight, bias],
    )
    # ReduceSum takes axes as an input from opset 13 on; with none given it
    # reduces all axes, which is what the model needs.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


MODELS = {
    "tiny_supernet.onnx": {},
    "wrong_input_name.onnx": {"images_name": "image"},
    "wrong_output_name.onnx": {"logits_name": "output"},
    "wrong_arch_length.onnx": {"arch_length": 5},
    "wrong_arch_dtype.onnx": {"arch_type": TensorProto.INT32},
    "wrong_image_shape.onnx": {"image_shape": ("batch", 3, 32, 32)},
    "extra_input.onnx": {"extra_input": True},
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, options in MODELS.items():
        path = os.path.join(OUT, name)
        onnx.save(build(**options), path)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
