"""`advisor schema` tells an editor what advisor accepts: a standard validator and advisor agree on every example,
situation and broken profile, but for the documented exceptions no JSON Schema can express."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import advisor
from advisor.cli import cli
from advisor.profile.schema import SCHEMA_ID, json_schema, words_for

from conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "broken"
PROFILES = sorted(EXAMPLES.glob("*.yaml")) + sorted((ROOT / "tests" / "situations").glob("*.yaml")) + sorted(BROKEN.glob("*.yaml"))

#: Broken profiles a schema cannot tell apart from sound ones, and why.
BEYOND_A_SCHEMA = {
    # Cross-references between fields: advisor checks them after the schema's checks.
    "broken-cross-reference.yaml": "the lead partner must be one of the partners",
    "duplicate-partner.yaml": "partner names must differ",
    "goal-owner.yaml": "a goal's owner must be a partner",
    "dispute-between-unknown-partner.yaml": "the parties to a dispute must be partners",
    "goal-dispute-unknown-partner.yaml": "the parties to a disputed goal must be partners",
    "objective-not-goal.yaml": "a partner's objectives must be goal ids",
    "unknown-waiver-rule.yaml": "a waiver must name a rule",
    "end-before-start.yaml": "the end must come after the start",
    "impossible-date.yaml": "a date must be in the calendar (not 30 February)",
    # What the YAML says before it is data: an editor's YAML parser reports these itself, or cannot see them.
    "duplicate-key.yaml": "a key written twice", "duplicate-nested-key.yaml": "a key written twice",
    "utf16.yaml": "the file's encoding",
    "wrong-type.yaml": "a quoted 'yes' is text for advisor; the editor reads yes and 'yes' alike",
    "infinite-budget.yaml": "an infinite number is a number to JSON Schema",
}


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor reads it (YAML 1.2): dates and sexagesimal numbers stay text."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(("timestamp", "int", "float"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EditorLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_EditorLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$"),
    list("-+0123456789."))


def _as_an_editor_reads_it(path: Path):
    try:
        return yaml.load(path.read_bytes(), Loader=_EditorLoader)
    except yaml.YAMLError:
        return None  # the editor's parser reports it, as advisor does


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_the_schema_and_advisor_agree(path: Path, validator, shipped_rules) -> None:
    data = _as_an_editor_reads_it(path)
    try:
        advisor.load_profile(path, shipped_rules)
        accepted = True
    except advisor.ProfileError:
        accepted = False
    if data is None:
        assert not accepted
        return
    valid = validator.is_valid(data)
    if path.name in BEYOND_A_SCHEMA:
        assert valid and not accepted, BEYOND_A_SCHEMA[path.name]
        return
    assert valid == accepted, [e.message for e in validator.iter_errors(data)][:3]


def test_every_field_has_a_title_and_a_description_and_optional_fields_are_plain() -> None:
    schema = json_schema()
    assert schema["$id"] == SCHEMA_ID
    for model in (schema, *schema["$defs"].values()):
        for name, prop in model["properties"].items():
            if name == "profile_version":
                continue
            assert prop.get("title") and prop.get("description"), name
            assert "anyOf" not in prop, name


def test_a_field_reads_as_its_label_question_and_guide_section() -> None:
    prop = json_schema()["$defs"]["Purpose"]["properties"]["shared_vision"]
    assert prop["title"] == "Shared vision agreed by all partners"
    assert prop["description"] == "Shared vision agreed by all partners. Has every partner agreed the shared vision? Guide: 3."
    assert {True, False, "yes", "no", "unknown", None} <= set(prop["enum"])
    assert words_for(("purpose", "shared_vision")).label == "shared vision agreed by all partners"


def test_choices_accept_unknown_and_say_what_each_means() -> None:
    sector = json_schema()["$defs"]["Partner"]["properties"]["sector"]
    assert "unknown" in sector["enum"] and None in sector["enum"]
    assert sector["enumDescriptions"][sector["enum"].index("civil_society")] == "civil society"


def test_a_whole_number_may_be_written_with_a_point_zero() -> None:
    loaded = advisor.load_profile({"name": "X", "partners": [{"name": "A"}], "committee": {"members": 7.0}})
    assert loaded.profile.committee.members == 7
    with pytest.raises(advisor.ProfileError, match="write a whole number"):
        advisor.load_profile({"name": "X", "partners": [{"name": "A"}], "committee": {"members": 7.5}})


def test_the_command_prints_the_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$id"] == SCHEMA_ID


def test_the_committed_field_reference_is_up_to_date() -> None:
    from advisor.profile.schema import FIELDS_COMMAND, field_reference

    committed = (ROOT / "docs" / "profile-fields.md").read_text(encoding="utf-8")
    assert committed == field_reference(), f"docs/profile-fields.md is out of date: run `{FIELDS_COMMAND}`"


def test_the_examples_name_the_schema_shipped_beside_them() -> None:
    committed = json.loads((EXAMPLES / "profile.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "advisor/examples/profile.schema.json is out of date: run " \
                                       "`advisor schema -o advisor/examples/profile.schema.json`"
    for path in sorted(EXAMPLES.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=profile.schema.json", path.name
