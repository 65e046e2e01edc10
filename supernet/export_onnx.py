"""Export a weight-sharing supernet to ONNX with the architecture as an input.

Works for any PyTorch supernet whose ``forward(images, arch)`` picks the
operation of each choice point with a data-dependent branch on ``arch``,
for example ``if bool(arch[i] == 3): ...``. Compiled with
``torch.jit.script``, each branch exports as an ONNX ``If`` node, and
onnxruntime runs only the branch that the architecture selects, so the
operations not chosen are never computed. Tracing would instead record only
the branch taken by the example input.

Checked with torch 1.13 (Debian's python3-torch) and onnx 1.12 at opset 17.

Example::

    from export_onnx import export_supernet
    export_supernet(model, "supernet.onnx", image_shape=(1, 28, 28),
                    arch_length=6, metadata={"space": "nb201"})
"""

from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import onnx
import torch
from onnx import numpy_helper
from torch import nn

IMAGES = "images"
ARCH = "arch"
LOGITS = "logits"


def export_supernet(
    model: nn.Module,
    path: str,
    image_shape: Sequence[int],
    arch_length: int,
    example_arch: Optional[Sequence[int]] = None,
    metadata: Optional[Dict[str, str]] = None,
    opset: int = 17,
) -> onnx.ModelProto:
    """Script, export and clean a supernet; return the saved ONNX model.

    Args:
        model: module with ``forward(images, arch) -> logits``.
        path: output file.
        image_shape: one image as (channels, height, width).
        arch_length: number of int64 entries in the architecture input.
        example_arch: architecture used for the export's example run; any
            valid one works because scripting keeps every branch.
        metadata: string pairs stored in the model's ``metadata_props``.
        opset: ONNX opset version.
    """
    model = model.eval()
    scripted = torch.jit.script(model)
    images = torch.zeros(2, *image_shape)
    if example_arch is None:
        example_arch = [0] * arch_length
    arch = torch.tensor(list(example_arch), dtype=torch.int64)
    if arch.numel() != arch_length:
        raise ValueError(
            f"example_arch has {arch.numel()} entries; expected {arch_length}"
        )
    torch.onnx.export(
        scripted,
        (images, arch),
        path,
        input_names=[IMAGES, ARCH],
        output_names=[LOGITS],
        dynamic_axes={IMAGES: {0: "batch"}, LOGITS: {0: "batch"}},
        opset_version=opset,
    )
    exported = onnx.load(path)
    with torch.no_grad():
        logits = model(images, arch)
    fix_output_dims(exported, list(logits.shape[1:]))
    remove_initializer_identities(exported)
    move_initializers_into_branches(exported)
    for key, value in (metadata or {}).items():
        entry = exported.metadata_props.add()
        entry.key = key
        entry.value = value
    onnx.checker.check_model(exported)
    onnx.save(exported, path)
    return exported


def export_subnet(
    model: nn.Module,
    path: str,
    image_shape: Sequence[int],
    arch: Sequence[int],
    opset: int = 17,
) -> onnx.ModelProto:
    """Export one fixed subnet of a supernet as a plain ONNX graph.

    Tracing with a fixed architecture records only the chosen operations,
    so the result has no ``If`` nodes and no architecture input. It takes
    ``images`` and returns ``logits`` like the supernet.
    """
    model = model.eval()
    fixed = torch.tensor(list(arch), dtype=torch.int64)

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, images):
            return self.inner(images, fixed)

    images = torch.zeros(2, *image_shape)
    torch.onnx.export(
        Fixed(),
        (images,),
        path,
        input_names=[IMAGES],
        output_names=[LOGITS],
        dynamic_axes={IMAGES: {0: "batch"}, LOGITS: {0: "batch"}},
        opset_version=opset,
    )
    exported = onnx.load(path)
    remove_initializer_identities(exported)
    onnx.checker.check_model(exported)
    onnx.save(exported, path)
    return exported


def fix_output_dims(model: onnx.ModelProto, dims: Sequence[int]) -> None:
    """Set the non-batch dimensions of the first output to fixed sizes.

    Shape inference in torch 1.13 loses the class count after scripted
    control flow and names it symbolically (``Gemmlogits_dim_1``), which a
    reader checking ``[batch, classes]`` would reject.
    """
    shape = model.graph.output[0].type.tensor_type.shape
    if len(shape.dim) != len(dims) + 1:
        raise ValueError(
            f"output {model.graph.output[0].name} has rank {len(shape.dim)}; "
            f"expected {len(dims) + 1}"
        )
    for dim, size in zip(list(shape.dim)[1:], dims):
        dim.ClearField("dim_param")
        dim.dim_value = int(size)


