import pytest

from conversions.converters.layout import LayoutError, check_layout


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


def test_missing_model_folder_and_empty_calibration_are_both_reported(tmp_path):
    (tmp_path / "calibration_data").mkdir()
    touch(tmp_path, "net.pb")
    found = problems(tmp_path, "arm", "frozen_graph")
    assert (
        found[0].startswith("No model/ folder")
        and "calibration_data/ holds no .npy file" in found[1]
    )


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
    touch(tmp_path, "net.prototxt", "net.caffemodel", "insert_op_conf.cfg", "plugin/op.py")
    layout = check_layout(tmp_path, "ascend", "caffemodel")
    assert (layout.model.name, layout.weights.name) == ("net.prototxt", "net.caffemodel")
    assert layout.insert_op_conf.name == "insert_op_conf.cfg" and layout.plugin.name == "plugin"


def test_a_folder_that_does_not_exist(tmp_path):
    assert "does not exist" in problems(tmp_path / "nope", "arm", "frozen_graph")[0]
