"""Caffe's model format as protobuf messages, built here so no caffe.proto has to be shipped or compiled.

The field names and numbers are facts of the format (a .caffemodel written by any Caffe build decodes
with them). The schema covers the network structure, weights and the parameters of the layers that
inference nets use; a field it does not know (a fork's custom layer parameter, a training-only
setting) is reported and skipped when reading text, kept as an unknown field when reading binary.

Pure protobuf: no Caffe, no TensorFlow, nothing executed.
"""

import re
from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import DecodeError

from conversions.converters.base import ConversionError

F = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "string": F.TYPE_STRING,
    "bytes": F.TYPE_BYTES,
    "bool": F.TYPE_BOOL,
    "float": F.TYPE_FLOAT,
    "double": F.TYPE_DOUBLE,
    "int32": F.TYPE_INT32,
    "uint32": F.TYPE_UINT32,
    "int64": F.TYPE_INT64,
    "uint64": F.TYPE_UINT64,
}
# Enums, each nested in the message that uses it: (message, enum) -> {value name: number}.
ENGINE = {"DEFAULT": 0, "CAFFE": 1, "CUDNN": 2}
POOL_METHOD = {"MAX": 0, "AVE": 1, "STOCHASTIC": 2}
ENUMS = {
    ("FillerParameter", "VarianceNorm"): {"FAN_IN": 0, "FAN_OUT": 1, "AVERAGE": 2},
    ("ParamSpec", "DimCheckMode"): {"STRICT": 0, "PERMISSIVE": 1},
    ("LossParameter", "NormalizationMode"): {"FULL": 0, "VALID": 1, "BATCH_SIZE": 2, "NONE": 3},
    ("ConvolutionParameter", "Engine"): ENGINE,
    ("EltwiseParameter", "EltwiseOp"): {"PROD": 0, "SUM": 1, "MAX": 2},
    ("LRNParameter", "NormRegion"): {"ACROSS_CHANNELS": 0, "WITHIN_CHANNEL": 1},
    ("LRNParameter", "Engine"): ENGINE,
    ("PoolingParameter", "PoolMethod"): POOL_METHOD,
    ("PoolingParameter", "Engine"): ENGINE,
    ("PoolingParameter", "RoundMode"): {"CEIL": 0, "FLOOR": 1},
    ("ReductionParameter", "ReductionOp"): {"SUM": 1, "ASUM": 2, "SUMSQ": 3, "MEAN": 4},
    ("ReLUParameter", "Engine"): ENGINE,
    ("SigmoidParameter", "Engine"): ENGINE,
    ("SoftmaxParameter", "Engine"): ENGINE,
    ("SPPParameter", "PoolMethod"): POOL_METHOD,
    ("SPPParameter", "Engine"): ENGINE,
    ("TanHParameter", "Engine"): ENGINE,
}
TOP_LEVEL_ENUMS = {"Phase": {"TRAIN": 0, "TEST": 1}}

