import json
from importlib import import_module

import pytest

from conversions.converters.targets import builtin_templates
from templates_registry.models import ConversionTemplate
from templates_registry.options import clean_options, schema_errors

pytestmark = pytest.mark.django_db

SLUGS = [
    "caffe-to-ascend",
    "tensorflow-frozen-graph-to-tflite",
    "tensorflow-saved-model-to-tflite",
    "tensorflow-frozen-graph-to-tensorrt",
    "tensorflow-saved-model-to-tensorrt",
    "onnx-to-tensorrt",
    "caffe-to-tflite",
    "caffe-to-tensorrt",
    "caffe-to-onnx",
    "tensorflow-frozen-graph-to-ascend",
    "tf-frozengraph-to-ascend",
    "tf-savedmodel-to-ascend",
    "onnx-to-ascend-tbe",
    "tf-frozengraph-to-ascend-c32",
    "tf-savedmodel-to-ascend-c32",
    "tf-frozengraph-to-ascend-hilens",
    "tf-savedmodel-to-ascend-hilens",
]
GROUP_D = [
    "input_shape",
    "input_format",
    "out_nodes",
    "net_format",
    "fp16_high_prec",
    "output_type",
]


def keys(slug):
    return [o["key"] for o in ConversionTemplate.objects.get(slug=slug).option_schema]


def test_the_migrations_load_the_spec_templates_and_onnx_to_tensorrt_in_order():
    assert list(ConversionTemplate.objects.values_list("slug", flat=True)) == SLUGS
    assert all(t.builtin and t.enabled for t in ConversionTemplate.objects.all())


def test_every_builtin_schema_is_valid():
    for entry in builtin_templates():
        assert schema_errors(entry["options"]) == [], entry["slug"]


def test_templates_carry_the_spec_option_keys():
    assert keys("tensorflow-frozen-graph-to-tflite") == [
        "input_tensor_names",
        "output_tensor_names",
        "quantization_precision",
        "batch_size",
        "keep_float_layers",
        "accuracy_tolerance",
    ]
    assert keys("tensorflow-saved-model-to-tflite") == [
        "signature",
        "tag",
        "quantization_precision",
        "batch_size",
        "keep_float_layers",
        "accuracy_tolerance",
    ]
    assert keys("tensorflow-frozen-graph-to-ascend") == ["input_shape", "soc_version"]
    assert keys("tf-frozengraph-to-ascend") == GROUP_D + ["soc_version"]
    assert keys("tf-frozengraph-to-ascend-c32") == GROUP_D + ["enable_l2dynamic", "soc_version"]
    assert keys("caffe-to-ascend") == ["soc_version", "ssd_detection_output"]


def test_chip_framework_and_format_filters():
    assert ConversionTemplate.objects.search(chip="arm").count() == 3
    assert list(
        ConversionTemplate.objects.search(framework="caffe").values_list("slug", flat=True)
    ) == ["caffe-to-ascend", "caffe-to-tflite", "caffe-to-tensorrt", "caffe-to-onnx"]
    assert set(
        ConversionTemplate.objects.search(model_format="onnx").values_list("slug", flat=True)
    ) == {"onnx-to-ascend-tbe", "onnx-to-tensorrt"}
    assert ConversionTemplate.objects.search(q="TFLite").count() == 3


def test_options_get_defaults_and_the_spec_rules():
    schema = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite").option_schema
    options, errors = clean_options(
        schema, {"input_tensor_names": "input", "output_tensor_names": "out:0"}
    )
    assert errors == {}
    assert options == {
        "input_tensor_names": "input",
        "output_tensor_names": "out:0",
        "quantization_precision": "32bit",
        "batch_size": 1,
        "accuracy_tolerance": "1.0",
    }
    _, errors = clean_options(
        schema,
        {
            "output_tensor_names": "out$(rm)",
            "quantization_precision": "4bit",
            "batch_size": "0",
            "colour": "red",
        },
    )
    assert set(errors) == {
        "input_tensor_names",
        "output_tensor_names",
        "quantization_precision",
        "batch_size",
        "colour",
    }
    assert "required" in errors["input_tensor_names"]
    assert "$" in errors["output_tensor_names"]
    assert "Unknown option 'colour'" in errors["colour"]


def test_chinese_characters_and_question_marks_are_refused():
    schema = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-ascend").option_schema
    _, errors = clean_options(schema, {"input_shape": "输入:1,224,224,3"})
    assert "Chinese" in errors["input_shape"]
    _, errors = clean_options(schema, {"input_shape": "images:?,224,224,3"})
    assert "?" in errors["input_shape"]


def test_invalid_schemas_are_described():
    assert schema_errors({"key": "x"}) == ["The option schema must be a list of options."]
    option = dict(builtin_templates()[1]["options"][2])
    assert schema_errors([option, option]) == ["Option 'quantization_precision': appears twice."]
    broken = {**option, "default": "4bit"}
    assert "default is invalid" in schema_errors([broken])[0]
    assert (
        "pattern does not compile"
        in schema_errors([{**option, "type": "string", "choices": [], "pattern": "(["}])[0]
    )


