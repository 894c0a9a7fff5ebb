"""`hepplan schema`: the profile's JSON Schema, checked with a real validator against the
examples, against broken profiles, and against hepplan's own reader at every limit."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import subprocess

import pytest
import yaml
from jsonschema import Draft202012Validator

from hepplan.assess.interview import encode_profile
from hepplan.cli import cli
from hepplan.domain.profile import parse_profile
from hepplan.domain.redflags import RED_FLAGS
from hepplan.domain.vocab import (
    Answer,
    Condition,
    DirectionalPreference,
    Equipment,
    Irritability,
    Piriformis,
    RadicularLevel,
    Side,
)
from hepplan.errors import InputError
from hepplan.io.profiles import load_profile

from .conftest import EXAMPLES, RED_FLAG_KEYS, SECTIONS, profile_data

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def schema():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def validator(schema):
    return Draft202012Validator(schema)


def as_json(value):
    """Plain data as JSON carries it: YAML's dates become ISO text."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def example(path) -> dict:
    return as_json(yaml.safe_load(path.read_text(encoding="utf-8")))


def errors(validator, data) -> list[str]:
    """The validator's messages; where a value may also be null, those of the other branch."""
    found = []
    for error in validator.iter_errors(data):
        inner = [e.message for e in error.context if e.validator_value != "null"]
        found.extend(inner or [error.message])
    return sorted(found)


def hepplan_accepts(data) -> bool:
    try:
        parse_profile(data, "test.json", today=TODAY)
    except InputError:
        return False
    return True


def changed(path: str, value, data=None) -> dict:
    """A copy of a valid profile with one key (``assessment.glute_strength.medius``) set, or
    removed when ``value`` is ``REMOVE``."""
    data = copy.deepcopy(data or profile_data())
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    if value is REMOVE:
        del node[last]
    else:
        node[last] = value
    return data


REMOVE = object()


def test_it_is_a_draft_2020_12_schema_with_an_id_and_title(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:hepplan:profile:format-1"
    assert schema["title"] == "hepplan assessed profile (format 1)"
    assert tuple(schema["properties"]) == SECTIONS
    assert schema["required"] == ["format", "patient", "assessment", "red_flags"]


def _properties(node, where="#"):
    """Every (path, property schema) in the schema, at any depth; conditions across keys
    (``allOf``) constrain properties defined elsewhere and are not walked."""
    if isinstance(node, dict):
        for name, field in node.get("properties", {}).items():
            yield f"{where}/properties/{name}", field
        for key, value in node.items():
            if key != "allOf":
                yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}/{index}")


def test_every_property_has_a_description(schema):
    fields = dict(_properties(schema))
    assert len(fields) == 6 + 5 + 12 + 2 + 13 + 4 + 4 + 2 + 6 + 4  # ... follow_up, outcomes
    undocumented = [path for path, field in fields.items() if not field.get("description")]
    assert undocumented == []


@pytest.mark.parametrize(
    ("name", "enum"),
    [
        ("Side", Side),
        ("Piriformis", Piriformis),
        ("RadicularLevel", RadicularLevel),
        ("Irritability", Irritability),
        ("DirectionalPreference", DirectionalPreference),
        ("Condition", Condition),
        ("Equipment", Equipment),
        ("Answer", Answer),
    ],
)
def test_the_allowed_words_are_listed(schema, name, enum):
    assert schema["$defs"][name]["enum"] == [member.value for member in enum]


def test_only_urgent_and_routine_flags_can_be_cleared(schema):
    flag = schema["$defs"]["Clearance"]["properties"]["flag"]
    assert flag["enum"] == [f.key for f in RED_FLAGS if f.level.word in ("urgent", "routine")]


def test_each_red_flag_is_described_by_its_question(schema):
    flags = schema["$defs"]["RedFlags"]
    assert flags["required"] == list(RED_FLAG_KEYS)
    for flag in RED_FLAGS:
        assert flags["properties"][flag.key]["description"] == (
            f"Asked: {flag.question}? Level: {flag.level.word}. Answer yes, no or unsure; "
            "unsure counts as yes."
        )


COMPLETE = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "screening-incomplete.yaml")


@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name)
def test_every_example_profile_is_valid(validator, path):
    assert errors(validator, example(path)) == []


