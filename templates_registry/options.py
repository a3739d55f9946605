"""The option schema of a conversion template: checking the schema itself and the values users give.

Plain Python (no Django), so the data migration, the admin, the forms and the `convert` command share
one set of rules.
"""

import re
from typing import Any

# "multichoice": several of `choices` as one comma-separated string ("SM80,SM86"); forms show checkboxes.
OPTION_TYPES = ("string", "integer", "choice", "multichoice")
CHOICE_TYPES = ("choice", "multichoice")
REQUIRED = "This option is required."  # the forms say it in the user's language
OPTION_FIELDS = {
    "key": str,
    "label_en": str,
    "label_zh": str,
    "type": str,
    "choices": list,
    "default": (str, int, type(None)),
    "required": bool,
    "pattern": str,
    "min_value": (int, type(None)),
    "max_value": (int, type(None)),
    "max_length": (int, type(None)),
    "help_en": str,
    "help_zh": str,
}
# The fields an option may leave out, and what they then are: only key, label_en and type are
# needed (the admin's editor and every full_clean fill in the rest).
OPTIONAL_FIELDS = {
    "label_zh": "",
    "choices": [],
    "default": None,
    "required": False,
    "pattern": "",
    "min_value": None,
    "max_value": None,
    "max_length": None,
    "help_en": "",
    "help_zh": "",
}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# ModelArts.3060: advanced options carry no Chinese characters, none of ( | ) & $ ? < >, and stay
# under 4000 characters in all.
FORBIDDEN_CHARS = set("(|)&$?<>")
CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
MAX_OPTIONS_LENGTH = 4000


def with_defaults(schema: Any) -> Any:
    """`schema` with each option's left-out optional fields at their defaults, in OPTION_FIELDS'
    order; anything that is not a list of objects is returned as it is (schema_errors says why)."""
    if not isinstance(schema, list):
        return schema
    filled = []
    for option in schema:
        if isinstance(option, dict):
            given = {
                **{k: list(v) if isinstance(v, list) else v for k, v in OPTIONAL_FIELDS.items()}
            }
            given.update(option)
            order = [k for k in OPTION_FIELDS if k in given] + [
                k for k in given if k not in OPTION_FIELDS
            ]
            option = {k: given[k] for k in order}
        filled.append(option)
    return filled


def schema_errors(schema: Any) -> list[str]:
    """Everything wrong with an option schema; an empty list when it is valid."""
    if not isinstance(schema, list):
        return ["The option schema must be a list of options."]
    errors: list[str] = []
    seen: set[str] = set()
    for index, option in enumerate(schema, start=1):
        where = f"Option {index}"
        if not isinstance(option, dict):
            errors.append(f"{where}: must be an object.")
            continue
        missing = sorted(set(OPTION_FIELDS) - set(option))
        unknown = sorted(set(option) - set(OPTION_FIELDS))
        if missing:
            errors.append(f"{where}: missing {', '.join(missing)}.")
        if unknown:
            errors.append(f"{where}: unknown fields {', '.join(unknown)}.")
        if missing:
            continue
        for field, kind in OPTION_FIELDS.items():
            if not isinstance(option[field], kind) or isinstance(option[field], bool) != (
                kind is bool
            ):
                errors.append(f"{where}: '{field}' has the wrong type.")
        if errors and errors[-1].startswith(where):
            continue
        key = option["key"]
        where = f"Option '{key}'"
        if not KEY_RE.match(key):
            errors.append(f"{where}: keys are lowercase letters, digits and underscores.")
        if key in seen:
            errors.append(f"{where}: appears twice.")
        seen.add(key)
        if option["type"] not in OPTION_TYPES:
            errors.append(f"{where}: type must be one of {', '.join(OPTION_TYPES)}.")
            continue
        if option["type"] in CHOICE_TYPES and not option["choices"]:
            errors.append(f"{where}: a choice needs at least one value.")
        if option["type"] not in CHOICE_TYPES and option["choices"]:
            errors.append(f"{where}: only a choice has choices.")
        if option["pattern"]:
            try:
                re.compile(option["pattern"])
            except re.error as exc:
                errors.append(f"{where}: the pattern does not compile ({exc}).")
                continue
        if option["default"] is not None:
            problem = value_error(option, option["default"])
            if problem:
                errors.append(f"{where}: the default is invalid: {problem}")
    return errors


def value_error(option: dict, value: Any) -> str | None:
    """Why `value` is not acceptable for `option`, or None when it is."""
    kind = option["type"]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except ValueError:
                return "Enter a whole number."
        if option["min_value"] is not None and value < option["min_value"]:
            return f"Enter a number of at least {option['min_value']}."
        if option["max_value"] is not None and value > option["max_value"]:
            return f"Enter a number of at most {option['max_value']}."
        return None
    value = str(value)
    if kind == "choice" and value not in option["choices"]:
        return f"Choose one of: {', '.join(option['choices'])}."
    if kind == "multichoice":
        parts = split_choices(value)
        unknown = [part for part in parts if part not in option["choices"]]
        if not parts or unknown:
            wrong = f" Not one of them: {', '.join(unknown)}." if unknown else ""
            return (
                f"Give one or more of {', '.join(option['choices'])}, separated by commas.{wrong}"
            )
    if option["max_length"] is not None and len(value) > option["max_length"]:
        return f"Use at most {option['max_length']} characters."
    if CJK_RE.search(value):
        return "Chinese characters are not allowed here."
    bad = sorted(FORBIDDEN_CHARS.intersection(value))
    if bad:
        return f"These characters are not allowed: {' '.join(bad)}"
    if option["pattern"] and not re.fullmatch(option["pattern"], value):
        return f"Does not match the expected format ({option['help_en'] or option['pattern']})."
    return None


def split_choices(value: str) -> list[str]:
    """The parts of a multichoice value: "SM80, SM86" -> ["SM80", "SM86"]."""
    return [part.strip() for part in str(value).split(",") if part.strip()]


def clean_options(
    schema: list[dict], given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply defaults and check every value; returns (options, errors by key).

    Unknown keys are errors: a typo in a script must not be silently ignored.
    """
    options: dict[str, Any] = {}
    errors: dict[str, str] = {}
    by_key = {option["key"]: option for option in schema}
    for key in given:
        if key not in by_key:
            known = ", ".join(by_key) or "none"
            errors[key] = f"Unknown option '{key}'. This template takes: {known}."
    for key, option in by_key.items():
        raw = given.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if option["default"] is not None:
                options[key] = option["default"]
            elif option["required"]:
                errors[key] = REQUIRED
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        problem = value_error(option, value)
        if problem:
            errors[key] = problem
            continue
        if option["type"] == "integer":
            options[key] = int(value)
        elif option["type"] == "multichoice":
            options[key] = ",".join(dict.fromkeys(split_choices(value)))
        else:
            options[key] = str(value)
    total = sum(len(str(v)) for v in options.values())
    if total >= MAX_OPTIONS_LENGTH:
        errors["__all__"] = f"The advanced options must stay under {MAX_OPTIONS_LENGTH} characters."
    return options, errors
