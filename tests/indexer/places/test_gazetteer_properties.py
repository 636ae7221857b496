"""Property tests of place finding: it never raises, and never finds a place inside another place's name."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis.normalize import nfkc
from indexer.places.mentions import find_mentions
from indexer.places.subjects import resolve_chunks

PAD = st.text(alphabet="abcXYZ0123456789 ,.!?()-『』「」。、", max_size=12)
PROPS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def names(gazetteer) -> list[str]:
    return sorted({p.name for p in gazetteer})


@PROPS
@given(text=st.text(max_size=200))
def test_find_mentions_never_raises_and_stays_inside_the_text(gazetteer, text):
    text = nfkc(text)
    mentions = find_mentions(text, gazetteer)
    spans = [(m.start, m.end) for m in mentions]
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans  # in order, never overlapping


@PROPS
@given(data=st.data(), before=PAD, after=PAD)
def test_no_place_is_found_inside_another_name(gazetteer, names, data, before, after):
    name = data.draw(st.sampled_from(names))
    text = nfkc(f"{before}{name}{after}では窓口を改善した。")
    start = text.index(name)
    end = start + len(name)
    for m in find_mentions(text, gazetteer):
        assert m.end <= start or m.start >= end or (m.start <= start and m.end >= end), (
            name,
            text,
            m,
        )


@PROPS
@given(chunks=st.lists(st.text(max_size=80), max_size=4), context=st.text(max_size=120))
def test_resolving_chunks_never_raises(gazetteer, chunks, context):
    found = resolve_chunks(
        [(nfkc(c), str(i)) for i, c in enumerate(chunks)], gazetteer, nfkc(context)
    )
    assert len(found) == len(chunks)