def test_an_incomplete_screening_is_invalid_though_hepplan_reads_it(validator):
    """The schema is for tools that send profiles: one must not send a red flag unasked."""
    path = EXAMPLES / "screening-incomplete.yaml"
    assert errors(validator, example(path)) == [
        "'fever_or_systemically_unwell' is a required property",
        "'unrelenting_night_pain' is a required property",
    ]
    assert load_profile(path, today=TODAY).missing == (
        "fever_or_systemically_unwell",
        "unrelenting_night_pain",
    )


@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name)
def test_what_assess_writes_is_valid(validator, path):
    written = encode_profile(load_profile(path, today=TODAY), as_json=True)
    assert errors(validator, json.loads(written)) == []


def test_yaml_booleans_count_as_answers_in_both(validator):
    data = profile_data(red_flags={key: False for key in RED_FLAG_KEYS})
    data["red_flags"]["major_trauma"] = True
    assert errors(validator, data) == []
    assert hepplan_accepts(data)


CLEARED = {
    "red_flags": {"cancer_history": "yes"},
    "medical_clearance": [
        {"flag": "cancer_history", "cleared_by": "Dr. Helen Cho, MD", "date": "2026-11-02"}
    ],
}

INVALID = [
    # (case, data, a message the validator gives)
    (
        "unknown top-level key",
        changed("notes", "x"),
        "Additional properties are not allowed ('notes' was unexpected)",
    ),
    (
        "unknown nested key",
        changed("assessment.piriformus", "tight"),
        "Additional properties are not allowed ('piriformus' was unexpected)",
    ),
    ("bad enum", changed("assessment.side", "up"), "'up' is not one of ['left', 'right', 'both']"),
    (
        "bad red-flag answer",
        changed("red_flags.saddle_anesthesia", "maybe"),
        "'maybe' is not one of ['yes', 'no', 'unsure']",
    ),
    (
        "bad condition",
        changed("assessment.conditions", ["sciatica"]),
        (
            "'sciatica' is not one of ['lumbar_stenosis', 'spondylolisthesis', "
            "'hip_osteoarthritis', 'gtps', 'hip_labral_fai', 'pregnancy', 'osteoporosis']"
        ),
    ),
    (
        "missing required key",
        changed("assessment.irritability", REMOVE),
        "'irritability' is a required property",
    ),
    ("unknown format", changed("format", 2), "2 is not one of [1]"),
    (
        "date not ISO",
        changed("assessment.date", "20.11.2026"),
        "'20.11.2026' does not match '^\\\\d{4}-\\\\d{2}-\\\\d{2}$'",
    ),
    (
        "id with a space",
        changed("patient.id", "P 1"),
        "'P 1' does not match '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$'",
    ),
    ("id ..", changed("patient.id", ".."), "'..' should not be valid under {'enum': ['.', '..']}"),
    (
        "id too long",
        changed("patient.id", "P" * 65),
        f"'{'P' * 65}' does not match '^[A-Za-z0-9_][A-Za-z0-9._-]{{0,63}}$'",
    ),
    (
        "id starting with a dash",
        changed("patient.id", "-rf"),
        "'-rf' does not match '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$'",
    ),
    ("name empty", changed("patient.name", ""), "'' should be non-empty"),
    ("name too long", changed("patient.name", "x" * 201), f"'{'x' * 201}' is too long"),
    ("name on two lines", changed("patient.name", "Ana\nSouza"), None),
    ("name only spaces", changed("patient.name", "   "), None),
    ("e-mail", changed("patient.email", "ana.example.org"), None),
    ("age too high", changed("patient.age", 121), "121 is greater than the maximum of 120"),
    ("age negative", changed("patient.age", -1), "-1 is less than the minimum of 0"),
    ("age as text", changed("patient.age", "40"), "'40' is not of type 'integer'"),
    ("language", changed("patient.language", "fr"), "'fr' is not one of ['en']"),
    ("pain over 10", changed("assessment.pain_now", 11), "11 is greater than the maximum of 10"),
    (
        "grade over 5",
        changed("assessment.glute_strength.medius", 5.5),
        "5.5 is greater than the maximum of 5",
    ),
    (
        "grade not a half",
        changed("assessment.glute_strength.maximus", 3.25),
        "3.25 is not a multiple of 0.5",
    ),
    (
        "clinician too long",
        changed("assessment.clinician", "x" * 201),
        f"'{'x' * 201}' is too long",
    ),
    (
        "emergency flag cleared",
        changed(
            "medical_clearance",
            [{"flag": "saddle_anesthesia", "cleared_by": "Dr. Cho", "date": "2026-11-02"}],
            profile_data(red_flags={"saddle_anesthesia": "yes"}),
        ),
        (
            "'saddle_anesthesia' is not one of ['sexual_dysfunction', 'cancer_history', "
            "'unexplained_weight_loss', 'infection_risk', 'fracture_risk', "
            "'unrelenting_night_pain']"
        ),
    ),
    (
        "clearance without a doctor",
        changed(
            "medical_clearance",
            [{"flag": "cancer_history", "date": "2026-11-02"}],
            profile_data(**CLEARED),
        ),
        "'cleared_by' is a required property",
    ),
    (
        "clearance note too long",
        changed(
            "medical_clearance",
            [{**CLEARED["medical_clearance"][0], "note": "x" * 1001}],
            profile_data(**CLEARED),
        ),
        f"'{'x' * 1001}' is too long",
    ),
    (
        "include twice",
        changed("plan.include", ["bridge", "bridge"]),
        "['bridge', 'bridge'] has non-unique elements",
    ),
    ("handout note too long", changed("plan.notes", "x" * 2001), f"'{'x' * 2001}' is too long"),
]


