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

from conversions.converters.ascend.caffe_defaults import DEFAULTS
from conversions.converters.ascend.caffe_fields import ENUMS, MESSAGES, TOP_LEVEL_ENUMS
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
PACKAGE = "caffe"


def _field(message: str, name: str, number: int, kind: str, label: str) -> F:
    field = F(name=name, number=number)
    default = DEFAULTS.get((message, name))
    if default is not None:  # Caffe's [default = ...]: what a reader gets for an unset field
        field.default_value = str(default).lower() if isinstance(default, bool) else str(default)
    field.label = F.LABEL_REPEATED if label.startswith("*") else F.LABEL_OPTIONAL
    if label == "*p":
        field.options.packed = True
    if kind in SCALARS:
        field.type = SCALARS[kind]
    elif (message, kind) in ENUMS:
        field.type, field.type_name = F.TYPE_ENUM, f".{PACKAGE}.{message}.{kind}"
    elif tuple(kind.split(".")) in ENUMS:  # an enum of another message: "Owner.Enum"
        field.type, field.type_name = F.TYPE_ENUM, f".{PACKAGE}.{kind}"
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
