"""The knowledge base holds every citation id of the guide, verbatim, and refuses a broken file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.errors import KnowledgeError
from advisor.knowledge import KnowledgeBase, load_knowledge

#: The guide as received (two figures of the original did not survive), shipped with the knowledge base.
GUIDE_TEXT = Path(__file__).parents[1] / "knowledge" / "guide.txt"

# Every citation id of the guide (knowledge/guide.txt), written out in its printed order.
EXPECTED_IDS = [
    "1", "1.1",
    "2", "2.1", "2.2",
    "3",
    "4", "4.1", "4.2",
    "5",
    "6",
    "7", "7.1",
    "8", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6",
    "9", "9.1", "9.2", "9.3",
    "10", "10.1", "10.2", "10.3", "10.4",
    "11", "11.1", "11.2", "11.3", "11.4",
    "12", "12.1", "12.2",
    "13", "13.1",
    "14",
    "15",
    "16", "16.1", "16.2", "16.3", "16.4", "16.5",
    "17", "17.1",
    "18",
    "19",
    "20", "20.1", "20.2", "20.3", "20.4", "20.5", "20.6",
    "21", "21.1", "21.2", "21.3", "21.4", "21.5", "21.6",
    "A", "A.1", "A.2", "A.3", "A.4", "A.5", "A.6", "A.7", "A.note1", "A.note2", "A.note3",
    "B", "B.1", "B.2", "B.3", "B.4", "B.5", "B.6", "B.7", "B.8",
    "C", "C.1", "C.2", "C.3", "C.note1", "C.footnote",
]  # fmt: skip

AREA_ORDER = [
    "purpose", "values", "goals", "approach", "type", "level", "activities", "composition", "leadership",
    "roles", "governance", "communication", "resources", "benefits", "risks", "monitoring", "engagement",
]  # fmt: skip


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="module")
def guide_text() -> str:
    return GUIDE_TEXT.read_text(encoding="utf-8")


def test_loads_and_is_cached(kb):
    assert kb.guide.title == "A Guide to Strategic Partnering"
    assert kb.guide.publisher == "Civilian Secretariat for Police Service, Republic of South Africa"
    assert kb.guide.date == "January 2020"
    assert load_knowledge() is kb


def test_ids_are_exactly_the_spec_ids_in_guide_order(kb):
    assert list(kb.sections) == EXPECTED_IDS


def test_order_sorts_in_guide_order_and_unknown_last(kb):
    assert sorted(["B.6", "16.2", "nope", "1.1", "9.3"], key=kb.order) == ["1.1", "9.3", "16.2", "B.6", "nope"]
    assert kb.order("10.1") > kb.order("9.3")  # guide order, not string order


def test_lookup(kb):
    assert "8.4" in kb and "8.7" not in kb
    assert kb.get("B.7").title == "Lack of trust"
    assert kb.get("B.9") is None
    assert kb.area_of("16.2") == "communication"
    assert kb.area_of("C.1") == "failure"
    assert kb.area_of("nope") is None


def test_every_text_is_verbatim_in_the_guide(kb, guide_text):
    guide = squash(guide_text)
    for section in kb:
        assert squash(section.text) in guide, section.id


def test_numbered_texts_follow_their_printed_number(kb, guide_text):
    # catches a text pasted under the wrong id; 3 is the one heading with a paragraph of its own
    lines = {squash(line.lstrip("- ")) for line in guide_text.splitlines()}
    for section in kb:
        if section.id[0].isdigit() and section.id != "3":
            assert f"{section.id}. {squash(section.text)}" in lines, section.id
    assert "3. Purpose" in lines and kb.get("3").title == "Purpose"


def test_b_markers_follow_printed_order(kb):
    titles = [kb.get(f"B.{n}").title for n in range(1, 9)]
    assert titles == [
        "Competing agendas", "Value mismatch", "Objectives not aligned", "Lack of governance",
        "Misaligned stakeholders", "Lack of communication", "Lack of trust", "Win-lose situation",
    ]  # fmt: skip


def test_parents_exist_and_precede_their_children(kb):
    for section in kb:
        if section.parent is None:
            assert "." not in section.id, section.id
        else:
            assert section.parent in kb, section.id
            assert kb.order(section.parent) < kb.order(section.id), section.id
            assert section.id.startswith(section.parent + "."), section.id


def test_every_section_has_title_summary_and_a_known_area(kb):
    allowed = set(AREA_ORDER) | {"success", "failure"}
    for section in kb:
        assert section.title.strip() and section.summary.strip(), section.id
        assert "\n" not in section.summary, section.id
        assert section.area in allowed, section.id


def test_every_non_actionable_id_has_a_reason(kb):
    for section in kb:
        if section.actionable:
            assert section.not_actionable_reason is None, section.id
        else:
            assert section.not_actionable_reason and section.not_actionable_reason.strip(), section.id
    assert set(kb.actionable_ids()) == {s.id for s in kb if s.actionable}
    for definition in ("2.1", "2.2", "8.1", "9.1"):
        assert not kb.get(definition).actionable


def test_levels_are_the_four_in_order(kb):
    assert [(lv.name, lv.rank) for lv in kb.levels] == [
        ("communication", 1), ("coordination", 2), ("cooperation", 3), ("collaboration", 4),
    ]  # fmt: skip
    assert [lv.activities for lv in kb.levels] == [
        ("information_sharing",), ("mutual_consultation", "common_messages"), ("shared_resources",), ("joint_planning",),
    ]  # fmt: skip
    assert kb.level_rank("cooperation") == 3
    with pytest.raises(KeyError):
        kb.level_rank("colaboration")
    for level in kb.levels:
        assert level.distinguishes and all(ref in kb for ref in level.guide_refs)


def test_areas_cover_every_actionable_numbered_id(kb):
    assert [area.name for area in kb.areas] == AREA_ORDER
    listed = [sid for area in kb.areas for sid in area.ids]
    assert len(listed) == len(set(listed))
    numbered_actionable = {sid for sid in kb.actionable_ids() if sid[0].isdigit()}
    assert numbered_actionable <= set(listed)
    for area in kb.areas:
        assert area.title
        assert list(area.ids) == sorted(area.ids, key=kb.order)
        assert all(kb.area_of(sid) == area.name for sid in area.ids)


def test_references(kb):
    urls = [ref.url for ref in kb.references]
    assert len(urls) == len(set(urls))
    assert urls[0].startswith("https://www.cdc.gov/")
    assert all(not url.startswith("<") for url in urls)
    cited = {ref.cited_by for ref in kb.references if ref.cited_by}
    assert "C" in cited and cited <= set(kb.sections)
    assert sum(1 for ref in kb.references if ref.cited_by is None) == 7  # the printed list without the repeat


# ---- a broken knowledge file names the file, the line and the id ----------------------------------

MINIMAL = """\
guide:
  title: "A Guide to Strategic Partnering"
  publisher: "Civilian Secretariat for Police Service, Republic of South Africa"
  date: "January 2020"
