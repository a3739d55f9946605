"""Converters: a Django-free library that turns a staged model folder into a deployable artifact.

Each target is one small class in one module, described by a spec in targets/ (its converter's dotted
path, probe, queue rule, limits, options and built-in templates). The converter is imported on first
use, so TensorFlow and friends load only in the child process that runs them.
"""


def get_converter(key: str):
    """An instance of the converter registered under `key`; KeyError for an unknown key."""
    from conversions.converters.targets import TARGETS, load

    return load(TARGETS[key].converter)()
