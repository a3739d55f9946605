"""Quantization options beyond the spec's precision list (issue 13), kept apart from
catalogue_options.py so that file stays small."""

from templates_registry.catalogue_options import MAX_OPTION_LENGTH, _option

# Layer names as TFLite writes them ("model/conv/Relu;model/conv/BiasAdd") or fnmatch patterns with
# "*" and "[...]", joined by ",". "?" is left out: the spec forbids it in option values (3060).
KEEP_FLOAT_PATTERN = r"[A-Za-z0-9_.;:/*\[\]!-]+(?: *, *[A-Za-z0-9_.;:/*\[\]!-]+)*"


def keep_float_layers():
    return _option(
        "keep_float_layers",
        "Layers Kept in Float",
        "保留浮点的层",
        "string",
        help_en=(
            "With 8bit or 8bit-mixed: layers to leave in float, as comma-separated names or patterns "
            "with * (e.g. *block_16_*,*logits*). The report of an 8bit conversion lists the layers that "
            "lose the most to quantization under these names."
        ),
        help_zh=(
            "8bit 或 8bit-mixed 时保留为浮点计算的层：以逗号分隔的层名或含 * 的模式（如 "
            "*block_16_*,*logits*）。8bit 转换报告按这些名称列出量化损失最大的层。"
        ),
        pattern=KEEP_FLOAT_PATTERN,
        max_length=MAX_OPTION_LENGTH,
    )
