import pytest

from conversions.converters.layout import LayoutError, check_layout
from tests.ascendkit import AIPP


def touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def problems(root, chip, model_format):
    with pytest.raises(LayoutError) as info:
        check_layout(root, chip, model_format)
    return info.value.problems


def test_an_arm_frozen_graph_folder_with_calibration_data(tmp_path):
    touch(tmp_path, "model/net.pb", "calibration_data/b.npy", "calibration_data/a.npy")
    layout = check_layout(tmp_path, "arm", "frozen_graph")
    assert layout.model == tmp_path / "model/net.pb"
    assert [p.name for p in layout.calibration] == ["a.npy", "b.npy"]


def test_calibration_data_is_optional(tmp_path):
    touch(tmp_path, "model/net.pb")
    assert check_layout(tmp_path, "gpu", "frozen_graph").calibration == []


@pytest.mark.parametrize("chip,model_format", [("arm", "saved_model"), ("gpu", "onnx")])
def test_verification_and_evaluation_folders_are_allowed_beside_the_model(
    tmp_path, chip, model_format
):
    model = {
        "saved_model": ["model/saved_model.pb", "model/variables/variables.index"]
        + ["model/variables/variables.data-00000-of-00001"],
        "onnx": ["model/net.onnx"],
    }[model_format]
    touch(tmp_path, *model, "verification_data/v.npy", "evaluation_data/inputs.npy")
    touch(tmp_path, "evaluation_data/labels.npy")
    layout = check_layout(tmp_path, chip, model_format)
    assert [p.name for p in layout.verification] == ["v.npy"]
    assert [p.name for p in layout.evaluation] == ["inputs.npy", "labels.npy"]


def test_evaluation_data_needs_labels_and_inputs(tmp_path):
    touch(tmp_path, "model/net.pb", "evaluation_data/inputs.npy")
    (tmp_path / "verification_data").mkdir()
    assert problems(tmp_path, "arm", "frozen_graph") == [
        "verification_data/ holds no .npy file: add pre-processed model inputs saved with numpy.save.",
        "evaluation_data/ has no labels.npy: save the class id of every sample (integers) as "
        "labels.npy next to inputs.npy.",
    ]
    (tmp_path / "evaluation_data/inputs.npy").rename(tmp_path / "evaluation_data/labels.npy")
    (tmp_path / "verification_data").rmdir()
    assert "evaluation_data/ holds only labels.npy" in problems(tmp_path, "arm", "frozen_graph")[0]


def test_missing_model_folder_and_empty_calibration_are_both_reported(tmp_path):
    (tmp_path / "calibration_data").mkdir()
    touch(tmp_path, "net.pb")
    found = problems(tmp_path, "arm", "frozen_graph")
    assert (
        found[0].startswith("No model/ folder")
        and "calibration_data/ holds no .npy file" in found[1]
    )


def test_a_model_in_the_other_chips_place_is_named_with_where_to_move_it(tmp_path):
    touch(tmp_path, "model/net.pb")
    [problem] = problems(tmp_path, "ascend", "frozen_graph")
    assert problem.startswith("No .pb file in the input folder")
    assert "model/ holds net.pb" in problem and "Ascend templates read the model from the top" in (
        problem
    )
    arm = tmp_path / "arm"
    touch(arm, "net.pb")
    [problem] = problems(arm, "arm", "frozen_graph")
    assert "holds net.pb at its top level" in problem and "move it into model/" in problem
    saved = tmp_path / "saved"
    touch(saved, "model/saved_model.pb", "model/variables/variables.index")
    assert "model/ holds saved_model.pb" in " ".join(problems(saved, "ascend", "saved_model"))


def test_two_or_no_pb_files(tmp_path):
    touch(tmp_path, "model/a.pb", "model/b.pb")
    assert problems(tmp_path, "arm", "frozen_graph") == [
        "2 .pb files in model/ (model/a.pb, model/b.pb): keep exactly one frozen graph."
    ]
    (tmp_path / "model/a.pb").unlink()
    (tmp_path / "model/b.pb").unlink()
    assert problems(tmp_path, "arm", "frozen_graph") == [
        "No .pb file in model/: put exactly one frozen graph there."
    ]


def test_a_saved_model_needs_its_variables(tmp_path):
    touch(tmp_path, "model/saved_model.pb", "model/variables/variables.index")
    assert problems(tmp_path, "arm", "saved_model") == ["No model/variables/variables.data-* file."]
    touch(tmp_path, "model/variables/variables.data-00000-of-00001")
    assert check_layout(tmp_path, "arm", "saved_model").model == tmp_path / "model"


