"""Where quantization loses accuracy, per layer, and which layers to keep in float: shared by every
8bit route (TFLite, TensorRT int8 on ONNX). No framework imports here.

A layer is named by the tensor its op writes (the names TFLite's denylisted nodes and ONNX Runtime's
nodes_to_exclude take). Its error is measured with the float op fed the quantized layer's own input,
so it is that layer's share of the loss, not the loss accumulated before it.
"""

import math
from fnmatch import fnmatchcase

import numpy as np

from conversions.converters.base import ConversionError
from conversions.converters.verify import VERDICT_ORDER, overall_verdict

METRIC = "noise/signal per channel (RMS error over RMS value, 0 exact, 1 lost), mean of channels"
MAX_LAYERS = 50  # layers listed in report.json, worst first
LOGGED_LAYERS = 5
# 8bit-mixed keeps the 1, 2, 4 ... most sensitive layers in float until verification passes, then
# narrows the last gap.
MIXED_STEPS = (1, 2, 4, 8, 16, 32)
# 8bit-mixed measures at most this many layers' effect on the output (one model each), worst first.
EFFECT_PROBES = 96


def finite(value):
    """A float for strict JSON: NaN and Inf become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def error(noise, signal) -> float | None:
    """A layer's error from per-channel sums of squared error and squared float output: the RMS error
    of each channel over that channel's RMS, capped at 1 (all noise), averaged over the channels.

    Per channel, because int8 shares one step among a tensor's channels: a few outlier channels set
    the step and the quiet channels round to nothing, which a tensor-wide figure hides. Channels
    below 1/1000 of the loudest are left out (dead ReLUs carry nothing to lose)."""
    noise, signal = np.sqrt(np.atleast_1d(noise)), np.sqrt(np.atleast_1d(signal))
    live = signal > signal.max() * 1e-3
    if not live.any():
        return None
    return finite(np.minimum(noise[live] / signal[live], 1.0).mean())


def parse_patterns(text) -> list[str]:
    """keep_float_layers as a list: comma-separated names or fnmatch patterns."""
    if isinstance(text, list | tuple):
        text = ",".join(str(part) for part in text)
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def _matches(pattern: str, name: str) -> bool:
    # A fused TFLite op is named after every TensorFlow op it absorbed, joined by ";".
    return fnmatchcase(name, pattern) or any(fnmatchcase(part, pattern) for part in name.split(";"))


def resolve(patterns: list[str], names: list[str]) -> list[str]:
    """The layer names the patterns select, in model order; a pattern that selects nothing is refused
    with some real names to choose from."""
    unmatched = [p for p in patterns if not any(_matches(p, n) for n in names)]
    if unmatched:
        examples = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise ConversionError(
            f"keep_float_layers: no quantized layer matches {', '.join(unmatched)}. Give layer names "
            f"or patterns such as 'block_16_*' (they match the whole name or any ';'-separated part "
            f"of it). The model's quantized layers include: {examples}"
        )
    return [n for n in names if any(_matches(p, n) for p in patterns)]


def ranked(layers: list[dict]) -> list[dict]:
    """Worst first; layers whose error could not be measured go last."""
    return sorted(layers, key=lambda layer: -(layer["error"] if layer["error"] is not None else -1))


def worst_cosine(rows: list[dict]) -> float | None:
    values = [finite(row.get("cosine_similarity")) for row in rows]
    values = [v for v in values if v is not None]
    return min(values) if values else None


def round_summary(kept: int, rows: list[dict]) -> dict:
    return {"kept": kept, "verdict": overall_verdict(rows), "worst_cosine": worst_cosine(rows)}


def better(a: dict, b: dict) -> bool:
    """Whether round `a` verifies better than round `b`. Only the verdict counts: of rounds with the
    same verdict the one with fewer float layers (the earlier one) is the better model."""
    return VERDICT_ORDER.index(a["verdict"]) < VERDICT_ORDER.index(b["verdict"])


def order_by_effect(order: list[str], attempt, limit: int = EFFECT_PROBES) -> list[str]:
    """`order` re-ranked by each layer's effect on the model's output: a model with only that layer
    quantized (all others float) is verified, and the layers whose lone quantization lowers the
    worst-sample cosine most come first. The first `limit` layers of `order` are measured, the rest
    keep their place after them.

    A layer's own noise (`error`) says little about the output when the network amplifies small
    changes: on MobileNetV2 the early layers lose as little as the late ones on their own but cost
    the output most, and the float set this order chooses is far smaller (README, measured)."""

    def effect(name):
        value = worst_cosine(attempt([n for n in order if n != name]))
        return value if value is not None else -1.0

    probed = order[:limit]
    scores = {name: effect(name) for name in probed}
    return sorted(probed, key=lambda name: scores[name]) + order[limit:]


def search_mixed(order: list[str], manual: list[str], attempt, events, expand=list):
    """Grow the float set along `order` (most sensitive first) until `attempt(kept)` passes.

    The set doubles (MIXED_STEPS); then the gap between the best round and the one before it is
    halved until the fewest layers that verify as well are found (at most log2 of the gap more
    rounds: 3 between 8 and 16 layers). `attempt(kept_names)` builds and verifies a model and
    returns its verification rows; `expand` adds the layers that must stay float with the chosen
    ones. Returns (best kept names, rounds)."""
    candidates = [n for n in order if n not in manual]
    rounds = []

    def run(step):
        kept = expand(manual + candidates[:step])
        summary = round_summary(len(kept), attempt(kept))
        rounds.append(summary)
        events.log(
            f"8bit-mixed round {len(rounds)}: {len(kept)} layer(s) in float -> "
            f"{summary['verdict']} (worst cosine {summary['worst_cosine']})"
        )
        return summary, kept

    steps = [0] + [s for s in MIXED_STEPS if s <= len(candidates)]
    best = best_kept = None
    below = best_step = 0  # the step before the best round, and the best round's
    for index, step in enumerate(steps):
        summary, kept = run(step)
        if best is None or better(summary, best):
            best, best_kept, best_step = summary, kept, step
            below = steps[index - 1] if index else 0
        if summary["verdict"] == "pass":
            break
    while best_step - below > 1:
        middle = (below + best_step) // 2
        summary, kept = run(middle)
        if better(best, summary):
            below = middle
        else:  # as good with fewer layers
            best, best_kept, best_step = summary, kept, middle
    return best_kept, rounds


def report(layers: list[dict], kept: list[str], shares: dict, rounds=None) -> dict:
    """The `quantization` section of the converter result (contract shared with report.json)."""
    kept_set = set(kept)
    listed = [
        {
            "name": layer["name"],
            "op": layer["op"],
            "error": finite(layer["error"]),
            "kept_float": layer["name"] in kept_set,
        }
        for layer in ranked(layers)[:MAX_LAYERS]
    ]
    section = {
        "metric": METRIC,
        "layers": listed,
        "kept_float": list(kept),
        "float_op_share": finite(shares.get("ops")),
        "float_weight_share": finite(shares.get("weights")),
    }
    if rounds is not None:
        section["rounds"] = rounds
    return section


def log_worst(layers: list[dict], events) -> None:
    worst = [layer for layer in ranked(layers)[:LOGGED_LAYERS] if layer["error"] is not None]
    if worst:
        text = "; ".join(f"{layer['name']} ({layer['op']}) {layer['error']:.3g}" for layer in worst)
        events.log(f"Layers that lose the most to quantization (noise/signal): {text}")
