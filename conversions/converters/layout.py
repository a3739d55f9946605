"""Input folder layout rules (spec section 3.1), one clear message per violation.

Pure Python: the worker checks a staged folder before it starts a converter child, and the
converters check again before they read anything.
"""

from dataclasses import dataclass, field
from pathlib import Path

from conversions.converters.base import ConversionError


class LayoutError(ConversionError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "The input folder does not have the expected layout:\n- " + "\n- ".join(problems)
        )


@dataclass
class Layout:
    """Where the model files of a checked input folder are."""

    root: Path
    model: Path  # the .pb / .onnx / .prototxt file, or the SavedModel folder
    weights: Path | None = None  # .caffemodel
    calibration: list[Path] = field(default_factory=list)  # calibration_data/*.npy, sorted
    verification: list[Path] = field(default_factory=list)  # verification_data/*.npy, sorted
    evaluation: list[Path] = field(
        default_factory=list
    )  # evaluation_data/*.npy, labels.npy included
    insert_op_conf: Path | None = None
    plugin: Path | None = None


def _files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == suffix)


def _names(paths: list[Path], root: Path) -> str:
    return ", ".join(str(p.relative_to(root)) for p in paths)


def _exactly_one(
    folder: Path, suffix: str, root: Path, problems: list[str], what: str
) -> Path | None:
    found = _files(folder, suffix)
    where = f"{folder.relative_to(root)}/" if folder != root else "the input folder"
    if not found:
        problems.append(f"No {suffix} file in {where}: put exactly one {what} there.")
    elif len(found) > 1:
        problems.append(
            f"{len(found)} {suffix} files in {where} ({_names(found, root)}): keep exactly one {what}."
        )
    return found[0] if len(found) == 1 else None


def _check_saved_model(folder: Path, root: Path, problems: list[str]) -> None:
    where = f"{folder.relative_to(root)}/" if folder != root else ""
    if not (folder / "saved_model.pb").is_file():
        problems.append(
            f"No {where}saved_model.pb: a SavedModel folder holds saved_model.pb and variables/."
        )
    variables = folder / "variables"
    if not variables.is_dir():
        problems.append(f"No {where}variables/ folder: export the SavedModel with its variables.")
        return
    if not (variables / "variables.index").is_file():
        problems.append(f"No {where}variables/variables.index.")
    if not list(variables.glob("variables.data-*")):
        problems.append(f"No {where}variables/variables.data-* file.")


def _arrays(root: Path, name: str, problems: list[str]) -> list[Path]:
    """The .npy files of an optional data folder (calibration_data, verification_data)."""
    folder = root / name
    if not folder.exists():
        return []
    if not folder.is_dir():
        problems.append(f"{name} must be a folder of .npy files.")
        return []
    arrays = _files(folder, ".npy")
    if not arrays:
        problems.append(
            f"{name}/ holds no .npy file: add pre-processed model inputs saved with numpy.save."
        )
    return arrays


def _evaluation(root: Path, problems: list[str]) -> list[Path]:
    """evaluation_data/: labels.npy and the inputs (inputs.npy, or one <input name>.npy per input)."""
    arrays = _arrays(root, "evaluation_data", problems)
    names = {p.name for p in arrays}
    if arrays and "labels.npy" not in names:
        problems.append(
            "evaluation_data/ has no labels.npy: save the class id of every sample (integers) as "
            "labels.npy next to inputs.npy."
        )
    elif arrays and len(names) == 1:
        problems.append(
            "evaluation_data/ holds only labels.npy: add the inputs as inputs.npy (one input) or "
            "one <input name>.npy per input."
        )
    return arrays


AIPP_MAX_BYTES = 1024 * 1024


def _insert_op_conf(root: Path, problems: list[str]) -> Path | None:
    """insert_op_conf.cfg: ATC's AIPP configuration, a small text file in protobuf text format."""
    cfg = root / "insert_op_conf.cfg"
    if not cfg.exists():
        return None
    if not cfg.is_file():
        problems.append("insert_op_conf.cfg must be a file (the AIPP configuration), not a folder.")
        return None
    size = cfg.stat().st_size
    if size == 0 or size > AIPP_MAX_BYTES:
        problems.append(
            f"insert_op_conf.cfg is {'empty' if size == 0 else 'larger than 1 MB'}: it holds the "
            "AIPP configuration as text, e.g. aipp_op { aipp_mode: static input_format: RGB888_U8 }."
        )
        return None
    try:
        text = cfg.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(
            "insert_op_conf.cfg is not a text file: ATC reads it in protobuf text format."
        )
        return None
    if "aipp_op" not in text:
        problems.append(
            "insert_op_conf.cfg has no aipp_op { ... } section: ATC reads the inserted operators "
            "from aipp_op blocks."
        )
        return None
    return cfg


