"""Preflight of a Caffe model for ATC: the .prototxt and .caffemodel read with our own schema.

ATC takes the structure and the types from the .prototxt and looks the weights up by layer name in
the .caffemodel; the preflight judges the pair the same way. Everything ATC would refuse late (or a
Caffe runtime would do that we do not want) is refused here with one message that lists every
problem: layers that import code or write files, a network with no input or an input ATC cannot
take, shapes Caffe refuses, weights that are missing, cut short, or of the wrong count or shape
(caffe_shapes infers the shapes, caffe_weights says what each layer needs), SSD's DetectionOutput
unless rewritten (caffe_ssd). Differences ATC ignores (training layers left in the weights file,
another net name, a type that differs where the weights fit) are said in one warning.
"""

from dataclasses import dataclass, field
from math import prod
from pathlib import Path

from conversions.converters.ascend import caffe_ssd
from conversions.converters.ascend.caffe_schema import parse_caffemodel, parse_prototxt
from conversions.converters.ascend.caffe_shapes import infer_shapes
from conversions.converters.ascend.caffe_weights import blob_problems, expected_blobs
from conversions.converters.ascend.shapes import check_input_dims
from conversions.converters.base import ConversionError

# Layers a deploy net must not hold: Python imports and runs code, HDF5Output writes files, the data
# layers read training data from disk (a deploy .prototxt declares its inputs instead).
REFUSED_LAYERS = {
    "Python": "it imports and runs Python code",
    "HDF5Output": "it writes files",
}
DATA_LAYERS = {"Data", "ImageData", "HDF5Data", "WindowData", "AnnotatedData", "MemoryData"}