sections:
  - id: "1"
    title: "First things first"
    text: "First things first"
    parent: null
    summary: "Understand each other first."
    area: purpose
    actionable: false
    not_actionable_reason: "Heading."
  - id: "1.1"
    title: "Common understanding"
    text: "A common understanding needs to exist."
    parent: "1"
    summary: "Understand each other's culture."
    area: purpose
    actionable: true
    due: proposed
references:
  - url: "https://example.org/guide.pdf"
    title: "Example"
levels:
  - name: communication
    rank: 1
    distinguishes: "Partners share information."
    activities: [information_sharing]
    guide_refs: ["1.1"]
areas:
  - name: purpose
    title: "Purpose"
    ids: ["1", "1.1"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guide.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return lines[occurrence - 1]


def test_minimal_file_loads_from_a_file_or_its_directory(tmp_path):
    path = write(tmp_path, MINIMAL)
    kb = load_knowledge(path)
    assert list(kb.sections) == ["1", "1.1"]
    assert load_knowledge(tmp_path) is kb


def test_duplicate_id_names_file_line_and_id(tmp_path):
    text = MINIMAL.replace('id: "1.1"', 'id: "1"')
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    message = str(err.value)
    first, second = line_of(text, 'id: "1"'), line_of(text, 'id: "1"', 2)
    assert f"{path}:{second}:" in message
    assert "section '1': duplicate id" in message
    assert f"first at line {first}" in message


def test_unknown_key_names_file_line_and_key(tmp_path):
    text = MINIMAL.replace("    actionable: true\n", "    actionable: true\n    sumary: typo\n")
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    message = str(err.value)
    assert f"{path}:{line_of(text, 'sumary')}:" in message
    assert "section '1.1': unknown key 'sumary'; did you mean 'summary'?" in message


@pytest.mark.parametrize(
    "old, new, fragment, occurrence, expected",
    [
        ('parent: "1"', 'parent: "2"', 'parent: "2"', 1, "section '1.1': parent '2' does not exist"),
        ('    summary: "Understand each other\'s culture."\n', "", 'id: "1.1"', 1, "missing required key 'summary'"),
        ('id: "1.1"', "id: 1.1", "id: 1.1", 1, "must be text: quote it"),
        ("area: purpose\n    actionable: true", "area: purpos\n    actionable: true", "area: purpos", 2,
         "unknown area 'purpos'; did you mean 'purpose'?"),
        ('    not_actionable_reason: "Heading."\n', "", "actionable: false", 1, "give a not_actionable_reason"),
        ('ids: ["1", "1.1"]', 'ids: ["1"]', "area: purpose", 2, "section '1.1': area 'purpose' does not list it"),
        ('guide_refs: ["1.1"]', 'guide_refs: ["1.2"]', "guide_refs", 1, "unknown guide id '1.2'"),
    ],
)
def test_other_mistakes_name_the_line(tmp_path, old, new, fragment, occurrence, expected):
    assert old in MINIMAL
    text = MINIMAL.replace(old, new)
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    message = str(err.value)
    assert f"{path}:{line_of(text, fragment, occurrence)}:" in message
    assert expected in message


def test_parent_after_child_is_refused(tmp_path):
    text = MINIMAL.replace('parent: null', 'parent: "1.1"', 1).replace('parent: "1"', "parent: null")
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError, match=r"section '1': parent '1.1' \(line \d+\) must come before"):
        load_knowledge(path)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(KnowledgeError, match="file not found"):
        load_knowledge(tmp_path / "absent.yaml")
    path = write(tmp_path, "sections: [\n")
    with pytest.raises(KnowledgeError, match=f"{re.escape(str(path))}:\\d+"):
        load_knowledge(path)


