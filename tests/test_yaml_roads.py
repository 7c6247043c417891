"""The YAML reader's roads give the same data and line marks: the block road (line by line, no parser events) is
checked against the event walker and the careful road on generated, hand-written and mutated texts."""

from __future__ import annotations

import datetime
import math
import random

import pytest
import yaml

from advisor import yamlio
from advisor.errors import AdvisorError

from conftest import EXAMPLES
from fuzz_loader import mutate
from profilegen import random_profile


def _same(a, b) -> bool:
    """Equal data of the same types (True is not 1, 1 is not 1.0), in the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _without_block_road(text: str, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as m:
        m.setattr(yamlio, "_block_document", lambda text, source: None)
        try:
            return list(yamlio.load_documents(text, "x"))
        except AdvisorError as exc:
            return exc


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = [yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True) for _ in range(40)]
    pool += [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))]
    texts = list(pool)
    while len(texts) < count:
        text = mutate(rng, rng.choice(pool), pool)
        if isinstance(text, str):
            texts.append(text)
    return texts


def test_the_block_road_reads_generated_profiles():
    rng = random.Random(5)
    for _ in range(20):
        text = yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True)
        assert yamlio._block_document(text, "x") is not None


def test_the_block_road_gives_what_the_parser_gives(monkeypatch):
    taken = 0
    for text in _texts(3000, seed=11):
        got = yamlio._block_document(text, "x")
        if got is None:
            continue
        taken += 1
        want = _without_block_road(text, monkeypatch)
        assert isinstance(want, list) and len(want) == 1, (text, want)
        assert _same(got.data, want[0].data), text
        assert got.marks == want[0].marks, text
    assert taken > 300  # the block road is taken by most unmutated and many mutated texts


@pytest.mark.parametrize("text, data", [
    ("name: a\npartners:\n- name: b\n  sector: police\n", {"name": "a", "partners": [{"name": "b", "sector": "police"}]}),
    ("# c\n---\nname: 'it''s'  # c\nn: \"x: y\"\nx: []\ny: {}\nz:\nw: ~\n",
     {"name": "it's", "n": "x: y", "x": [], "y": {}, "z": None, "w": None}),
    ("a: yes\nb: 1.5\nc: 2026-02-01\nd: 007a\ne: -3\nf: a #b\ng: a#b\n",
     {"a": True, "b": 1.5, "c": datetime.date(2026, 2, 1), "d": "007a", "e": -3, "f": "a", "g": "a#b"}),
    ("focus: [rural,  crime_prevention ]  # c\nx:\n  y: [members' levies, -1, yes]\n",
     {"focus": ["rural", "crime_prevention"], "x": {"y": ["members' levies", -1, True]}}),
    # a flow list's column is measured on its line: in a sequence's item, after a [] and a comment, on the only line
    ("# [a, b]\nx: []\np:\n-   name: a\n    focus:   [b,c]\n- k: [ d ]\n",
     {"x": [], "p": [{"name": "a", "focus": ["b", "c"]}, {"k": ["d"]}]}),
    ("focus: [a, b]", {"focus": ["a", "b"]}),
])
def test_the_block_road_reads_these(text, data, monkeypatch):
    got = yamlio._block_document(text, "x")
    assert got is not None and _same(got.data, data)
    assert got.marks == _without_block_road(text, monkeypatch)[0].marks


@pytest.mark.parametrize("text", [
    "a: b\n  c\n",  # a plain scalar over two lines
    "a: [x, , y]\n",  # a flow list with an empty item
    "a: [x, y\n",  # a flow list not closed on its line
    "a: [x: 1]\n",  # a flow list holding a mapping
    "a: ['x, y']\n",  # a flow list holding a quoted scalar
    "a: >-\n  text\n",  # a block scalar
    "a: &x 1\nb: *x\n",  # an anchor and an alias
    "a: !!str 1\n",  # a tag
    "a: 1\na: 2\n",  # a duplicate key
    "a:\tb\n",  # a tab
    "a: 1\r\nb: 2\r\n",  # carriage returns
    "a: 1\n---\nb: 2\n",  # two documents
    "a: 0x1F\n",  # a number in another base
    "a: 2026-02-30\n",  # a date not in the calendar
    "a: b: c\n",  # a colon in a value
    "- a\n- b\n",  # a list, not a mapping
    "a: \"\\u00e9\"\n",  # an escape
    "<<: {a: 1}\n",  # a merge key
])
def test_the_block_road_leaves_everything_else_to_the_parser(text):
    assert yamlio._block_document(text, "x") is None


def test_the_ascii_shortcut_leaves_the_same_characters_to_the_parser_as_the_full_class():
    """_outside_block checks an ASCII text with a small class (the full one is compiled only for other texts):
    both must send the same texts to the parser."""
    full = yamlio._not_block()
    codes = list(range(0x300)) + [0x85, 0x2028, 0x2029, 0xD7FF, 0xE000, 0xFEFF, 0xFFFE, 0xFFFF, 0x1F600]
    for code in codes:
        for text in (chr(code), f"name: a{chr(code)}b\n", f"x\n{chr(code)}"):
            assert yamlio._outside_block(text) == (full.search(text) is not None), (hex(code), text)
