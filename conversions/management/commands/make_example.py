"""`manage.py make_example`: freeze a tiny Keras CNN (28x28x1, 10 classes, seeded random weights)
into the data directory, `examples/mnist-cnn/model/mnist_cnn.pb`, with `calibration_data/` beside it:
the console's own copy, which "Try it" copies into a user's home (conversions/example.py).

`make setup` runs it. It is idempotent (an example already built is kept) and imports TensorFlow in
its own process only, never in the web process. `--username NAME` also copies it into NAME's home.
"""

import os
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from conversions import access, example, locations

SEED = 7
SAMPLES = 24


class Command(BaseCommand):
    help = (
        "Build the example model (a tiny CNN as a frozen graph, with calibration data) in the data "
        "directory, examples/mnist-cnn/, unless it is there already; every user's 'Try it' copies it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", default="", help="also copy it into this user's home (an existing user)"
        )
        parser.add_argument("--force", action="store_true", help="build it again")

    def handle(self, *args, username: str, force: bool, **options):
        folder = example.shared_folder()
        if example.built() and not force:
            self.stdout.write(f"The example model is there already: {folder}")
        else:
            build(folder)
            self.stdout.write(
                f"Example model built: {folder / example.MODEL}, with {SAMPLES} calibration "
                "samples. Every user's empty task list offers 'Try it', which copies it."
            )
        if username:
            try:
                user = access.acting_user(username)
                problem = example.provide(user)
            except (ValueError, locations.LocationError) as exc:
                raise CommandError(str(exc)) from None
            if problem:
                raise CommandError(problem)
            self.stdout.write(
                f"{username}'s home holds it: {access.home_folder(user) / example.FOLDER}"
            )


def build(folder: Path) -> None:
    """The frozen graph (input `input` [1, 28, 28, 1], output `Identity`) and its calibration
    data, written next to each other as the TFLite templates read them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    keras.utils.set_random_seed(SEED)
    inputs = keras.Input(shape=(28, 28, 1), name="input")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)

    spec = tf.TensorSpec([1, 28, 28, 1], tf.float32, name="input")
    function = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    graph = convert_variables_to_constants_v2(function).graph.as_graph_def()
    model_path = folder / example.MODEL
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(graph.SerializeToString())

    samples = np.random.default_rng(SEED).uniform(0, 1, size=(SAMPLES, 28, 28, 1))
    calibration = folder / example.CALIBRATION
    calibration.parent.mkdir(parents=True, exist_ok=True)
    np.save(calibration, samples.astype(np.float32))
