"""The example a newcomer can convert: a tiny MNIST-shaped CNN, and the create form's values that
try it.

`manage.py make_example` (run by `make setup`, TensorFlow in its own process) builds it once into
the data directory, `examples/mnist-cnn/`: the console's own copy, which no location of a user
names. "Try it" copies those files into the user's home, `examples/mnist-cnn/` there, through the
same location code as a task (links refused, the destination through the access check), and the
create form then points at that copy. Nothing here imports TensorFlow.
"""

import tempfile
from pathlib import Path

from django.utils.translation import gettext as _

from conversions import access, locations

FOLDER = "examples/mnist-cnn/"  # in the user's home
SHARED = "examples/mnist-cnn/"  # from the data directory's root: the copy make_example builds
MODEL = "model/mnist_cnn.pb"
CALIBRATION = "calibration_data/samples.npy"
FILES = (MODEL, CALIBRATION)
TEMPLATE = "tensorflow-frozen-graph-to-tflite"
OPTIONS = {
    "input_tensor_names": "input",
    "output_tensor_names": "Identity",
    "quantization_precision": "8bit",
}
OUTPUT = "examples/mnist-cnn-tflite/"


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def shared_folder() -> Path:
    return locations.LocalLocation(SHARED).folder


def built() -> bool:
    """Whether make_example has built the shared example."""
    return _complete(shared_folder())


def present(user) -> bool:
    """Whether `user`'s home holds the example (its model and calibration data)."""
    return _complete(access.home_folder(user, create=False) / FOLDER)


def offered(user) -> bool:
    """Whether the empty list offers `user` "Try it": the example is in their home, or can be."""
    return present(user) or built()


def provide(user) -> str:
    """Copy the shared example into `user`'s home, unless a folder is there already (it is kept
    as it is). Returns "" when the home holds the example now, else what the user can do."""
    target = locations.parse(FOLDER, user=user, need=locations.WRITE)
    if not target.is_folder():
        if not built():
            return _(
                "The example model has not been built: an administrator runs `make setup` (or "
                "`manage.py make_example`) once, then Try it copies it into your folder."
            )
        with tempfile.TemporaryDirectory(prefix="example-") as staged:
            locations.LocalLocation(SHARED).stage_into(Path(staged))
            target.publish([(Path(staged) / name, name) for name in FILES])
    if present(user):
        return ""
    return _(
        "Your folder %(folder)s is there but holds no %(model)s and %(calibration)s: rename or "
        "remove it, and Try it copies the example again."
    ) % {"folder": FOLDER, "model": MODEL, "calibration": CALIBRATION}


def initial(user) -> dict:
    """The create form's values for the example: its folder, the TFLite template, its tensors, 8bit
    (calibrated on the example's data) and an output folder that does not exist yet."""
    from conversions.views_create import fresh_output_folder

    if not present(user):
        return {}
    output = OUTPUT
    if (access.home_folder(user, create=False) / OUTPUT).exists():
        output = fresh_output_folder(OUTPUT, user) or OUTPUT
    return {
        "name": "mnist-cnn-example",
        "template": TEMPLATE,
        "input_location": FOLDER,
        "output_location": output,
        "options": OPTIONS,
    }
