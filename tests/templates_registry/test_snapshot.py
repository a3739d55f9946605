"""The built-in catalogue, as the database holds it, stays equal to a committed JSON snapshot.

The snapshot was written from the catalogue before it became a declarative table (issue 17): every
built-in template's slug, position, fields, limits and option schema. Run with SNAPSHOT_WRITE=1 to
write it again after a deliberate change to the catalogue, and review the diff.
"""

import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from templates_registry.models import ConversionTemplate

pytestmark = pytest.mark.django_db

SNAPSHOT = Path(__file__).parent / "fixtures" / "builtin_templates.json"
FIELDS = [
    f.name
    for f in ConversionTemplate._meta.get_fields()
    if f.concrete and f.name not in ("id", "enabled")
]


def dump() -> list[dict]:
    return [
        {field: getattr(template, field) for field in FIELDS}
        for template in ConversionTemplate.objects.filter(builtin=True).order_by("position")
    ]


def test_the_migrated_catalogue_equals_the_snapshot():
    if os.environ.get("SNAPSHOT_WRITE"):
        SNAPSHOT.write_text(json.dumps(dump(), indent=1, ensure_ascii=False) + "\n")
    assert dump() == json.loads(SNAPSHOT.read_text())


def test_load_templates_on_an_empty_table_gives_the_snapshot(capsys):
    ConversionTemplate.objects.all().delete()
    call_command("load_templates")
    assert dump() == json.loads(SNAPSHOT.read_text())
    assert "17 created" in capsys.readouterr().out
