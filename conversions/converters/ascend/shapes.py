"""Input shapes for ATC: the `input_shape` option's grammar and the rules every input must meet.

ATC builds a static model here: every dimension a number, at most 4-D, batch 1 (spec section 6).
"""

import re

from conversions.converters.base import ConversionError

# A graph node / tensor name as the templates accept it (no ':', ';', ',', '=' or spaces).
NAME = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
DIMS = r"[1-9][0-9]{0,8}(?:,[1-9][0-9]{0,8})*"
INPUT_SHAPE_RE = re.compile(rf"{NAME}:{DIMS}(?:;{NAME}:{DIMS})*")
MAX_RANK = 4

Dims = list[int | None] | None  # None: unknown rank; None inside: a dynamic dimension


def parse_input_shape(text: str) -> list[tuple[str, list[int]]]:
    """`a:1,3,8,8;b:1,10` -> [("a", [1, 3, 8, 8]), ("b", [1, 10])]; [] for an empty value."""
    text = (text or "").strip()
    if not text:
        return []
    if not INPUT_SHAPE_RE.fullmatch(text):
        raise ConversionError(
            f"input_shape '{text[:200]}' is not in the form name:n,h,w,c;name2:n,c,h,w with "
            "positive whole numbers (replace every '?' or -1 by a number)."
        )
    pairs = []
    for part in text.split(";"):
        name, dims = part.split(":")
        pairs.append((name, [int(d) for d in dims.split(",")]))
    names = [name for name, _ in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConversionError(f"input_shape names {', '.join(twice)} more than once.")
    return pairs


def show(dims: Dims) -> str:
    if dims is None:
        return "[unknown rank]"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def check_input_dims(name: str, dims: list[int], fix: str) -> list[str]:
    """The problems of one fully known input shape; `fix` says where the user changes it."""
    problems = []
    if len(dims) > MAX_RANK:
        problems.append(
            f"Input '{name}' has {len(dims)} dimensions {show(dims)}: ATC takes inputs of at most "
            f"{MAX_RANK} dimensions."
        )
    if any(d <= 0 for d in dims):
        problems.append(f"Input '{name}' has a dimension of 0 or less {show(dims)}: fix it {fix}.")
    elif dims and dims[0] != 1:
        problems.append(
            f"Input '{name}' has batch {dims[0]} {show(dims)}: the batch must be 1; set it to 1 {fix}."
        )
    return problems


def resolve_shapes(
    inputs: list[tuple[str, Dims]], given: list[tuple[str, list[int]]]
) -> tuple[list[tuple[str, list[int]]], list[str]]:
    """The static shape of every model input, from the model and the `input_shape` option.

    Returns (shapes, problems). A name in `given` must be a model input; a given shape must agree
    with every dimension the model fixes; a dynamic dimension the option leaves open is a problem.
    """
    problems: list[str] = []
    known = dict(inputs)
    listing = ", ".join(f"{name} {show(dims)}" for name, dims in inputs) or "none"
    for name, _ in given:
        if name not in known:
            problems.append(
                f"input_shape names '{name}', which is not an input of the model. Its inputs are: "
                f"{listing}."
            )
    chosen = dict(given)
    shapes: list[tuple[str, list[int]]] = []
    for name, dims in inputs:
        fix = "with the input_shape option"
        if name in chosen:
            final = chosen[name]
            if dims is not None and len(dims) != len(final):
                problems.append(
                    f"input_shape gives '{name}' {len(final)} dimensions but the model's input has "
                    f"{len(dims)} {show(dims)}."
                )
                continue
            fixed = [
                (a, b) for a, b in zip(dims or [], final, strict=False) if a is not None and a != b
            ]
            if fixed:
                problems.append(
                    f"input_shape gives '{name}' the shape {show(final)} but the model fixes it to "
                    f"{show(dims)}."
                )
                continue
        elif dims is None or None in dims:
            example = ",".join("1" if d is None else str(d) for d in (dims or [1, 224, 224, 3]))
            problems.append(
                f"Input '{name}' has a dynamic shape {show(dims)}: give every dimension a number "
                f"with the input_shape option, e.g. {name}:{example}."
            )
            continue
        else:
            final = list(dims)
            fix = "when exporting the model (the model fixes this shape)"
        problems.extend(check_input_dims(name, final, fix))
        shapes.append((name, final))
    return shapes, problems
