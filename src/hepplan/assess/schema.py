"""The profile's JSON Schema (``hepplan schema``), for tools that write profiles for hepplan."""

from __future__ import annotations

from typing import Any

from hepplan.domain import redflags
from hepplan.domain.profile import EMAIL, KNOWN_FORMATS, LANGUAGES, PATIENT_ID, Profile
from hepplan.domain.vocab import RadicularLevel, Side

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:hepplan:profile:format-1"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
#: One line of text with something in it: no line breaks or control characters (a tab is fine).
ONE_LINE = r"^[^\u0000-\u0008\u000a-\u001f]*\S[^\u0000-\u0008\u000a-\u001f]*$"


def _text_rule(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": ONE_LINE}


def _refine(field: dict[str, Any], **rules: Any) -> None:
    """Add rules to a field's schema, or to its non-null branch when it may be null."""
    for branch in field.get("anyOf", [field]):
        if branch.get("type") != "null":
            branch.update(rules)


def _radicular_side_rules() -> list[dict[str, Any]]:
    """CLINICAL.md §1 rule 5 as schema conditions: ``radicular_side`` is required when the
    painful side is both and a level is given, lies within the painful side, and needs a level."""

    def when(**values: Any) -> dict[str, Any]:
        return {"properties": values, "required": list(values)}

    levels = [level.value for level in RadicularLevel if level is not RadicularLevel.NONE]
    rules: list[dict[str, Any]] = [
        {
            "if": when(side={"const": "both"}, radicular_level={"enum": levels}),
            "then": {
                "required": ["radicular_side"],
                "properties": {"radicular_side": {"$ref": "#/$defs/Side"}},
            },
        },
        {
            "if": when(radicular_level={"const": "none"}),
            "then": {"properties": {"radicular_side": {"type": "null"}}},
        },
    ]
    for side in (Side.LEFT.value, Side.RIGHT.value):
        rules.append(
            {
                "if": when(side={"const": side}),
                "then": {"properties": {"radicular_side": {"enum": [side, None]}}},
            }
        )
    return rules


def profile_schema() -> dict[str, Any]:
    """The profile's JSON Schema (draft 2020-12): the pydantic model's, plus the rules its
    validators apply in code (patterns, ranges, lengths) so another tool can check a profile
    before hepplan reads it.

    The schema is stricter than hepplan's reader in three ways: words must be in their canonical
    letter case, text has no surrounding spaces or line breaks, and every red-flag question must
    be answered (hepplan reads a profile with unanswered questions, but refuses to plan from it,
    exit 4). The limits written here repeat those of ``hepplan.profile``; the tests check both
    agree on each limit's edge.
    """
    schema = Profile.model_json_schema(mode="validation")
    defs = schema["$defs"]
    schema["properties"]["format"]["enum"] = list(KNOWN_FORMATS)
    for refine in (_patient, _assessment, _red_flags, _clearance, _plan, _follow_up):
        refine(defs)

    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "hepplan assessed profile (format 1)",
        "description": (
            "One patient's assessment for hepplan, as YAML or JSON (CONTRACT.md §1). Unknown "
            "keys are errors. Rules across keys are checked by hepplan only: the assessment "
            "date is not in the future; a clearance is for a flag answered yes or unsure, "
            "dated on or before the assessment, at most one per flag; no exercise is both "
            "included and excluded."
        ),
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }


#: A yes/no/unsure answer, where YAML's true and false are read as yes and no.
ANSWER = [
    {"$ref": "#/$defs/Answer"},
    {"type": "boolean", "description": "true is read as yes, false as no"},
]


def _patient(defs: dict[str, Any]) -> None:
    patient = defs["Patient"]["properties"]
    _refine(patient["id"], pattern=PATIENT_ID.pattern, **{"not": {"enum": [".", ".."]}})
    _refine(patient["name"], **_text_rule(200))
    # JSON Schema patterns are ECMA-262 regular expressions, where \" is a syntax error in
    # unicode mode (as ajv compiles them); the quote needs no escape in either dialect.
    _refine(patient["email"], pattern=EMAIL.pattern.replace('\\"', '"'))
    _refine(patient["age"], minimum=0, maximum=120)
    _refine(patient["language"], enum=list(LANGUAGES))


def _assessment(defs: dict[str, Any]) -> None:
    found = defs["Assessment"]["properties"]
    _refine(found["date"], pattern=ISO_DATE)
    _refine(found["clinician"], **_text_rule(200))
    _refine(found["pain_now"], minimum=0, maximum=10)
    for grade in defs["GluteStrength"]["properties"].values():
        _refine(grade, minimum=0, maximum=5, multipleOf=0.5)
    defs["Assessment"]["allOf"] = _radicular_side_rules()


def _red_flags(defs: dict[str, Any]) -> None:
    defs["Answer"]["description"] = "A red-flag answer: yes, no or unsure (counts as yes)."
    flags = defs["RedFlags"]
    flags["description"] = (
        "The answer to every red-flag question of CLINICAL.md §1: all are required here, as "
        "hepplan plans nothing while one is unanswered."
    )
    flags["required"] = list(redflags.KEYS)
    for field in flags["properties"].values():
        field.pop("default", None)
        field["anyOf"] = ANSWER


def _clearance(defs: dict[str, Any]) -> None:
    clearance = defs["Clearance"]["properties"]
    _refine(clearance["flag"], enum=list(redflags.CLEARABLE))
    _refine(clearance["cleared_by"], **_text_rule(200))
    _refine(clearance["date"], pattern=ISO_DATE)
    _refine(clearance["note"], **_text_rule(1000))


def _plan(defs: dict[str, Any]) -> None:
    plan = defs["PlanChoices"]["properties"]
    for field in ("include", "exclude"):
        plan[field]["uniqueItems"] = True
        plan[field]["items"] = {"type": "string", "minLength": 1}
    _refine(plan["notes"], **_text_rule(2000))
    _refine(plan["next_visit"], pattern=ISO_DATE)


def _follow_up(defs: dict[str, Any]) -> None:
    follow_up = defs["FollowUp"]["properties"]
    for key, low, high in (
        ("step_reached", 1, 3),
        ("weeks_on_step", 0, 52),
        ("days_done_percent", 0, 100),
        ("pain_during", 0, 10),
    ):
        _refine(follow_up[key], minimum=low, maximum=high)
    description = follow_up["new_nerve_signs"]["description"]
    follow_up["new_nerve_signs"] = {"description": description, "anyOf": ANSWER}
    visit = defs["OutcomeVisit"]["properties"]
    _refine(visit["date"], pattern=ISO_DATE)
    _refine(visit["nprs"], minimum=0, maximum=10)
    _refine(visit["odi"], minimum=0, maximum=100)
    _refine(
        visit["psfs"],
        minProperties=1,
        maxProperties=5,
        additionalProperties={"type": "integer", "minimum": 0, "maximum": 10},
    )