def test_admin_lists_filters_and_refuses_an_invalid_schema(admin_client):
    response = admin_client.get("/admin/templates_registry/conversiontemplate/?chip__exact=arm")
    assert response.status_code == 200
    assert (
        b"tensorflow-frozen-graph-to-tflite" in response.content
        and b"caffe-to-ascend" not in response.content
    )
    template = ConversionTemplate.objects.get(slug="caffe-to-ascend")
    url = f"/admin/templates_registry/conversiontemplate/{template.pk}/change/"
    form = admin_form(template, [{"key": "Bad Key"}])
    response = admin_client.post(url, form)
    assert response.status_code == 200 and b"missing" in response.content
    form["option_schema"] = json.dumps(template.option_schema)
    form.pop("enabled")
    response = admin_client.post(url, form)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.enabled is False


def test_admin_disables_templates_in_bulk(admin_client):
    ids = ConversionTemplate.objects.filter(chip="gpu").values_list("pk", flat=True)
    response = admin_client.post(
        "/admin/templates_registry/conversiontemplate/",
        {"action": "disable", "_selected_action": list(ids)},
    )
    assert response.status_code == 302
    assert not ConversionTemplate.objects.filter(chip="gpu", enabled=True).exists()


GPU_OPTIONS = ["target_gpus", "engine_builder"]


def test_the_tensorrt_templates_carry_the_gpu_options():
    verified = ["accuracy_tolerance"]
    quant = ["keep_float_layers"]
    assert (
        keys("tensorflow-frozen-graph-to-tensorrt")[4:]
        == quant + GPU_OPTIONS + ["opset"] + verified
    )
    assert (
        keys("tensorflow-saved-model-to-tensorrt")[4:] == quant + GPU_OPTIONS + ["opset"] + verified
    )
    assert (
        keys("onnx-to-tensorrt")
        == ["quantization_precision", "batch_size"] + quant + GPU_OPTIONS + verified
    )
    onnx = ConversionTemplate.objects.get(slug="onnx-to-tensorrt")
    assert (onnx.chip, onnx.framework, onnx.model_format, onnx.converter, onnx.queue) == (
        "gpu",
        "onnx",
        "onnx",
        "tensorrt",
        "cpu",
    )
    options, errors = onnx.clean_options({})
    assert errors == {}
    assert options == {
        "quantization_precision": "32bit",
        "batch_size": 1,
        "target_gpus": "SM80,SM86,SM89,SM120",
        "engine_builder": "auto",
        "accuracy_tolerance": "1.0",
    }


def test_target_gpus_take_several_known_capabilities():
    schema = ConversionTemplate.objects.get(slug="onnx-to-tensorrt").option_schema
    options, errors = clean_options(schema, {"target_gpus": " SM121 ,SM75,SM75"})
    assert errors == {} and options["target_gpus"] == "SM121,SM75"
    _, errors = clean_options(
        schema, {"target_gpus": "SM90,sm86", "engine_builder": "tensorrt-llm"}
    )
    assert errors["target_gpus"] == (
        "Give one or more of SM75, SM80, SM86, SM89, SM120, SM121, separated by commas. "
        "Not one of them: SM90, sm86."
    )
    assert "Choose one of: auto, tensorrt-rtx, tensorrt." == errors["engine_builder"]
    _, errors = clean_options(schema, {"target_gpus": ",,"})
    assert errors["target_gpus"].startswith("Give one or more of")
    multichoice = next(o for o in schema if o["key"] == "target_gpus")
    assert "a choice needs at least one value" in schema_errors([{**multichoice, "choices": []}])[0]
    broken = {**multichoice, "default": "SM80,SM90"}
    assert "the default is invalid" in schema_errors([broken])[0]


def test_migration_0004_adds_onnx_to_tensorrt_and_refreshes_the_gpu_options_only():
    from django.apps import apps

    migration = import_module("templates_registry.migrations.0004_tensorrt_templates")
    ConversionTemplate.objects.filter(slug="onnx-to-tensorrt").delete()
    frozen = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tensorrt")
    frozen.option_schema = frozen.option_schema[:4]  # as migration 0002 loaded it
    frozen.enabled = False
    frozen.save()
    ascend = ConversionTemplate.objects.get(slug="caffe-to-ascend")
    ascend.option_schema, ascend.position = [], 99  # an admin's edits to another template
    ascend.save()

    migration.forward(apps, None)

    assert list(ConversionTemplate.objects.values_list("slug", flat=True)) == SLUGS
    frozen.refresh_from_db()
    assert [o["key"] for o in frozen.option_schema][4:8] == ["keep_float_layers"] + GPU_OPTIONS + [
        "opset"
    ]
    assert frozen.enabled is False
    ascend.refresh_from_db()
    assert ascend.option_schema == [] and ascend.position == 1