# message -> [(field, number, type, label)]; label "" optional, "*" repeated, "*p" packed repeated.
# A type that is neither a scalar nor an enum of the message is another message of this schema.
_FILLER = "FillerParameter"
MESSAGES = {
    "BlobShape": [("dim", 1, "int64", "*p")],
    "BlobProto": [
        ("num", 1, "int32", ""),
        ("channels", 2, "int32", ""),
        ("height", 3, "int32", ""),
        ("width", 4, "int32", ""),
        ("data", 5, "float", "*p"),
        ("diff", 6, "float", "*p"),
        ("shape", 7, "BlobShape", ""),
        ("double_data", 8, "double", "*p"),
        ("double_diff", 9, "double", "*p"),
    ],
    "NetState": [("phase", 1, "Phase", ""), ("level", 2, "int32", ""), ("stage", 3, "string", "*")],
    "NetStateRule": [
        ("phase", 1, "Phase", ""),
        ("min_level", 2, "int32", ""),
        ("max_level", 3, "int32", ""),
        ("stage", 4, "string", "*"),
        ("not_stage", 5, "string", "*"),
    ],
    "ParamSpec": [
        ("name", 1, "string", ""),
        ("share_mode", 2, "DimCheckMode", ""),
        ("lr_mult", 3, "float", ""),
        ("decay_mult", 4, "float", ""),
    ],
    "FillerParameter": [
        ("type", 1, "string", ""),
        ("value", 2, "float", ""),
        ("min", 3, "float", ""),
        ("max", 4, "float", ""),
        ("mean", 5, "float", ""),
        ("std", 6, "float", ""),
        ("sparse", 7, "int32", ""),
        ("variance_norm", 8, "VarianceNorm", ""),
    ],
    "NetParameter": [
        ("name", 1, "string", ""),
        ("layers", 2, "V1LayerParameter", "*"),
        ("input", 3, "string", "*"),
        ("input_dim", 4, "int32", "*"),
        ("force_backward", 5, "bool", ""),
        ("state", 6, "NetState", ""),
        ("debug_info", 7, "bool", ""),
        ("input_shape", 8, "BlobShape", "*"),
        ("layer", 100, "LayerParameter", "*"),
    ],
    # Only what it takes to recognise a net in the pre-2015 format and ask for an upgrade.
    "V1LayerParameter": [
        ("bottom", 2, "string", "*"),
        ("top", 3, "string", "*"),
        ("name", 4, "string", ""),
    ],
    "TransformationParameter": [
        ("scale", 1, "float", ""),
        ("mirror", 2, "bool", ""),
        ("crop_size", 3, "uint32", ""),
        ("mean_file", 4, "string", ""),
        ("mean_value", 5, "float", "*"),
        ("force_color", 6, "bool", ""),
        ("force_gray", 7, "bool", ""),
    ],
    "LossParameter": [
        ("ignore_label", 1, "int32", ""),
        ("normalize", 2, "bool", ""),
        ("normalization", 3, "NormalizationMode", ""),
    ],
    "AccuracyParameter": [
        ("top_k", 1, "uint32", ""),
        ("axis", 2, "int32", ""),
        ("ignore_label", 3, "int32", ""),
    ],
    "ArgMaxParameter": [
        ("out_max_val", 1, "bool", ""),
        ("top_k", 2, "uint32", ""),
        ("axis", 3, "int32", ""),
    ],
    "BatchNormParameter": [
        ("use_global_stats", 1, "bool", ""),
        ("moving_average_fraction", 2, "float", ""),
        ("eps", 3, "float", ""),
    ],
    "BiasParameter": [
        ("axis", 1, "int32", ""),
        ("num_axes", 2, "int32", ""),
        ("filler", 3, _FILLER, ""),
    ],
    "ConcatParameter": [("concat_dim", 1, "uint32", ""), ("axis", 2, "int32", "")],
    "ConvolutionParameter": [
        ("num_output", 1, "uint32", ""),
        ("bias_term", 2, "bool", ""),
        ("pad", 3, "uint32", "*"),
        ("kernel_size", 4, "uint32", "*"),
        ("group", 5, "uint32", ""),
        ("stride", 6, "uint32", "*"),
        ("weight_filler", 7, _FILLER, ""),
        ("bias_filler", 8, _FILLER, ""),
        ("pad_h", 9, "uint32", ""),
        ("pad_w", 10, "uint32", ""),
        ("kernel_h", 11, "uint32", ""),
        ("kernel_w", 12, "uint32", ""),
        ("stride_h", 13, "uint32", ""),
        ("stride_w", 14, "uint32", ""),
        ("engine", 15, "Engine", ""),
        ("axis", 16, "int32", ""),
        ("force_nd_im2col", 17, "bool", ""),
        ("dilation", 18, "uint32", "*"),
    ],
    "CropParameter": [("axis", 1, "int32", ""), ("offset", 2, "uint32", "*")],
    "DataParameter": [("source", 1, "string", ""), ("batch_size", 4, "uint32", "")],
    "DropoutParameter": [("dropout_ratio", 1, "float", "")],
    "DummyDataParameter": [("data_filler", 1, _FILLER, "*"), ("shape", 6, "BlobShape", "*")],
    "EltwiseParameter": [
        ("operation", 1, "EltwiseOp", ""),
        ("coeff", 2, "float", "*"),
        ("stable_prod_grad", 3, "bool", ""),
    ],
    "ELUParameter": [("alpha", 1, "float", "")],
    "EmbedParameter": [
        ("num_output", 1, "uint32", ""),
        ("input_dim", 2, "uint32", ""),
        ("bias_term", 3, "bool", ""),
        ("weight_filler", 4, _FILLER, ""),
        ("bias_filler", 5, _FILLER, ""),
    ],
    "ExpParameter": [
        ("base", 1, "float", ""),
        ("scale", 2, "float", ""),
        ("shift", 3, "float", ""),
    ],
    "FlattenParameter": [("axis", 1, "int32", ""), ("end_axis", 2, "int32", "")],
    "HDF5DataParameter": [("source", 1, "string", ""), ("batch_size", 2, "uint32", "")],
    "HDF5OutputParameter": [("file_name", 1, "string", "")],
    "ImageDataParameter": [("source", 1, "string", ""), ("batch_size", 4, "uint32", "")],
    "InnerProductParameter": [
        ("num_output", 1, "uint32", ""),
        ("bias_term", 2, "bool", ""),
        ("weight_filler", 3, _FILLER, ""),
        ("bias_filler", 4, _FILLER, ""),
        ("axis", 5, "int32", ""),
        ("transpose", 6, "bool", ""),
    ],
    "InputParameter": [("shape", 1, "BlobShape", "*")],
    "LogParameter": [
        ("base", 1, "float", ""),
        ("scale", 2, "float", ""),
        ("shift", 3, "float", ""),
    ],
    "LRNParameter": [
        ("local_size", 1, "uint32", ""),
        ("alpha", 2, "float", ""),
        ("beta", 3, "float", ""),
        ("norm_region", 4, "NormRegion", ""),
        ("k", 5, "float", ""),
        ("engine", 6, "Engine", ""),
    ],
    "MemoryDataParameter": [
        ("batch_size", 1, "uint32", ""),
        ("channels", 2, "uint32", ""),
        ("height", 3, "uint32", ""),
        ("width", 4, "uint32", ""),
    ],
    "MVNParameter": [
        ("normalize_variance", 1, "bool", ""),
        ("across_channels", 2, "bool", ""),
        ("eps", 3, "float", ""),
    ],
    "ParameterParameter": [("shape", 1, "BlobShape", "")],
    "PoolingParameter": [
        ("pool", 1, "PoolMethod", ""),
        ("kernel_size", 2, "uint32", ""),
        ("stride", 3, "uint32", ""),
        ("pad", 4, "uint32", ""),
        ("kernel_h", 5, "uint32", ""),
        ("kernel_w", 6, "uint32", ""),
        ("stride_h", 7, "uint32", ""),
        ("stride_w", 8, "uint32", ""),
        ("pad_h", 9, "uint32", ""),
        ("pad_w", 10, "uint32", ""),
        ("engine", 11, "Engine", ""),
        ("global_pooling", 12, "bool", ""),
        ("round_mode", 13, "RoundMode", ""),
    ],
    "PowerParameter": [
        ("power", 1, "float", ""),
        ("scale", 2, "float", ""),
        ("shift", 3, "float", ""),
    ],
    "PReLUParameter": [("filler", 1, _FILLER, ""), ("channel_shared", 2, "bool", "")],
    "PythonParameter": [
        ("module", 1, "string", ""),
        ("layer", 2, "string", ""),
        ("param_str", 3, "string", ""),
        ("share_in_parallel", 4, "bool", ""),
    ],
    "ReductionParameter": [
        ("operation", 1, "ReductionOp", ""),
        ("axis", 2, "int32", ""),
        ("coeff", 3, "float", ""),
    ],
    "ReLUParameter": [("negative_slope", 1, "float", ""), ("engine", 2, "Engine", "")],
    "ReshapeParameter": [
        ("shape", 1, "BlobShape", ""),
        ("axis", 2, "int32", ""),
        ("num_axes", 3, "int32", ""),
    ],
    "ScaleParameter": [
        ("axis", 1, "int32", ""),
        ("num_axes", 2, "int32", ""),
        ("filler", 3, _FILLER, ""),
        ("bias_term", 4, "bool", ""),
        ("bias_filler", 5, _FILLER, ""),
    ],
    "SigmoidParameter": [("engine", 1, "Engine", "")],
    "SliceParameter": [
        ("slice_dim", 1, "uint32", ""),
        ("slice_point", 2, "uint32", "*"),
        ("axis", 3, "int32", ""),
    ],
    "SoftmaxParameter": [("engine", 1, "Engine", ""), ("axis", 2, "int32", "")],
    "SPPParameter": [
        ("pyramid_height", 1, "uint32", ""),
        ("pool", 2, "PoolMethod", ""),
        ("engine", 6, "Engine", ""),
    ],
    "TanHParameter": [("engine", 1, "Engine", "")],
    "ThresholdParameter": [("threshold", 1, "float", "")],
    "TileParameter": [("axis", 1, "int32", ""), ("tiles", 2, "int32", "")],
    "WindowDataParameter": [("source", 1, "string", ""), ("batch_size", 4, "uint32", "")],
}
# LayerParameter: the common fields, then one `<kind>_param` per layer family.
LAYER_PARAMS = {
    "transform": (100, "TransformationParameter"),
    "loss": (101, "LossParameter"),
    "accuracy": (102, "AccuracyParameter"),
    "argmax": (103, "ArgMaxParameter"),
    "concat": (104, "ConcatParameter"),
    "convolution": (106, "ConvolutionParameter"),
    "data": (107, "DataParameter"),
    "dropout": (108, "DropoutParameter"),
    "dummy_data": (109, "DummyDataParameter"),
    "eltwise": (110, "EltwiseParameter"),
    "exp": (111, "ExpParameter"),
    "hdf5_data": (112, "HDF5DataParameter"),
    "hdf5_output": (113, "HDF5OutputParameter"),
    "image_data": (115, "ImageDataParameter"),
    "inner_product": (117, "InnerProductParameter"),
    "lrn": (118, "LRNParameter"),
    "memory_data": (119, "MemoryDataParameter"),
    "mvn": (120, "MVNParameter"),
    "pooling": (121, "PoolingParameter"),
    "power": (122, "PowerParameter"),
    "relu": (123, "ReLUParameter"),
    "sigmoid": (124, "SigmoidParameter"),
    "softmax": (125, "SoftmaxParameter"),
    "slice": (126, "SliceParameter"),
    "tanh": (127, "TanHParameter"),
    "threshold": (128, "ThresholdParameter"),
    "window_data": (129, "WindowDataParameter"),
    "python": (130, "PythonParameter"),
    "prelu": (131, "PReLUParameter"),
    "spp": (132, "SPPParameter"),
    "reshape": (133, "ReshapeParameter"),
    "log": (134, "LogParameter"),
    "flatten": (135, "FlattenParameter"),
    "reduction": (136, "ReductionParameter"),
    "embed": (137, "EmbedParameter"),
    "tile": (138, "TileParameter"),
    "batch_norm": (139, "BatchNormParameter"),
    "elu": (140, "ELUParameter"),
    "bias": (141, "BiasParameter"),
    "scale": (142, "ScaleParameter"),
    "input": (143, "InputParameter"),
    "crop": (144, "CropParameter"),
    "parameter": (145, "ParameterParameter"),
}
MESSAGES["LayerParameter"] = [
    ("name", 1, "string", ""),
    ("type", 2, "string", ""),
    ("bottom", 3, "string", "*"),
    ("top", 4, "string", "*"),
    ("loss_weight", 5, "float", "*"),
    ("param", 6, "ParamSpec", "*"),
    ("blobs", 7, "BlobProto", "*"),
    ("include", 8, "NetStateRule", "*"),
    ("exclude", 9, "NetStateRule", "*"),
    ("phase", 10, "Phase", ""),
    ("propagate_down", 11, "bool", "*"),
    *[(f"{kind}_param", number, message, "") for kind, (number, message) in LAYER_PARAMS.items()],
]
PACKAGE = "caffe"


