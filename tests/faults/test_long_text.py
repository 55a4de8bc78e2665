"""A text longer than spaCy's limit (E088) goes through NER in pieces: nothing is dropped and
every entity keeps its offset in the whole text."""

from __future__ import annotations

import pytest

from haia.privacy.detector import _cut, _ner_entities

spacy = pytest.importorskip("spacy")


def test_pieces_cover_the_text_at_word_boundaries() -> None:
    text = ("word " * 50_000) + "tail"
    pieces = _cut(text, size=1000)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[offset:offset + len(p)] == p for offset, p in pieces)
    assert all(p.endswith(" ") for _, p in pieces[:-1])
    unbroken = "x" * 2500
    assert [len(p) for _, p in _cut(unbroken, size=1000)] == [1000, 1000, 500]


def test_long_text_is_processed_past_the_limit() -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Alice"}])
    nlp.max_length = 5_000  # spaCy raises E088 above this
    text = "Seen by Alice today. " * 1_000  # 21,000 characters
    with pytest.raises(ValueError, match="E088"):
        list(nlp.pipe([text]))
    found, short = _ner_entities(nlp, [text, "short Alice"], batch_size=8, disable=[])
    assert len(found) == 1_000  # every occurrence, also those past the model's limit
    assert all(label == "PERSON" and text[a:b] == "Alice" for label, a, b in found)
    assert short == [("PERSON", 6, 11)]