def test_accuracy_tolerance_takes_points_and_refuses_other_text():
    schema = ConversionTemplate.objects.get(slug="onnx-to-tensorrt").option_schema
    options, errors = clean_options(schema, {"accuracy_tolerance": "2.5"})
    assert errors == {} and options["accuracy_tolerance"] == "2.5"
    _, errors = clean_options(schema, {"accuracy_tolerance": "-1"})
    assert "accuracy_tolerance" in errors


def test_migration_0005_gives_every_verified_template_the_accuracy_tolerance():
    from django.apps import apps

    migration = import_module("templates_registry.migrations.0005_quantization_options")
    for slug in migration.VERIFIED_TEMPLATES:
        template = ConversionTemplate.objects.get(slug=slug)
        template.option_schema = template.option_schema[:-1]
        template.save()
    migration.forward(apps, None)
    for slug in migration.VERIFIED_TEMPLATES:
        assert keys(slug)[-1] == "accuracy_tolerance", slug
    assert "accuracy_tolerance" not in keys("caffe-to-ascend")


def test_migration_0006_gives_caffe_to_ascend_the_ssd_option():
    from django.apps import apps

    migration = import_module("templates_registry.migrations.0006_caffe_ssd_option")
    template = ConversionTemplate.objects.get(slug="caffe-to-ascend")
    template.option_schema = template.option_schema[:1]
    template.save()
    migration.forward(apps, None)
    schema = ConversionTemplate.objects.get(slug="caffe-to-ascend").option_schema
    options, errors = clean_options(schema, {})
    assert errors == {} and options["ssd_detection_output"] == "refuse"
    assert "ssd_detection_output" in clean_options(schema, {"ssd_detection_output": "drop"})[1]


def test_tflite_templates_offer_mixed_precision_and_layers_kept_float():
    schema = ConversionTemplate.objects.get(slug="tensorflow-saved-model-to-tflite").option_schema
    good = {
        "quantization_precision": "8bit-mixed",
        "keep_float_layers": "*block_16_*, logits/MatMul",
    }
    options, errors = clean_options(schema, good)
    assert errors == {} and options["keep_float_layers"] == "*block_16_*, logits/MatMul"
    assert clean_options(schema, {"quantization_precision": "16x8"})[1] == {}
    _, errors = clean_options(schema, {"keep_float_layers": "conv(1)"})
    assert "keep_float_layers" in errors


def test_migration_0007_adds_the_caffe_templates():
    from django.apps import apps

    migration = import_module("templates_registry.migrations.0007_caffe_templates")
    ConversionTemplate.objects.filter(slug__in=migration.CAFFE_TEMPLATES).delete()
    migration.forward(apps, None)
    assert list(ConversionTemplate.objects.values_list("slug", flat=True)) == SLUGS
    onnx = ConversionTemplate.objects.get(slug="caffe-to-onnx")
    assert (onnx.chip, onnx.output_format, onnx.converter) == ("gpu", "onnx", "onnx")
    assert onnx.option_schema == [] and clean_options(onnx.option_schema, {}) == ({}, {})
    trt = ConversionTemplate.objects.get(slug="caffe-to-tensorrt")
    assert (trt.chip, trt.model_format, trt.converter) == ("gpu", "caffemodel", "tensorrt")
    assert keys("caffe-to-tensorrt") == keys("onnx-to-tensorrt")
    assert trt.timeout_seconds == 1800 and trt.memory_mb == 6144
    tflite = ConversionTemplate.objects.get(slug="caffe-to-tflite")
    assert (tflite.chip, tflite.output_format, tflite.converter) == ("arm", "tflite", "tflite")
    assert keys("caffe-to-tflite") == [
        "quantization_precision",
        "batch_size",
        "keep_float_layers",
        "accuracy_tolerance",
    ]


def test_admin_accepts_options_without_their_optional_fields_and_shows_indented_json(
    admin_client,
):
    template = ConversionTemplate.objects.get(slug="caffe-to-ascend")
    url = f"/admin/templates_registry/conversiontemplate/{template.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "[\n  {\n    &quot;key&quot;: " in page  # indented, one field per line
    assert "芯片型号" in page  # Chinese labels as written, not \\u escapes
    short = {"key": "note", "label_en": "Note", "type": "string"}
    form = admin_form(template, [*template.option_schema, short])
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    template.refresh_from_db()
    saved = template.option_schema[-1]
    assert saved["key"] == "note" and saved["required"] is False and saved["choices"] == []
    assert schema_errors(template.option_schema) == []
    form["option_schema"] = json.dumps([{"key": "x", "label_en": "X"}])  # type is needed
    response = admin_client.post(url, form)
    assert response.status_code == 200 and "missing type" in response.content.decode()


def admin_form(template, option_schema) -> dict:
    """The admin change form of the caffe-to-ascend template, with `option_schema` typed in."""
    return {
        "slug": template.slug,
        "name_en": template.name_en,
        "name_zh": template.name_zh,
        "description_en": "d",
        "description_zh": "d",
        "chip": "ascend",
        "framework": "caffe",
        "model_format": "caffemodel",
        "output_format": "om",
        "converter": "ascend",
        "queue": "cpu",
        "position": 1,
        "enabled": "on",
        "option_schema": json.dumps(option_schema),
    }