def _field(message: str, name: str, number: int, kind: str, label: str) -> F:
    field = F(name=name, number=number)
    field.label = F.LABEL_REPEATED if label.startswith("*") else F.LABEL_OPTIONAL
    if label == "*p":
        field.options.packed = True
    if kind in SCALARS:
        field.type = SCALARS[kind]
    elif (message, kind) in ENUMS:
        field.type, field.type_name = F.TYPE_ENUM, f".{PACKAGE}.{message}.{kind}"
    elif kind in TOP_LEVEL_ENUMS:
        field.type, field.type_name = F.TYPE_ENUM, f".{PACKAGE}.{kind}"
    else:
        field.type, field.type_name = F.TYPE_MESSAGE, f".{PACKAGE}.{kind}"
    return field


def _enum(name: str, values: dict[str, int]) -> descriptor_pb2.EnumDescriptorProto:
    enum = descriptor_pb2.EnumDescriptorProto(name=name)
    for value, number in values.items():
        enum.value.add(name=value, number=number)
    return enum


@cache
def _classes() -> dict:
    proto = descriptor_pb2.FileDescriptorProto(
        name="console_caffe_schema.proto", package=PACKAGE, syntax="proto2"
    )
    for name, values in TOP_LEVEL_ENUMS.items():
        proto.enum_type.append(_enum(name, values))
    for message, fields in MESSAGES.items():
        described = proto.message_type.add(name=message)
        for (owner, enum_name), values in ENUMS.items():
            if owner == message:
                described.enum_type.append(_enum(enum_name, values))
        described.field.extend(_field(message, *spec) for spec in fields)
    pool = descriptor_pool.DescriptorPool()  # private: never clashes with another "caffe" package
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in MESSAGES
    }


