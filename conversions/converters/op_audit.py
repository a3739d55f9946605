"""Static op-type audit of TensorFlow graphs, before anything is loaded or run.

Models are programs: TF ops can read, list, write and delete files, reach the network and call
back into Python. This walks already-parsed protobufs (never imports TensorFlow, never runs a
graph) and refuses every op type that is not on an explicit allow-list of inference ops, in the
main graph, in every library function, and in every function name an attr refers to (TF runs the
op of that name when the function is missing from the library). The allow-list covers what TF
2.21 / Keras 3 emit for CNNs, MobileNetV2, LSTM/GRU and attention models, frozen and as
SavedModels, plus common inference ops; see tests/converters/test_op_audit.py.
"""

import re

from conversions.converters.base import ConversionError

# fmt: off
ALLOWED_OPS = frozenset({
    # structure, variables (incl. TF1 initialisers) and control flow
    "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "IdentityN", "NoOp",
    "StopGradient", "PreventGradient", "Snapshot", "EnsureShape", "CheckNumerics", "Assert",
    "PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While", "StatelessWhile",
    "Case", "StatelessCase", "Enter", "Exit", "Merge", "Switch", "NextIteration", "LoopCond",
    "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "VarIsInitializedOp", "DisableCopyOnRead",
    "VariableV2", "Assign", "RandomUniform", "RandomStandardNormal", "TruncatedNormal",
    "TensorListReserve", "TensorListFromTensor", "TensorListGetItem", "TensorListSetItem",
    "TensorListStack", "TensorListLength", "TensorListElementShape",
    # convolution, pooling, normalisation
    "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2",
    "BiasAdd", "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum",
    "AvgPool", "AvgPool3D", "MaxPool", "MaxPoolV2", "MaxPool3D", "LRN",
    "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
    # activations and element-wise maths
    "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Softsign", "Sigmoid", "Tanh",
    "Softmax", "LogSoftmax", "Erf", "Erfc", "Exp", "Expm1", "Log", "Log1p", "Sqrt", "Rsqrt",
    "Square", "SquaredDifference", "Pow", "Abs", "Neg", "Sign", "Floor", "Ceil", "Round", "Rint",
    "Reciprocal", "Sin", "Cos", "Add", "AddV2", "AddN", "Sub", "Mul", "Div", "DivNoNan",
    "RealDiv", "FloorDiv", "FloorMod", "Maximum", "Minimum", "ClipByValue", "Cast",
    "IsNan", "IsFinite", "Cumsum",
    # reductions, comparisons, selection
    "Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "ArgMax", "ArgMin", "TopKV2",
    "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
    "LogicalAnd", "LogicalOr", "LogicalNot", "Select", "SelectV2", "Where",
    # shapes and layout
    "Reshape", "Shape", "ShapeN", "Size", "Rank", "Squeeze", "ExpandDims", "Transpose",
    "Slice", "StridedSlice", "Split", "SplitV", "Pack", "Unpack", "Concat", "ConcatV2",
    "Tile", "Fill", "ZerosLike", "OnesLike", "Range", "BroadcastTo", "BroadcastArgs",
    "Gather", "GatherV2", "GatherNd", "ScatterNd", "OneHot", "ReverseV2", "Pad", "PadV2",
    "MirrorPad", "SpaceToBatchND", "BatchToSpaceND", "SpaceToDepth", "DepthToSpace",
    # images, detection, quantisation
    "ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea", "CropAndResize",
    "NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5",
    "FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxVarsPerChannel",
    "QuantizeAndDequantizeV2", "QuantizeAndDequantizeV3", "QuantizeAndDequantizeV4",
})

# Known-dangerous op types: files, network, processes, Python callbacks, debug sinks. The proto
# codecs are here because their descriptor_source attr can name a file.
DANGEROUS_OPS = frozenset({
    "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "Save", "SaveV2", "SaveSlices",
    "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints", "Print", "PrintV2",
    "PyFunc", "PyFuncStateless", "EagerPyFunc", "DistributedSave", "LoadAndRemapMatrix",
    "GenerateVocabRemapping", "DecodeProtoV2", "EncodeProto",
})
_DANGEROUS_PREFIXES = ("Debug", "Rpc", "DataService", "RegisterDataset", "Save", "Restore",
                       "Print", "Write", "PyFunc", "EagerPyFunc", "InitializeTableFromTextFile")
_DANGEROUS_PARTS = ("Dataset", "Reader", "Iterator", "File", "Summary", "Checkpoint")
# fmt: on

