"""Targets whose converters are not part of this build yet: they fail with a plain explanation."""

from conversions.converters.base import ConversionError, Converter, Events, Job


class _Unavailable(Converter):
    what = ""

    def convert(self, job: Job, events: Events) -> dict:
        raise ConversionError(
            f"{self.what} conversion is not available in this version of the console yet."
        )


class TensorRTConverter(_Unavailable):
    key = "tensorrt"
    what = "TensorRT engine (GPU)"