def message(name: str):
    """A new, empty message of the schema, e.g. message("NetParameter")."""
    return _classes()[name]()


_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)"')


def parse_prototxt(path: Path) -> tuple[object, list[str]]:
    """The network of a text .prototxt and warnings about fields the schema does not know."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConversionError(
            f"{path.name} is not a text file: the .prototxt is the network definition in protobuf "
            "text format (the .caffemodel holds the weights)."
        ) from None
    if not text.strip():
        raise ConversionError(f"{path.name} is empty: upload the network definition.")
    if re.search(r"^\s*layers\s*\{", text, re.MULTILINE):
        raise ConversionError(_old_format(path.name))
    net = message("NetParameter")
    try:
        text_format.Parse(text, net)
        return net, []
    except text_format.ParseError as exc:
        unknown = _UNKNOWN_FIELD.search(str(exc))
        if not unknown:
            raise ConversionError(
                f"{path.name} is not a valid Caffe network definition: {exc}."
            ) from None
    net = message("NetParameter")
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as exc:
        raise ConversionError(
            f"{path.name} is not a valid Caffe network definition: {exc}."
        ) from None
    warning = (
        f"{path.name} uses fields outside the standard Caffe schema (first: '{unknown.group(1)}'); "
        "they were skipped by the preflight and are left for ATC to judge."
    )
    return net, [warning]


def parse_caffemodel(path: Path):
    """The network and weights of a binary .caffemodel."""
    path = Path(path)
    data = path.read_bytes()
    if not data:
        raise ConversionError(f"{path.name} is empty: upload the trained weights again.")
    net = message("NetParameter")
    try:
        net.ParseFromString(data)
    except DecodeError as exc:
        raise ConversionError(
            f"{path.name} is not a valid .caffemodel: the file is truncated or corrupt ({exc}). "
            "Upload the complete file written by Caffe's snapshot or net.save()."
        ) from None
    if net.layers and not net.layer:
        raise ConversionError(_old_format(path.name))
    if not net.layer:
        raise ConversionError(
            f"{path.name} holds no layers: it is not a trained Caffe model (or it is truncated)."
        )
    return net


def _old_format(name: str) -> str:
    return (
        f"{name} uses Caffe's pre-2015 'layers' format, which ATC does not read. Upgrade it with "
        "Caffe's upgrade_net_proto_text / upgrade_net_proto_binary tools first."
    )