def test_ascend_caffe_with_aipp_config_and_plugins(tmp_path):
    touch(tmp_path, "net.prototxt", "net.caffemodel", "plugin/op.py")
    (tmp_path / "insert_op_conf.cfg").write_text(AIPP)
    layout = check_layout(tmp_path, "ascend", "caffemodel")
    assert (layout.model.name, layout.weights.name) == ("net.prototxt", "net.caffemodel")
    assert layout.insert_op_conf.name == "insert_op_conf.cfg" and layout.plugin.name == "plugin"


def test_a_folder_that_does_not_exist(tmp_path):
    assert "does not exist" in problems(tmp_path / "nope", "arm", "frozen_graph")[0]


@pytest.mark.parametrize(
    "model_format, files, expected",
    [
        (
            "caffemodel",
            ["net.prototxt"],
            ["No .caffemodel file in the input folder: put exactly one weights file there."],
        ),
        (
            "caffemodel",
            ["a.prototxt", "b.prototxt", "net.caffemodel"],
            [
                "2 .prototxt files in the input folder (a.prototxt, b.prototxt): keep exactly one network definition."
            ],
        ),
        ("onnx", [], ["No .onnx file in the input folder: put exactly one ONNX model there."]),
        (
            "frozen_graph",
            ["model/net.pb"],  # issue 14: says where the model is and where Ascend wants it
            [
                "No .pb file in the input folder: put exactly one frozen graph there. model/ holds "
                "net.pb, where ARM and GPU templates read it: Ascend templates read the model from "
                "the top of the input folder, so move it up one level."
            ],
        ),
        (
            "saved_model",
            ["saved_model.pb"],
            ["No variables/ folder: export the SavedModel with its variables."],
        ),
    ],
)
def test_ascend_model_files(tmp_path, model_format, files, expected):
    touch(tmp_path, *files)
    assert problems(tmp_path, "ascend", model_format) == expected


def test_an_ascend_onnx_folder(tmp_path):
    touch(tmp_path, "resnet.onnx")
    layout = check_layout(tmp_path, "ascend", "onnx")
    assert (
        layout.model.name == "resnet.onnx"
        and layout.insert_op_conf is None
        and layout.plugin is None
    )


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "insert_op_conf.cfg is empty"),
        (b"\xff\xfe\x00garbage", "insert_op_conf.cfg is not a text file"),
        (b"input_format: RGB888_U8", "insert_op_conf.cfg has no aipp_op { ... } section"),
        (b"x" * (1024 * 1024 + 1), "insert_op_conf.cfg is larger than 1 MB"),
    ],
)
def test_a_bad_aipp_config_is_refused(tmp_path, content, expected):
    touch(tmp_path, "net.pb")
    (tmp_path / "insert_op_conf.cfg").write_bytes(content)
    assert problems(tmp_path, "ascend", "frozen_graph")[0].startswith(expected)


def test_aipp_config_and_plugin_must_have_the_right_kind(tmp_path):
    touch(tmp_path, "net.onnx", "insert_op_conf.cfg/x", "plugin")
    assert problems(tmp_path, "ascend", "onnx") == [
        "insert_op_conf.cfg must be a file (the AIPP configuration), not a folder.",
        "plugin must be a folder of custom operators.",
    ]


def test_an_empty_plugin_folder_is_refused(tmp_path):
    touch(tmp_path, "net.onnx")
    (tmp_path / "plugin" / "vendors").mkdir(parents=True)
    assert problems(tmp_path, "ascend", "onnx") == [
        "plugin/ holds no files: remove it, or put the custom operator package in it."
    ]


def test_a_gpu_caffe_folder(tmp_path):
    touch(tmp_path, "model/net.prototxt", "model/net.caffemodel", "calibration_data/a.npy")
    layout = check_layout(tmp_path, "gpu", "caffemodel")
    assert (layout.model.name, layout.weights.name) == ("net.prototxt", "net.caffemodel")
    assert [p.name for p in layout.calibration] == ["a.npy"]
    touch(tmp_path, "model/other.caffemodel")
    assert problems(tmp_path, "gpu", "caffemodel") == [
        "2 .caffemodel files in model/ (model/net.caffemodel, model/other.caffemodel): keep "
        "exactly one weights file."
    ]
