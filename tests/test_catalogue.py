"""Every visible string of the page templates has its zh-Hans translation, and none is fuzzy."""

import re

import polib

from tests.conftest import ROOT

CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = ROOT / "templates"
# {% translate "…" %} / {% translate '…' %}, with or without `as name` (literal strings only)
TRANSLATE = re.compile(r"""{%\s*translate\s+(?:"([^"]*)"|'([^']*)')""")


def catalogue() -> dict[tuple[str | None, str], polib.POEntry]:
    return {(e.msgctxt, e.msgid): e for e in polib.pofile(str(CATALOGUE)) if not e.obsolete}


def translated(entry: polib.POEntry) -> bool:
    text = entry.msgstr or "".join(entry.msgstr_plural.values())
    return bool(text.strip()) and "fuzzy" not in entry.flags


def test_every_template_string_is_in_the_catalogue_and_translated():
    entries = catalogue()
    missing, untranslated = [], []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for double, single in TRANSLATE.findall(template.read_text(encoding="utf-8")):
            msgid = double or single
            # makemessages doubles the % of a {% translate %} literal ("%s lines" -> "%%s lines")
            entry = entries.get((None, msgid)) or entries.get((None, msgid.replace("%", "%%")))
            where = f"{template.relative_to(ROOT)}: {msgid!r}"
            if entry is None:
                missing.append(where)
            elif not translated(entry):
                untranslated.append(where)
    assert not missing, "not in the catalogue (run makemessages):\n" + "\n".join(missing)
    assert not untranslated, "no zh-Hans translation:\n" + "\n".join(untranslated)


def test_no_string_of_the_templates_is_left_empty_or_fuzzy():
    left = [
        entry.msgid
        for entry in catalogue().values()
        if any(path.startswith("templates/") for path, _line in entry.occurrences)
        and not translated(entry)
    ]
    assert not left, "\n".join(left)


def test_no_translation_is_fuzzy():
    fuzzy = [entry.msgid for entry in catalogue().values() if "fuzzy" in entry.flags]
    assert not fuzzy, "\n".join(fuzzy)
