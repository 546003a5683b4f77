"""Run chosen matrix products of a dynamically quantised ONNX graph on float inputs.

A graph quantised by onnxruntime's quantize_dynamic rounds each product's input to 8 bits per
run (DynamicQuantizeLinear, then MatMulInteger). For the cross-encoder one pair per run, that
rounding cost answers: squad-dev validation exact F1 0.736 against 0.751 all-float
(bench/rerank_precision.py; docs/performance.md). Rewritten here, a product takes its float
input and the int8 weights dequantised, so only the activations' rounding goes; its consumers
(a Cast, then times input scale x weight scale) are left as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np


def float_products(graph: Path, pattern: str) -> tuple[bytes, int]:
    """Return the graph, serialised, with MatMulInteger nodes named like `pattern` made float,
    and how many were."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(graph))
    nodes = model.graph.node
    weights = {i.name: i for i in model.graph.initializer}
    made_by = {out: n for n in nodes for out in n.output}
    out, changed = [], 0
    for node in nodes:
        mine = node.op_type == "MatMulInteger" and re.search(pattern, node.name)
        quantise = made_by.get(node.input[0]) if mine else None  # -> x_q, x_scale, x_zero
        if (
            quantise is None
            or quantise.op_type != "DynamicQuantizeLinear"  # another scheme: left as it is
            or node.input[1] not in weights
        ):
            out.append(node)
            continue
        x, x_scale = quantise.input[0], quantise.output[1]
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        if len(node.input) > 3 and node.input[3]:
            w -= numpy_helper.to_array(weights[node.input[3]]).astype(np.float32)
        name = node.input[1] + "_float"
        model.graph.initializer.append(numpy_helper.from_array(w, name))
        # (x / x_scale) @ (w_q - w_zero) is what MatMulInteger computes, x left unrounded.
        scaled = node.output[0] + "_scaled"
        out.append(helper.make_node("Div", [x, x_scale], [scaled]))
        out.append(helper.make_node("MatMul", [scaled, name], list(node.output)))
        changed += 1
    if changed:
        del nodes[:]
        nodes.extend(out)
        used = {name for n in nodes for name in n.input}
        kept = [i for i in model.graph.initializer if i.name in used]
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept)
        del model.graph.value_info[:]  # it typed the products' outputs int32
    return model.SerializeToString(), changed