def remove_initializer_identities(model: onnx.ModelProto) -> int:
    """Replace Identity nodes that copy an initializer by the initializer.

    torch 1.13 merges initializers with equal values into one and emits an
    ``Identity`` node for each duplicate. Two problems follow. When an
    ``If`` branch reads such a copy, onnxruntime cannot rename the branch's
    implicit input while it removes the Identity, and it logs one warning
    per name at every session load. In traced exports the Identity nodes
    may come after their readers, which onnxruntime rejects as an invalid
    model. Pointing every reader straight at the initializer fixes both.
    Returns the number of nodes removed.
    """
    graph = model.graph
    initializers = {tensor.name for tensor in graph.initializer}
    graph_outputs = {value.name for value in graph.output}
    aliases: Dict[str, str] = {}
    kept = []
    for node in graph.node:
        if (
            node.op_type == "Identity"
            and node.input[0] in initializers
            and node.output[0] not in graph_outputs
        ):
            aliases[node.output[0]] = node.input[0]
        else:
            kept.append(node)
    if not aliases:
        return 0
    del graph.node[:]
    graph.node.extend(kept)
    _rename_inputs(graph.node, aliases)
    return len(aliases)


def move_initializers_into_branches(model: onnx.ModelProto) -> int:
    """Move each initializer read by a single subgraph into that subgraph.

    onnxruntime's CPU layout optimization (NCHWc convolutions, enabled at
    graph optimization level "all") rewrites a Conv only when its weight is
    an initializer of the Conv's own graph, not of an enclosing one. Seen
    with onnxruntime-node 1.31.1 on x86-64 and the bundled supernet, for a
    subnet of 3x3 convolutions: the supernet ran 1.36 times slower with
    the weights in the main graph than with the weights moved, and 1.05
    times slower than the subnet exported alone with the weights moved.
    Returns the number of initializers moved.
    """
    graphs: List[onnx.GraphProto] = []
    readers: Dict[str, Set[int]] = {}

    def visit(graph: onnx.GraphProto):
        index = len(graphs)
        graphs.append(graph)
        for node in graph.node:
            for name in node.input:
                readers.setdefault(name, set()).add(index)
            for subgraph in _subgraphs(node):
                visit(subgraph)

    visit(model.graph)
    kept = []
    moved = 0
    for tensor in model.graph.initializer:
        graph_indices = readers.get(tensor.name, set())
        if len(graph_indices) == 1 and 0 not in graph_indices:
            graphs[next(iter(graph_indices))].initializer.append(tensor)
            moved += 1
        else:
            kept.append(tensor)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    return moved


def _subgraphs(node: onnx.NodeProto) -> List[onnx.GraphProto]:
    found = []
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            found.append(attribute.g)
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            found.extend(attribute.graphs)
    return found


def _rename_inputs(nodes: Iterable[onnx.NodeProto], aliases: Dict[str, str]):
    # Branches of If and bodies of Loop read outer names implicitly, so the
    # renaming descends into every subgraph attribute.
    for node in nodes:
        for i, name in enumerate(node.input):
            if name in aliases:
                node.input[i] = aliases[name]
        for subgraph in _subgraphs(node):
            _rename_inputs(subgraph.node, aliases)


def load_weights_from_onnx(model: nn.Module, path: str) -> nn.Module:
    """Load a supernet's weights from its exported ONNX file.

    The export keeps each parameter as an initializer named by its
    ``state_dict`` key, in the main graph or in the branch that reads it,
    so the ONNX file alone is enough to rebuild the PyTorch model. Raises
    KeyError naming a parameter that the file lacks.
    """
    found: Dict[str, torch.Tensor] = {}
    graphs = [onnx.load(path).graph]
    while graphs:
        graph = graphs.pop()
        for tensor in graph.initializer:
            found[tensor.name] = torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for node in graph.node:
            graphs.extend(_subgraphs(node))
    state = {}
    for key in model.state_dict():
        if key not in found:
            raise KeyError(f"{path} has no initializer {key!r}")
        state[key] = found[key]
    model.load_state_dict(state)
    return model


def count_ops(model: onnx.ModelProto) -> Dict[str, int]:
    """Count node types in the main graph and in all subgraphs."""
    counts: Dict[str, int] = {}

    def visit(nodes: Iterable[onnx.NodeProto]):
        for node in nodes:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
            for subgraph in _subgraphs(node):
                visit(subgraph.node)

    visit(model.graph.node)
    return counts


def describe_io(model: onnx.ModelProto) -> Tuple[list, list]:
    """List (name, elem_type, dims) of the graph inputs and outputs."""

    def describe(values):
        out = []
        for value in values:
            tensor_type = value.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in tensor_type.shape.dim]
            out.append((value.name, tensor_type.elem_type, dims))
        return out

    return describe(model.graph.input), describe(model.graph.output)