class CaffeError(ConversionError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The Caffe model cannot be converted:\n- " + "\n- ".join(problems))


@dataclass
class CaffeNet:
    """What the preflight learned about a Caffe model."""

    inputs: list[tuple[str, list[int]]]
    outputs: list[str]
    layers: int
    weighted_layers: int
    warnings: list[str] = field(default_factory=list)
    rewritten: object = None  # the NetParameter ATC must read instead of the .prototxt, if any
    changes: list[str] = field(default_factory=list)  # what the rewrite changed, one line each


def check_caffe(prototxt: Path, caffemodel: Path, ssd: str = "refuse") -> CaffeNet:
    """Read both files and check them together; raise CaffeError listing every problem.

    `ssd` is the ssd_detection_output option: what to do with SSD's DetectionOutput (caffe_ssd).
    """
    net, warnings = parse_prototxt(prototxt)
    weights = parse_caffemodel(caffemodel)
    problems: list[str] = []
    if not net.layer:
        raise CaffeError([f"{Path(prototxt).name} defines no layers."])
    _check_layer_types(net, problems)
    changes = _detection_outputs(net, ssd, warnings, problems)
    inputs = _inputs(net, problems)
    _check_wiring(net, [name for name, _ in inputs], problems, warnings)
    shapes, shape_problems = infer_shapes(net, dict(inputs))
    problems.extend(shape_problems)
    weighted = _check_weights(
        net, weights, shapes, Path(prototxt).name, Path(caffemodel).name, problems, warnings
    )
    for name, dims in inputs:
        problems.extend(check_input_dims(name, dims, fix="in the .prototxt's input shape"))
    if problems:
        raise CaffeError(problems)
    rewritten = net if changes else None
    return CaffeNet(inputs, _outputs(net), len(net.layer), weighted, warnings, rewritten, changes)


def _detection_outputs(net, ssd: str, warnings: list[str], problems: list[str]) -> list[str]:
    """SSD's DetectionOutput: refused with what to change, rewritten for ATC, or kept."""
    layers = caffe_ssd.detection_outputs(net)
    if not layers:
        return []
    if ssd == "rewrite":
        return caffe_ssd.rewrite(net, list(warnings))  # so far only the parser's: skipped fields
    if ssd == "keep":
        warnings.append(
            f"DetectionOutput layer '{layers[0].name}' is passed to ATC unchanged "
            "(ssd_detection_output=keep): ATC takes it only with a custom operator for it in plugin/."
        )
        return []
    problems.extend(caffe_ssd.refusal(layer) for layer in layers)
    return []


def _check_layer_types(net, problems: list[str]) -> None:
    for layer in net.layer:
        if layer.type in REFUSED_LAYERS:
            problems.append(
                f"Layer '{layer.name}' is a {layer.type} layer, which is not allowed: "
                f"{REFUSED_LAYERS[layer.type]}. Remove it from the network."
            )
        elif layer.type in DATA_LAYERS:
            problems.append(
                f"Layer '{layer.name}' is a {layer.type} layer that reads training data: convert the "
                "deploy .prototxt, which declares its inputs with an Input layer instead."
            )
        elif not layer.type:
            problems.append(f"Layer '{layer.name or '(unnamed)'}' has no type.")
    names = [layer.name for layer in net.layer]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.append(
            f"Layer names must be unique; these appear more than once: {', '.join(duplicates)}."
        )


def _inputs(net, problems: list[str]) -> list[tuple[str, list[int]]]:
    """Declared inputs: the legacy input/input_shape/input_dim fields and Input layers."""
    inputs: list[tuple[str, list[int]]] = []
    if net.input:
        if net.input_shape:
            if len(net.input_shape) != len(net.input):
                problems.append(
                    f"The network declares {len(net.input)} inputs but {len(net.input_shape)} "
                    "input_shape entries: give one shape per input."
                )
            shapes = [list(shape.dim) for shape in net.input_shape]
        elif net.input_dim:
            if len(net.input_dim) != 4 * len(net.input):
                problems.append(
                    f"The network declares {len(net.input)} inputs but {len(net.input_dim)} "
                    "input_dim values: give four (N, C, H, W) per input."
                )
            dims = list(net.input_dim)
            shapes = [dims[i : i + 4] for i in range(0, len(dims), 4)]
        else:
            shapes = []
        for index, name in enumerate(net.input):
            inputs.append((name, shapes[index] if index < len(shapes) else []))
    for layer in net.layer:
        if layer.type != "Input":
            continue
        shapes = [list(shape.dim) for shape in layer.input_param.shape]
        for index, top in enumerate(layer.top):
            shape = (
                shapes[index] if index < len(shapes) else (shapes[0] if len(shapes) == 1 else [])
            )
            inputs.append((top, shape))
    if not inputs:
        problems.append(
            'The network declares no input: add an Input layer, e.g. layer { name: "data" '
            'type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } } }.'
        )
    for name, shape in inputs:
        if not shape:
            problems.append(
                f"Input '{name}' has no shape: give its dimensions (N, C, H, W) in the .prototxt."
            )
    return [(name, shape) for name, shape in inputs if shape]


def _check_wiring(net, inputs: list[str], problems: list[str], warnings: list[str]) -> None:
    """Every bottom is an input or an earlier layer's top."""
    available = set(inputs)
    for layer in net.layer:
        for bottom in layer.bottom:
            if bottom not in available:
                problems.append(
                    f"Layer '{layer.name}' reads blob '{bottom}', which no input or earlier layer "
                    "produces: the input is missing or the layers are out of order."
                )
                available.add(bottom)  # report each missing blob once
        in_place = set(layer.top) & set(layer.bottom)
        if layer.type != "Input" and layer.top and not in_place and layer.top[0] != layer.name:
            warnings.append(
                f"Layer '{layer.name}' writes blob '{layer.top[0]}': older Ascend toolchains want a "
                "layer's top to carry its name (except in-place layers)."
            )
        available.update(layer.top)


def _check_weights(net, weights, shapes, text_name, model_name, problems, warnings) -> int:
    """Every layer of the .prototxt with weights finds complete blobs of the right count and shapes
    under its name in the .caffemodel; differences ATC ignores are said in one warning."""
    trained = {layer.name: layer for layer in weights.layer}
    folded = {name.lower(): name for name in trained}
    weighted, no_entry, retyped = 0, 0, []
    for entry in shapes:
        layer = entry.layer
        needs = bool(expected_blobs(layer, entry.inputs))
        match = trained.get(layer.name)
        if not needs:
            if match is None:
                no_entry += 1
            elif match.type and match.type != layer.type:
                retyped.append(f"'{layer.name}' ({layer.type} here, {match.type} there)")
            continue
        weighted += 1
        other = folded.get(layer.name.lower())
        if match is None and other is not None:
            problems.append(
                f"Layer '{layer.name}' of {text_name} is called '{other}' in {model_name}: "
                "names must match exactly, including case."
            )
            continue
        if match is None or not match.blobs:
            problems.append(
                f"Layer '{layer.name}' ({layer.type}) has no weights in {model_name}: the two "
                "files do not belong to the same network."
            )
            continue
        cut = [
            f"Weight blob {index} of layer '{layer.name}' in {model_name} {problem}: the "
            "file is truncated or corrupt."
            for index, blob in enumerate(match.blobs)
            if (problem := _blob_problem(blob))
        ]
        found = cut or blob_problems(layer, entry.inputs, match.blobs, model_name)
        problems.extend(found)
        if not found and match.type and match.type != layer.type:
            retyped.append(f"'{layer.name}' ({layer.type} here, {match.type} there; weights fit)")
    used = {layer.name.lower() for layer in net.layer}
    extra = [name for name in trained if name.lower() not in used]
    accepted = []
    if weights.name and net.name and weights.name != net.name:
        accepted.append(f"net name '{weights.name}' (not '{net.name}')")
    if extra:
        more = f" and {len(extra) - 8} more" if len(extra) > 8 else ""
        accepted.append(
            f"{len(extra)} layers only in the weights file ({', '.join(extra[:8])}{more})"
        )
    if retyped:
        accepted.append("layer types that differ where it does not matter: " + ", ".join(retyped))
    if no_entry:
        accepted.append(f"no entry for {no_entry} layers without weights")
    if accepted:
        warnings.append(
            f"{model_name} differs from {text_name} in ways ATC ignores (it takes the structure "
            f"from the .prototxt and the weights by layer name): {'; '.join(accepted)}."
        )
    return weighted


def _blob_problem(blob) -> str:
    dims = (
        list(blob.shape.dim)
        if blob.HasField("shape")
        else [d for d in (blob.num, blob.channels, blob.height, blob.width) if d]
    )
    count = len(blob.data) or len(blob.double_data)
    expected = prod(dims) if dims else 0
    if expected and count != expected:
        return f"holds {count} values for shape {dims} ({expected} expected)"
    if not expected and not count:
        return "is empty"
    return ""


def _outputs(net) -> list[str]:
    """Blobs no other layer reads (in-place layers do not count): what the model returns."""
    consumed = {b for layer in net.layer for b in layer.bottom if b not in layer.top}
    outputs: list[str] = []
    for layer in net.layer:
        for top in layer.top:
            if top not in consumed and top not in outputs:
                outputs.append(top)
    return outputs
