"""SSD's DetectionOutput layer for ATC, which takes it only as Ascend's SSDDetectionOutput.

Ascend's "Modifying SSD Prototxt" guide: a layer of type SSDDetectionOutput with three bottoms in a
fixed order (box deltas, scores, prior boxes), two tops (the box count, then the detections) and an
ssddetectionoutput_param (LayerParameter field 232). The SSD fork's DetectionOutput already takes
its bottoms in that order (mbox_loc, mbox_conf_flatten, mbox_priorbox), so the rewrite changes the
type, adds the box-count top and maps the parameters:

    detection_output_param            ssddetectionoutput_param
    num_classes, share_location,      the same names
    background_label_id, code_type,
    variance_encoded_in_target,
    keep_top_k, confidence_threshold
    nms_param.nms_threshold           iou_threshold
    nms_param.top_k                   top_k
    nms_param.eta                     eta

The `ssd_detection_output` option chooses: `refuse` (the default: the preflight says what to
change), `rewrite` (this module rewrites the .prototxt into the work folder) or `keep` (passed
unchanged, for a CANN whose custom operators in plugin/ take DetectionOutput).
"""

from pathlib import Path

from google.protobuf import text_format

from conversions.converters.base import ConversionError

MODES = ("refuse", "rewrite", "keep")
MAPPING = (
    "detection_output_param becomes ssddetectionoutput_param: nms_param.nms_threshold -> "
    "iou_threshold, nms_param.top_k -> top_k, nms_param.eta -> eta, and num_classes, "
    "share_location, background_label_id, code_type, variance_encoded_in_target, keep_top_k, "
    "confidence_threshold by name"
)
# Fields whose Caffe meaning when unset ("no limit") ATC has no value for: its defaults apply.
ATC_DEFAULTS = {"top_k": 400, "keep_top_k": 200, "confidence_threshold": 0.01}


def mode_of(options: dict) -> str:
    mode = str(options.get("ssd_detection_output") or "refuse")
    if mode not in MODES:
        raise ConversionError(
            f"ssd_detection_output must be one of {', '.join(MODES)}, not {mode[:80]!r}."
        )
    return mode


def detection_outputs(net) -> list:
    return [layer for layer in net.layer if layer.type == "DetectionOutput"]


def refusal(layer) -> str:
    """What the operator must change for ATC, with the parameter mapping."""
    return (
        f"Layer '{layer.name}' is a DetectionOutput layer, which ATC takes only as Ascend's "
        "SSDDetectionOutput: set the option ssd_detection_output to rewrite (the console rewrites "
        "the .prototxt for ATC), or change the layer yourself as Ascend's \"Modifying SSD "
        'Prototxt" guide says: type "SSDDetectionOutput", the three bottoms in the order box '
        "deltas, scores, prior boxes, two tops (the box count, then the detections), and "
        f"{MAPPING}."
    )


def rewrite(net, skipped_fields: list[str]) -> list[str]:
    """Rewrite every DetectionOutput layer of `net` in place; return one line per layer changed.

    `skipped_fields`: warnings of fields the schema did not know when reading the .prototxt; the
    rewritten file would lose them, so the rewrite is refused instead.
    """
    layers = detection_outputs(net)
    if layers and skipped_fields:
        raise ConversionError(
            "ssd_detection_output=rewrite cannot rewrite this .prototxt without losing what the "
            f"standard schema does not know ({skipped_fields[0]}). Change the DetectionOutput "
            f"layer to SSDDetectionOutput by hand: {MAPPING}."
        )
    changes = []
    for layer in layers:
        if len(layer.bottom) != 3 or len(layer.top) != 1:
            raise ConversionError(
                f"Layer '{layer.name}' (DetectionOutput) has {len(layer.bottom)} bottoms and "
                f"{len(layer.top)} tops; SSDDetectionOutput needs three bottoms (box deltas, "
                "scores, prior boxes) and gives two tops: rewrite it by hand."
            )
        changes.append(_rewrite_layer(layer))
    return changes


def _rewrite_layer(layer) -> str:
    old = layer.detection_output_param
    nms = old.nms_param
    new = layer.ssddetectionoutput_param
    new.num_classes = old.num_classes
    new.share_location = old.share_location
    new.background_label_id = old.background_label_id
    new.iou_threshold = nms.nms_threshold
    new.eta = nms.eta
    new.variance_encoded_in_target = old.variance_encoded_in_target
    new.code_type = old.code_type
    defaulted = []
    for name, value, is_set in (
        ("top_k", nms.top_k, nms.HasField("top_k") and nms.top_k > 0),
        ("keep_top_k", old.keep_top_k, old.HasField("keep_top_k") and old.keep_top_k > 0),
        ("confidence_threshold", old.confidence_threshold, old.HasField("confidence_threshold")),
    ):
        if is_set:
            setattr(new, name, value)
        else:
            defaulted.append(f"{name} {ATC_DEFAULTS[name]}")
    layer.ClearField("detection_output_param")
    layer.type = "SSDDetectionOutput"
    detections = layer.top[0]
    del layer.top[:]
    layer.top.extend([f"{detections}_boxnum", detections])
    line = (
        f"Layer '{layer.name}' rewritten from DetectionOutput to SSDDetectionOutput for ATC: tops "
        f"{detections}_boxnum (box count) and {detections} (detections, shape [N, keep_top_k "
        f"rounded up to 128, 8]); iou_threshold {new.iou_threshold:g}, code_type "
        f"{new.code_type}, num_classes {new.num_classes}"
    )
    if defaulted:
        line += f"; unset in the .prototxt, so ATC's defaults apply: {', '.join(defaulted)}"
    return line


def write_prototxt(net, path: Path) -> Path:
    path = Path(path)
    path.write_text(text_format.MessageToString(net), encoding="utf-8")
    return path