def _plugin(root: Path, problems: list[str]) -> Path | None:
    plugin = root / "plugin"
    if not plugin.exists():
        return None
    if not plugin.is_dir():
        problems.append("plugin must be a folder of custom operators.")
        return None
    if not any(p.is_file() for p in plugin.rglob("*")):
        problems.append(
            "plugin/ holds no files: remove it, or put the custom operator package in it."
        )
        return None
    return plugin


def _ascend_extras(root: Path, layout: Layout, problems: list[str]) -> None:
    layout.insert_op_conf = _insert_op_conf(root, problems)
    layout.plugin = _plugin(root, problems)


MODEL_FILES = {  # what a model of each format leaves in its folder
    "frozen_graph": ".pb",
    "saved_model": "saved_model.pb",
    "onnx": ".onnx",
    "caffemodel": ".prototxt",
}


def _moved_hint(folder: Path, model_format: str, *, into_model: bool) -> str:
    """A hint when the model sits where the other chips' templates want it (the usual mistake:
    ARM and GPU templates read model/, Ascend ones the top of the input folder); else ''."""
    ending = MODEL_FILES.get(model_format)
    if not ending or not folder.is_dir():
        return ""
    found = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(ending))
    if not found:
        return ""
    names = ", ".join(found[:3])
    if into_model:
        return (
            f" The input folder holds {names} at its top level, where Ascend templates read it: "
            "ARM and GPU templates read it from model/, so move it into model/."
        )
    return (
        f" model/ holds {names}, where ARM and GPU templates read it: Ascend templates read the "
        "model from the top of the input folder, so move it up one level."
    )


def check_layout(root: Path, chip: str, model_format: str) -> Layout:
    """Check `root` against the rules for `chip` and `model_format`; raise LayoutError listing every problem."""
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(
            [f"The input folder {root.name or root} does not exist or is not a folder."]
        )
    problems: list[str] = []
    layout = Layout(root=root, model=root)
    if chip in ("arm", "gpu"):
        model_dir = root / "model"
        if not model_dir.is_dir():
            problems.append(
                "No model/ folder: put the model in a folder named exactly 'model' inside the input folder."
                + _moved_hint(root, model_format, into_model=True)
            )
        elif model_format == "frozen_graph":
            layout.model = (
                _exactly_one(model_dir, ".pb", root, problems, "frozen graph") or model_dir
            )
        elif model_format == "saved_model":
            _check_saved_model(model_dir, root, problems)
            layout.model = model_dir
        elif model_format == "onnx":
            layout.model = (
                _exactly_one(model_dir, ".onnx", root, problems, "ONNX model") or model_dir
            )
        elif model_format == "caffemodel":
            layout.model = (
                _exactly_one(model_dir, ".prototxt", root, problems, "network definition")
                or model_dir
            )
            layout.weights = _exactly_one(model_dir, ".caffemodel", root, problems, "weights file")
        else:
            problems.append(f"Model format {model_format} cannot be converted for {chip}.")
        layout.calibration = _arrays(root, "calibration_data", problems)
        layout.verification = _arrays(root, "verification_data", problems)
        layout.evaluation = _evaluation(root, problems)
    elif chip == "ascend":
        if model_format == "caffemodel":
            layout.model = (
                _exactly_one(root, ".prototxt", root, problems, "network definition") or root
            )
            layout.weights = _exactly_one(root, ".caffemodel", root, problems, "weights file")
        elif model_format == "frozen_graph":
            layout.model = _exactly_one(root, ".pb", root, problems, "frozen graph") or root
        elif model_format == "saved_model":
            _check_saved_model(root, root, problems)
        elif model_format == "onnx":
            layout.model = _exactly_one(root, ".onnx", root, problems, "ONNX model") or root
        else:
            problems.append(f"Model format {model_format} cannot be converted for Ascend.")
        if problems:
            hint = _moved_hint(root / "model", model_format, into_model=False)
            if hint:
                problems[-1] += hint
        _ascend_extras(root, layout, problems)
    else:
        problems.append(f"Unknown chip type {chip}.")
    if problems:
        raise LayoutError(problems)
    return layout