# Only in a SavedModel: the saver's file ops (checked by path, see check_saved_model) and the
# pure string helpers that build the checkpoint file names.
SAVER_FILE_OPS = {"SaveV2": (0,), "RestoreV2": (0,), "MergeV2Checkpoints": (0, 1)}
SAVER_HELPER_OPS = frozenset({"StringJoin", "ShardedFilename", "StaticRegexFullMatch"})
_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")
_SAVER_SUFFIX = re.compile(r"^(\.part|_temp(_[0-9a-f]{32})?[/\\]part)$")
_BARE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class OpAuditError(ConversionError):
    """Refused op types; ``.ops`` maps each to where it was found (split: dangerous / unknown)."""

    def __init__(self, ops: dict[str, list[str]], what: str = "the model"):
        self.ops = ops
        self.dangerous = {op: w for op, w in ops.items() if is_dangerous(op)}
        self.unknown = {op: w for op, w in ops.items() if op not in self.dangerous}
        sentences = []
        if self.dangerous:
            sentences.append(
                f"{what} uses operations that are not allowed in a model to convert: "
                f"{_describe(self.dangerous)}. Models are programs: file, network, process and "
                "Python-callback operations are refused."
            )
        if self.unknown:
            sentences.append(
                f"{'It also' if self.dangerous else what} uses operations that are not on the "
                f"allow-list of inference operations: {_describe(self.unknown)}."
            )
        super().__init__(" ".join([*sentences, "Remove them before converting."]))


def is_dangerous(op: str) -> bool:
    """True for op types in a known file / network / process / Python-callback family."""
    parts = any(part in op for part in _DANGEROUS_PARTS)
    return op in DANGEROUS_OPS or op.startswith(_DANGEROUS_PREFIXES) or parts


def _name(ref: str) -> str:
    """The node (or function argument) an input string refers to: 'a/b:0', 'n:out:1', '^c'."""
    return ref.lstrip("^").split(":", 1)[0]


def _data_inputs(node) -> list[str]:
    return [ref for ref in node.input if not ref.startswith("^")]


def _func_refs(attr_value):
    """Every function name referenced by one AttrValue, including nested function attrs."""
    funcs = [attr_value.func] if attr_value.HasField("func") else []
    funcs += list(attr_value.list.func)
    for func in funcs:
        yield func.name
        for inner in func.attr.values():
            yield from _func_refs(inner)


class _Graph:
    """Index of one GraphDef: nodes per scope (None = main graph, else function name) and calls."""

    def __init__(self, graph_def, prefix: str = ""):
        self.prefix = prefix
        self.functions = {f.signature.name: f for f in graph_def.library.function}
        self.nodes = {None: {n.name: n for n in graph_def.node}}
        self.scopes = [(None, list(graph_def.node))]
        for name, fdef in self.functions.items():
            self.nodes[name] = {n.name: n for n in fdef.node_def}
            self.scopes.append((name, list(fdef.node_def)))
        # function name -> [(scope, node, how)]: how is "call" for an ordinary call site
        self.refs: dict[str, list] = {}
        for scope, nodes in self.scopes:
            for node in nodes:
                if node.op in self.functions:
                    self.refs.setdefault(node.op, []).append((scope, node, "call"))
                for key, value in node.attr.items():
                    how = "call" if key == "f" and node.op in _CALL_OPS else "attr"
                    for fname in _func_refs(value):
                        self.refs.setdefault(fname, []).append((scope, node, how))
        self.gradients = [grad.gradient_func for grad in graph_def.library.gradient]
        for fname in self.gradients:
            self.refs.setdefault(fname, []).append((None, None, "gradient"))

    def where(self, scope, node) -> str:
        inside = "graph" if scope is None else f"function '{scope}'"
        return f"{self.prefix}{inside} node '{node.name}'"


