from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from templates_registry.options import clean_options, schema_errors, with_defaults


class TemplateQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)

    def search(self, *, chip: str = "", framework: str = "", model_format: str = "", q: str = ""):
        qs = self
        if chip:
            qs = qs.filter(chip=chip)
        if framework:
            qs = qs.filter(framework=framework)
        if model_format:
            qs = qs.filter(model_format=model_format)
        if q:
            qs = qs.filter(
                models.Q(name_en__icontains=q)
                | models.Q(name_zh__icontains=q)
                | models.Q(slug__icontains=q)
                | models.Q(description_en__icontains=q)
                | models.Q(description_zh__icontains=q)
            )
        return qs


class ConversionTemplate(models.Model):
    """A way to convert one kind of model for one kind of chip, with its advanced options."""

    class Chip(models.TextChoices):
        ASCEND = "ascend", "Ascend"
        ARM = "arm", "ARM"
        GPU = "gpu", "GPU"

    class Framework(models.TextChoices):
        CAFFE = "caffe", "Caffe"
        TENSORFLOW = "tensorflow", "TensorFlow"
        ONNX = "onnx", "ONNX"

    class ModelFormat(models.TextChoices):
        CAFFEMODEL = "caffemodel", "caffemodel"
        FROZEN_GRAPH = "frozen_graph", "frozen_graph"
        SAVED_MODEL = "saved_model", "saved_model"
        ONNX = "onnx", "onnx"

    slug = models.SlugField(max_length=64, unique=True)
    name_en = models.CharField(_("English name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    description_en = models.TextField(_("English description"), blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    chip = models.CharField(_("chip type"), max_length=16, choices=Chip.choices)
    framework = models.CharField(_("framework"), max_length=16, choices=Framework.choices)
    model_format = models.CharField(_("model format"), max_length=16, choices=ModelFormat.choices)
    output_format = models.CharField(_("output format"), max_length=16)
    converter = models.CharField(_("converter key"), max_length=32)
    queue = models.CharField(_("queue"), max_length=32, default="cpu")
    option_schema = models.JSONField(_("option schema"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    position = models.PositiveIntegerField(default=0)
    # Limits for one conversion with this template; empty means the worker's setting
    # (CONVERSION_TIMEOUT, CONVERSION_CPU_SECONDS, CONVERSION_MEMORY_MB).
    timeout_seconds = models.PositiveIntegerField(
        _("wall-clock limit (s)"),
        null=True,
        blank=True,
        help_text=_("Empty: the worker's setting."),
    )
    cpu_seconds = models.PositiveIntegerField(
        _("CPU time limit (s)"), null=True, blank=True, help_text=_("Empty: the worker's setting.")
    )
    memory_mb = models.PositiveIntegerField(
        _("memory limit (MB)"), null=True, blank=True, help_text=_("Empty: the worker's setting.")
    )

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("conversion template")
        verbose_name_plural = _("conversion templates")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def description(self) -> str:
        zh = (get_language() or "").startswith("zh")
        return (self.description_zh if zh else self.description_en) or self.description_en

    def clean(self) -> None:
        from conversions.converters.targets import TARGETS

        self.option_schema = with_defaults(self.option_schema)
        errors = schema_errors(self.option_schema)
        if errors:
            raise ValidationError({"option_schema": errors})
        if self.converter not in TARGETS:
            known = ", ".join(sorted(TARGETS))
            raise ValidationError(
                {"converter": f"Unknown converter '{self.converter}'. Known: {known}."}
            )

    def limits(self, timeout: int, cpu_seconds: int, memory_mb: int) -> tuple[int, int, int]:
        """(wall seconds, CPU seconds, memory MB): this template's limits, the given defaults elsewhere."""
        return (
            self.timeout_seconds or timeout,
            self.cpu_seconds or cpu_seconds,
            self.memory_mb or memory_mb,
        )

    def clean_options(self, given: dict) -> tuple[dict, dict]:
        """(options with defaults applied, errors by option key) for user-given values."""
        return clean_options(self.option_schema, given)
