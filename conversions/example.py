"""The example a newcomer can convert: a tiny MNIST-shaped CNN that `manage.py make_example` freezes
into a user's home (`examples/mnist-cnn/`), and the create form's values that try it.

Nothing here imports TensorFlow: the web process only asks whether the example is there.
"""

from conversions import access

FOLDER = "examples/mnist-cnn/"
MODEL = "model/mnist_cnn.pb"
CALIBRATION = "calibration_data/samples.npy"
TEMPLATE = "tensorflow-frozen-graph-to-tflite"
OPTIONS = {
    "input_tensor_names": "input",
    "output_tensor_names": "Identity",
    "quantization_precision": "8bit",
}
OUTPUT = "examples/mnist-cnn-tflite/"


def present(user) -> bool:
    """Whether `user`'s home holds the example (its model and calibration data)."""
    folder = access.home_folder(user, create=False) / FOLDER
    return (folder / MODEL).is_file() and (folder / CALIBRATION).is_file()


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