def test_an_error_names_file_line_column_and_field(tmp_path):
    text = MINIMAL.replace("    actionable: true\n", "    actionable: true\n    sumary: typo\n")
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    line = line_of(text, "sumary")
    assert str(err.value) == (
        f"{path}:{line}:5: sections[1].sumary: section '1.1': unknown key 'sumary'; did you mean 'summary'?"
    )
    assert err.value.field == "sections[1].sumary"
    assert (err.value.location.line, err.value.location.column) == (line, 5)


def test_the_first_problem_in_the_file_is_named_and_the_others_counted(tmp_path):
    text = MINIMAL.replace('guide_refs: ["1.1"]', 'guide_refs: ["1.2"]').replace('parent: "1"', 'parent: "2"')
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    line = line_of(text, 'parent: "2"')
    assert str(err.value) == (
        f"{path}:{line}:5: sections[1].parent: section '1.1': parent '2' does not exist (and 1 more problem)"
    )


@pytest.mark.parametrize(
    "old, new, fragment, expected",
    [
        ("activities: [information_sharing]", "activities: [information_sharin]", "activities",
         ("levels[0].activities[0]: level 'communication': unknown activity 'information_sharin'; "
          "did you mean 'information_sharing'?")),
        ("activities: [information_sharing]", "activities: []", "activities",
         "levels[0].activities: level 'communication': must not be empty"),
        ("rank: 1", "rank: true", "rank", "levels[0].rank: level 'communication': expected a whole number, got true"),
        ("rank: 1", "rank: 2", "rank", "levels[0].rank: level 'communication': rank must be 1"),
        ('url: "https://example.org/guide.pdf"', 'url: "<https://example.org/guide.pdf>"', "url:",
         "references[0].url: url '<https://example.org/guide.pdf>' must start with http:// or https://"),
        ("    title: \"Example\"\n", "    title: \"Example\"\n    cited_by: \"1.2\"\n", "cited_by",
         "references[0].cited_by: unknown guide id '1.2'; did you mean '1.1'?"),
        ("actionable: true", "actionable: true\n    not_actionable_reason: \"Why\"", "not_actionable_reason: \"Why\"",
         "sections[1].not_actionable_reason: section '1.1': has a not_actionable_reason but is actionable"),
        ('ids: ["1", "1.1"]', 'ids: ["1", "1.1", "1"]', "ids:",
         "areas[0].ids[2]: area 'purpose': id '1' is already listed in area 'purpose'"),
        ('title: "Purpose"', 'title: " "', 'title: " "', "areas[0].title: area 'purpose': must not be empty"),
        ("guide:\n", "extra: 1\nguide:\n", "extra",
         "extra: unknown key 'extra'; expected one of: guide, sections, references, levels, areas"),
    ],
)
def test_each_check_names_the_field(tmp_path, old, new, fragment, expected):
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line_of(text, fragment)}:")
    assert expected in message


def test_a_url_listed_twice_names_the_first(tmp_path):
    extra = '  - url: "https://example.org/guide.pdf"\n    title: "Again"\n'
    text = MINIMAL.replace("levels:\n", extra + "levels:\n")
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError, match=r"references\[1\]\.url: url '\S+' is listed twice \(first at line 23\)$"):
        load_knowledge(path)


def test_an_empty_file_or_a_list_is_refused(tmp_path):
    with pytest.raises(KnowledgeError, match="the knowledge file is empty"):
        load_knowledge(write(tmp_path, ""))
    with pytest.raises(KnowledgeError, match=r":1:1: expected a mapping of fields, got a list$"):
        load_knowledge(write(tmp_path, "- guide\n"))


def test_the_knowledge_base_survives_pickling(kb):
    import pickle

    again = pickle.loads(pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == kb and again.order("B.6") == kb.order("B.6") and again.level_rank("cooperation") == 3
    assert again.area("purpose").ids == kb.area("purpose").ids