def _audit(graph: _Graph, saver=None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def refuse(op: str, location: str) -> None:
        found.setdefault(op, []).append(location)

    for scope, nodes in graph.scopes:
        for node in nodes:
            where = graph.where(scope, node)
            if node.op in graph.functions and not is_dangerous(node.op):
                pass  # a direct call of a library function; its body is audited on its own
            elif saver is not None and node.op in SAVER_HELPER_OPS:
                pass
            elif saver is not None and node.op in SAVER_FILE_OPS:
                inputs = _data_inputs(node)
                if not all(
                    i < len(inputs) and saver.is_path(scope, inputs[i], set())
                    for i in SAVER_FILE_OPS[node.op]
                ):
                    refuse(node.op, f"{where} whose file path is not the saver's filename input")
            elif node.op not in ALLOWED_OPS:
                refuse(node.op, where)
            for key, value in node.attr.items():
                for fname in _func_refs(value):
                    if fname not in graph.functions and fname not in ALLOWED_OPS:
                        refuse(fname, f"{where} attr '{key}'")
    for grad in graph.gradients:
        if grad not in graph.functions:
            refuse(grad, f"{graph.prefix}function library gradient '{grad}'")
    return found


class _SaverPaths:
    """Decides whether a tensor is the checkpoint path the SavedModel loader feeds in."""

    def __init__(self, graph: _Graph, filename_tensor_name: str):
        self.graph = graph
        self.filename = _name(filename_tensor_name) if filename_tensor_name else None
        self.arg_memo: dict = {}

    def _filename_ok(self) -> bool:
        node = self.graph.nodes[None].get(self.filename)
        seen = 0
        while node is not None and node.op == "PlaceholderWithDefault" and seen < 8:
            node, seen = self.graph.nodes[None].get(_name(node.input[0])), seen + 1
        if node is not None and node.op == "Placeholder":
            return True
        default = self._string(node) if seen and node is not None and node.op == "Const" else None
        return bool(default and _BARE_NAME.match(default) and default not in (".", ".."))

    @staticmethod
    def _string(node):
        if "value" not in node.attr:  # reading a missing map key would add it to the proto
            return None
        vals = node.attr["value"].tensor.string_val
        return vals[0].decode("utf-8", "replace") if len(vals) == 1 else None

    def is_path(self, scope, ref: str, seen: set) -> bool:
        name = _name(ref)
        if (scope, name) in seen or len(seen) > 64:
            return False
        seen = seen | {(scope, name)}
        if scope is None and name == self.filename:
            return self._filename_ok()
        if scope is not None:
            args = [a.name for a in self.graph.functions[scope].signature.input_arg]
            if name in args:
                return self._arg_is_path(scope, args.index(name), seen)
        node = self.graph.nodes[scope].get(name)
        inputs = _data_inputs(node) if node is not None else []
        if node is None or not inputs:
            return False
        if node.op in ("Identity", "ShardedFilename"):
            return self.is_path(scope, inputs[0], seen)
        if node.op == "Pack":
            return all(self.is_path(scope, ref, seen) for ref in inputs)
        if node.op == "StringJoin" and (
            "separator" not in node.attr or not node.attr["separator"].s
        ):
            return self.is_path(scope, inputs[0], seen) and all(
                self._is_suffix(scope, ref, 0) for ref in inputs[1:]
            )
        return False

    def _is_suffix(self, scope, ref: str, depth: int) -> bool:
        node = self.graph.nodes[scope].get(_name(ref))
        if node is None or depth > 4:
            return False
        if node.op == "Const":
            return _SAVER_SUFFIX.match(self._string(node) or "") is not None
        inputs = _data_inputs(node)
        if node.op == "Identity" and inputs:
            return self._is_suffix(scope, inputs[0], depth + 1)
        if node.op in ("Select", "SelectV2") and len(inputs) == 3:
            return all(self._is_suffix(scope, r, depth + 1) for r in inputs[1:])
        return False

    def _arg_is_path(self, fname: str, index: int, seen: set) -> bool:
        """True when every reference to `fname` is a plain call passing a path at `index`."""
        key = (fname, index)
        if key not in self.arg_memo:
            self.arg_memo[key] = False  # recursion through the call graph counts as refused
            signature = self.graph.functions[fname].signature
            plain = not any(a.number_attr or a.type_list_attr for a in signature.input_arg)
            refs = self.graph.refs.get(fname, [])
            calls = [(scope, _data_inputs(node)) for scope, node, how in refs if how == "call"]
            self.arg_memo[key] = (
                plain
                and len(calls) == len(refs) > 0
                and all(
                    index < len(ins) and self.is_path(sc, ins[index], seen) for sc, ins in calls
                )
            )
        return self.arg_memo[key]


def audit_graph_def(graph_def) -> dict[str, list[str]]:
    """Refused op types in the graph and its function library, mapped to where they occur."""
    return _audit(_Graph(graph_def))


def _describe(ops: dict[str, list[str]]) -> str:
    parts = []
    for op in sorted(ops):
        where = ops[op][:3] + ([f"and {len(ops[op]) - 3} more"] if len(ops[op]) > 3 else [])
        parts.append(f"{op} ({', '.join(where)})")
    return ", ".join(parts)


def check_graph_def(graph_def, what: str = "the model") -> None:
    """Raise OpAuditError unless every op in a (frozen) GraphDef is an allowed inference op.

    No saver ops are accepted here: a frozen graph needs none of them.
    """
    found = audit_graph_def(graph_def)
    if found:
        raise OpAuditError(found, what)


def check_saved_model(saved_model_proto, what: str = "the SavedModel") -> None:
    """Raise OpAuditError unless every meta graph of a parsed SavedModel proto passes the audit.

    The saver subgraph is the one exception to the allow-list. StringJoin, ShardedFilename and
    StaticRegexFullMatch (pure string ops) are accepted anywhere in a SavedModel. SaveV2,
    RestoreV2 and MergeV2Checkpoints are accepted only when each file-path input traces back,
    through Identity, ShardedFilename, Pack and StringJoin (of the path and a Const suffix
    ".part" or "_temp/part", possibly chosen by a Select), to the meta graph's
    ``saver_def.filename_tensor_name``, which must be a Placeholder (or a PlaceholderWithDefault
    whose default is a bare file name, as TF1 savers build it). Inside a function, the trace
    continues from a function argument to every reference of that function, each of which must
    be a PartitionedCall / StatefulPartitionedCall passing a traced path. A path that comes from
    any other Const string, or a saver function referenced any other way, is refused.
    """
    found: dict[str, list[str]] = {}
    many = len(saved_model_proto.meta_graphs) > 1
    for index, meta_graph in enumerate(saved_model_proto.meta_graphs):
        graph = _Graph(meta_graph.graph_def, f"meta graph {index}: " if many else "")
        saver = _SaverPaths(graph, meta_graph.saver_def.filename_tensor_name)
        for op, where in _audit(graph, saver).items():
            found.setdefault(op, []).extend(where)
    if found:
        raise OpAuditError(found, what)
