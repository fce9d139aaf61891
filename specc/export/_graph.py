"""Pure ONNX-graph edits used after conversion: renaming tensors, symbolic batch dims, metadata.

Everything here works on an `onnx.ModelProto` in memory and imports only `onnx` (lazily, by the
caller having it loaded). Renaming is simultaneous (a mapping applied once to every reference), so
swapping two names or renaming onto a name that an internal tensor already uses is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = [
    "all_tensor_names",
    "rename_tensors",
    "set_batch_dim",
    "set_metadata",
    "unknown_ops",
]

BATCH_DIM = "batch"


def _subgraphs(node) -> Iterable:
    from onnx import AttributeProto

    for attr in node.attribute:
        if attr.type == AttributeProto.GRAPH:
            yield attr.g
        elif attr.type == AttributeProto.GRAPHS:
            yield from attr.graphs


def _graph_names(graph, names: set[str]) -> None:
    for seq in (graph.input, graph.output, graph.value_info):
        names.update(v.name for v in seq)
    names.update(t.name for t in graph.initializer)
    names.update(t.values.name for t in graph.sparse_initializer)
    for node in graph.node:
        names.update(n for n in node.input if n)
        names.update(n for n in node.output if n)
        for sub in _subgraphs(node):
            _graph_names(sub, names)


def all_tensor_names(graph) -> set[str]:
    """Every tensor name used in `graph` and its subgraphs (Loop/If/Scan bodies)."""
    names: set[str] = set()
    _graph_names(graph, names)
    return names


def _rename_in_graph(graph, mapping: Mapping[str, str]) -> None:
    for seq in (graph.input, graph.output, graph.value_info):
        for v in seq:
            if v.name in mapping:
                v.name = mapping[v.name]
    for t in graph.initializer:
        if t.name in mapping:
            t.name = mapping[t.name]
    for node in graph.node:
        for i, n in enumerate(node.input):
            if n in mapping:
                node.input[i] = mapping[n]
        for i, n in enumerate(node.output):
            if n in mapping:
                node.output[i] = mapping[n]
        for sub in _subgraphs(node):
            _rename_in_graph(sub, mapping)


def rename_tensors(graph, mapping: Mapping[str, str]) -> None:
    """Rename tensors everywhere in `graph` (inputs, outputs, nodes, value_info, subgraphs).

    Internal tensors that already carry one of the new names (and are not themselves renamed)
    are first moved to a fresh unique name so that no two tensors end up sharing a name.
    """
    mapping = {old: new for old, new in mapping.items() if old != new}
    if not mapping:
        return
    existing = all_tensor_names(graph)
    targets = set(mapping.values())
    full = dict(mapping)
    taken = existing | targets
    for name in sorted(existing & targets):
        if name in mapping:
            continue  # it is renamed away itself
        k = 1
        while f"{name}__{k}" in taken:
            k += 1
        full[name] = f"{name}__{k}"
        taken.add(full[name])
    _rename_in_graph(graph, full)


def set_batch_dim(value_info) -> bool:
    """Make dim 0 of a graph input/output symbolic (`batch`). False when it has no dim 0."""
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return True  # unknown rank: already fully dynamic
    if len(tensor_type.shape.dim) == 0:
        return False
    dim = tensor_type.shape.dim[0]
    dim.Clear()
    dim.dim_param = BATCH_DIM
    return True


def set_metadata(model, metadata: Mapping[str, str]) -> None:
    """Replace the model's metadata_props with `metadata` (keys sorted for stable output)."""
    del model.metadata_props[:]
    for key in sorted(metadata):
        prop = model.metadata_props.add()
        prop.key = key
        prop.value = metadata[key]


def unknown_ops(model) -> list[tuple[str, str, str]]:
    """(node name, op type, domain) of standard-domain nodes whose operator ONNX does not define.

    tf2onnx leaves a TensorFlow op it cannot convert in the graph under its TF name (for example
    `Erfc`) and only logs an error; this finds such leftovers. Custom domains are not checked.
    """
    import onnx
    from onnx import defs

    opsets = {o.domain or "": o.version for o in model.opset_import}
    bad: list[tuple[str, str, str]] = []

    def visit(graph) -> None:
        for node in graph.node:
            domain = node.domain or ""
            if domain in ("", "ai.onnx", "ai.onnx.ml"):
                version = opsets.get(domain, opsets.get("", onnx.defs.onnx_opset_version()))
                try:
                    defs.get_schema(node.op_type, version, domain)
                except defs.SchemaError:
                    bad.append((node.name, node.op_type, domain))
            for sub in _subgraphs(node):
                visit(sub)

    visit(model.graph)
    return bad
