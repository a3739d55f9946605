"""Which samples calibrate and which verify: never the same ones when there is a choice.

In order of preference: verification_data/ when present; else, for a precision that calibrates,
every 5th sample of calibration_data/ is held out for verification and the rest calibrate (with fewer
than 2 samples, verification reuses the calibration data and says so); else calibration_data/ as it
is (nothing was calibrated on it); else seeded random inputs.
"""

from dataclasses import dataclass, field

from conversions.converters import calibration
from conversions.converters.verify import random_inputs

HOLD_OUT_EVERY = 5
VERIFY_LIMIT = 32  # verification samples run through both models


@dataclass
class Samples:
    calibration: list  # samples to calibrate on (lists of batch-1 arrays, one per input)
    verification: list  # samples to verify on
    source: str  # report.json's verification.source
    held_out: list[int] = field(default_factory=list)  # calibration_data indices kept for verifying


def held_out_indices(count: int) -> list[int]:
    """Every HOLD_OUT_EVERY-th sample (the 5th, 10th, ...), at least one: the last."""
    chosen = list(range(HOLD_OUT_EVERY - 1, count, HOLD_OUT_EVERY))
    return chosen or [count - 1]


def _describe(indices: list[int]) -> str:
    shown = ", ".join(f"#{i}" for i in indices[:8])
    return shown + (f" and {len(indices) - 8} more" if len(indices) > 8 else "")


def choose(
    layout,
    inputs,
    calibrates: bool,
    events,
    seed: int,
    alternative=calibration.DYNAMIC_HINT,
    precision: str = "8bit",
) -> Samples:
    """The calibration and verification samples for a conversion; logs which is which."""
    samples = calibration.samples_for(
        layout.calibration, inputs, calibrates, events, alternative, precision
    )
    if layout.verification:
        checks = calibration.load(layout.verification, inputs, limit=VERIFY_LIMIT)
        events.log(f"Verify on {len(checks)} samples of verification_data/")
        return Samples(samples, checks, "verification_data")
    if calibrates and len(samples) >= 2:
        held = held_out_indices(len(samples))
        kept = set(held)
        rest = [s for i, s in enumerate(samples) if i not in kept]
        events.log(
            f"Verify on {len(held)} of the {len(samples)} calibration samples, held out of "
            f"calibration ({_describe(held)}); calibrate on the other {len(rest)}"
        )
        source = f"held-out calibration_data ({len(held)} of {len(samples)})"
        checks = [samples[i] for i in held][:VERIFY_LIMIT]
        return Samples(rest, checks, source, held[:VERIFY_LIMIT])
    if calibrates and samples:
        events.log(
            "calibration_data/ holds a single sample: verification reuses it, so it does not show "
            "how the model does on inputs it was not calibrated on. Add more samples or "
            "verification_data/.",
            level="warning",
        )
        return Samples(samples, samples, "calibration_data (reused: fewer than 2 samples)")
    if samples:
        return Samples(samples, samples[:VERIFY_LIMIT], "calibration_data")
    return Samples([], random_inputs(inputs, seed), f"random (seed {seed})")
