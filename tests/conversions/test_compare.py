"""The compare page: two to four visible tasks side by side, differences marked, bad lists refused."""

import re

import pytest
from django.urls import reverse

from conversions.compare import CompareError, parse_ids
from conversions.models import ConversionTask
from tests.conversions.factories import make_task
from tests.conversions.test_pages import QUANTIZED, RESULT

pytestmark = pytest.mark.django_db
S = ConversionTask.Status
URL = reverse("conversions:compare")


def rows(html: str) -> dict[str, tuple[bool, list[str]]]:
    """Row label -> (highlighted, cells)."""
    found = {}
    for attrs, label, cells in re.findall(
        r'<tr( class="differs")?>\s*<th scope="row"[^>]*>([^<]+)(?:<span[^>]*>[^<]*</span>)?</th>\s*'
        r"((?:<td>[^<]*</td>)+)",
        html,
    ):
        found[label.strip()] = (bool(attrs), re.findall(r"<td>([^<]*)</td>", cells))
    return found


@pytest.fixture
def pair(user):
    float_result = {**RESULT, "timings": {"conversion_s": 1.5, "verification_s": 0.25}}
    int8_result = {**QUANTIZED, "input_model": {"size_bytes": 4000}, "timings": {"conversion_s": 9}}
    one = make_task(
        user,
        name="cnn-32bit",
        status=S.SUCCEEDED,
        result=float_result,
        options={"precision": "32bit", "input_tensor_names": "x"},
    )
    two = make_task(
        user,
        name="cnn-8bit",
        status=S.SUCCEEDED,
        result=int8_result,
        options={"precision": "8bit", "input_tensor_names": "x"},
    )
    return one, two


def test_two_tasks_side_by_side_with_the_differences_marked(client_alice, pair):
    one, two = pair
    response = client_alice.get(URL, {"ids": [one.pk, two.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(">cnn-32bit</a>") < html.index(">cnn-8bit</a>")
    found = rows(html)
    assert found["Template"][0] is False  # same template: not highlighted
    precision = next(v for k, v in found.items() if "precision" in k.lower() or "精度" in k)
    assert precision == (True, ["32bit", "8bit"])
    assert found["Input digest (SHA-256)"] == (True, ["x", "not in the report"])
    assert found["Input model size"] == (False, ["4000 bytes", "4000 bytes"])
    assert found["Conversion"] == (True, ["1.50 s", "9.00 s"])
    assert found["Verification"][1] == ["warn", "warn"]  # the verdict row
    assert found["Identity:0: cosine"] == (False, ["0.995000", "0.995000"])
    assert found["Identity:0: worst sample"] == (True, ["–", "0.971200 (#1)"])
    assert found["Identity:0: max abs error"][1] == ["0.01", "0.01"]
    assert found["Converted top-1 (%)"] == (True, ["–", "95.67"])
    assert 'class="differs"' in html


def test_the_list_posts_the_selection_and_lands_on_the_page(client_alice, pair):
    one, two = pair
    response = client_alice.post(URL, {"ids": [str(two.pk), str(one.pk)], "next": "/?q=cnn"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?ids={two.pk}&ids={one.pk}"
    response = client_alice.post(URL, {"ids": [str(one.pk)], "next": "/?q=cnn"}, follow=True)
    assert response.redirect_chain[-1][0] == "/?q=cnn"
    assert "Select two to four tasks to compare (1 selected)." in response.content.decode()


@pytest.mark.parametrize(
    "ids",
    [[], ["1"], ["1", "2", "3", "4", "5"], ["x", "2"], ["²", "1"], ["9" * 25, "1"]],
)
def test_a_bad_id_list_is_a_400_with_a_message(client_alice, ids):
    response = client_alice.get(URL, {"ids": ids})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_tasks_one_may_not_see_are_refused_like_missing_ones(client, other_user, user, pair):
    one, _two = pair
    theirs = make_task(other_user, name="theirs", status=S.SUCCEEDED)
    client.force_login(user)
    response = client.get(URL, {"ids": f"{one.pk},{theirs.pk}"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"No task {theirs.pk} among the tasks you can see" in html and "theirs" not in html


def test_staff_compare_anyones_tasks(client, staff_user, pair):
    client.force_login(staff_user)
    assert client.get(URL, {"ids": [t.pk for t in pair]}).status_code == 200


def test_parse_ids_keeps_order_and_drops_repeats():
    assert parse_ids(["3,1", "3", "2"]) == [3, 1, 2]
    with pytest.raises(CompareError):
        parse_ids(["3", "3"])


def test_the_list_offers_compare_on_the_selection(client_alice, pair):
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert f'formaction="{URL}"' in html and 'form="batch"' in html