@pytest.mark.parametrize(("case", "data", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_profiles_fail_validation_and_hepplan_refuses_them_too(
    validator, case, data, message
):
    found = errors(validator, data)
    assert found
    if message is not None:
        assert message in found
    assert not hepplan_accepts(data)


@pytest.mark.parametrize("answer", [REMOVE, None], ids=["missing", "null"])
def test_an_unanswered_red_flag_fails_validation(validator, answer):
    data = changed("red_flags.saddle_anesthesia", answer)
    assert errors(validator, data) != []
    assert parse_profile(data, "test", today=TODAY).missing == ("saddle_anesthesia",)


VALID_EDGES = [
    ("age 0", changed("patient.age", 0)),
    ("age 120", changed("patient.age", 120)),
    ("no age", changed("patient.age", None)),
    ("pain 0", changed("assessment.pain_now", 0)),
    ("pain 10", changed("assessment.pain_now", 10)),
    ("grade 0", changed("assessment.glute_strength.medius", 0)),
    ("grade 4.5", changed("assessment.glute_strength.medius", 4.5)),
    ("grade 5", changed("assessment.glute_strength.maximus", 5)),
    ("id of 64", changed("patient.id", "P" * 64)),
    ("id with dots", changed("patient.id", "p.1_2-3")),
    ("name of 200", changed("patient.name", "x" * 200)),
    ("name in any script", changed("patient.name", "Zoë Łukasz-Ñúñez Ελένη Дмитрий")),
    ("name with a tab", changed("patient.name", "Ana\tSouza")),
    ("e-mail", changed("patient.email", "ana.souza@clinic.example.org")),
    ("language", changed("patient.language", "en")),
    ("every word", changed("assessment.conditions", [c.value for c in Condition])),
    ("clearance", profile_data(**CLEARED)),
    (
        "clearance note of 1000",
        changed(
            "medical_clearance",
            [{**CLEARED["medical_clearance"][0], "note": "x" * 1000}],
            profile_data(**CLEARED),
        ),
    ),
    (
        "plan",
        changed("plan", {"include": ["bridge"], "exclude": ["clamshell"], "notes": "x" * 2000}),
    ),
    ("empty lists", changed("assessment.equipment", [])),
]


@pytest.mark.parametrize(("case", "data"), VALID_EDGES, ids=[c[0] for c in VALID_EDGES])
def test_valid_edges_pass_both_the_schema_and_hepplan(validator, case, data):
    assert errors(validator, data) == []
    assert hepplan_accepts(data)


def _patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_patterns_are_ecma_262_as_well_as_python(schema):
    """JSON Schema patterns are ECMA-262; in unicode mode (ajv's default) only these escapes
    are allowed."""
    patterns = sorted(set(_patterns(schema)))
    assert len(patterns) == 4
    for pattern in patterns:
        re.compile(pattern)
        assert set(re.findall(r"\\(.)", pattern)) <= set("dDsSwWbBu[](){}.*+?^$|\\/-")
    node = shutil.which("node")
    if node is None:
        return
    script = "for (const p of JSON.parse(process.argv[1])) new RegExp(p, 'u');console.log('ok')"
    result = subprocess.run(
        [node, "-e", script, json.dumps(patterns)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == "ok", result.stderr
