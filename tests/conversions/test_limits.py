"""The converter child's limits: memory and wall clock end the task with a plain reason, and the worker goes on."""

import pytest

from conversions.isolation import warm_slot
from conversions.jobs import run_conversion
from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate
from tests.helpers import CNN_OPTIONS, make_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def warm(settings):
    """The limits hold for a warm child too: each task here takes one, this test process's own (as
    a worker process's tasks do), which stays for the next tests."""
    settings.WARM_CHILDREN = True
    slot = warm_slot(settings)
    slot.fill()
    return slot


def tiling_graph(path):
    """A frozen graph whose output tiles its 32x32x3 input into 8192x8192x48 floats (12 GiB)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda x: tf.identity(tf.tile(x, [1, 256, 256, 16]), name="out"))
    concrete = function.get_concrete_function(
        tf.TensorSpec([1, 32, 32, 3], tf.float32, name="input")
    )
    frozen = convert_variables_to_constants_v2(concrete)
    path.parent.mkdir(parents=True)
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return frozen.outputs[0].name.split(":")[0]


def test_a_graph_that_allocates_too_much_fails_with_the_memory_limit(
    user, alice_home, settings, warm
):
    settings.CONVERSION_MEMORY_MB = 2048
    output = tiling_graph(alice_home / "models/huge/model/huge.pb")
    task = make_task(
        user, input_location="models/huge/", options={**CNN_OPTIONS, "output_tensor_names": output}
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    assert task.status == ConversionTask.Status.FAILED
    assert task.error_message == "The conversion exceeded the 2 GB memory limit."
    assert "Converter child: warm" in (alice_home / "out/cnn/job_log.txt").read_text()


def test_a_conversion_past_its_templates_wall_clock_fails_and_the_next_one_runs(
    user, cnn_folder, settings, warm
):
    # A warm child that has just started: the job waits seconds for its imports, past the 1 s
    # (a warm fork may convert the small CNN in less).
    warm.close()
    warm.fill()
    settings.CONVERSION_TIMEOUT = 300
    slow = make_task(user, name="slow", input_location=cnn_folder, options=CNN_OPTIONS)
    ConversionTemplate.objects.filter(pk=slow.template_id).update(timeout_seconds=1)
    run_conversion(slow.pk)
    slow.refresh_from_db()
    assert (slow.status, slow.error_message) == (
        ConversionTask.Status.FAILED,
        "The conversion timed out after 1 s.",
    )
    ConversionTemplate.objects.filter(pk=slow.template_id).update(timeout_seconds=None)
    after = make_task(user, name="after", input_location=cnn_folder, options=CNN_OPTIONS)
    run_conversion(after.pk)
    after.refresh_from_db()
    assert after.status == ConversionTask.Status.SUCCEEDED, after.error_message


def test_builtin_templates_carry_their_targets_limits(builtin_templates):
    engines = ConversionTemplate.objects.filter(converter="tensorrt")
    assert engines and {(t.timeout_seconds, t.memory_mb) for t in engines} == {(1800, 6144)}
    tflite = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    assert tflite.limits(900, 3600, 4096) == (900, 3600, 4096)
