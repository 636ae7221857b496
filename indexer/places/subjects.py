"""Whose passage it is: a place named as the subject or in passing, and the subjects of an article's passages
(headings, items, sections, the writing government, 本市/同市 inherited)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from indexer.places.gazetteer import Gazetteer, Place
from indexer.places.mentions import (
    ITEM_MARKS,
    ROLES,
    Mention,
    find_mentions,
    named_prefectures,
    unique,
)

_RANK = {role: rank for rank, role in enumerate(ROLES)}
_ANY_PAREN_RE = re.compile(r"\s?[(（][^()（）\n]{0,24}[)）]")
_TOPIC_RE = re.compile(r"(?:長|役所|当局)?(?:では|でも|において|は|が|も)")
_HEAD_RE = re.compile(
    rf"[\s{re.escape(ITEM_MARKS)}]*(?:[\[【<〈《][^\]】>〉》\n]{{1,12}}[\]】>〉》]\s*)?"
)
_HEAD_PREFIX_RE = re.compile(r"(?:[一-龥]{1,3}[都道府県])?\s?の?")
_SELF_REFERENCE_RE = re.compile(
    r"(?<![一-龥々])(?P<by>本|当|同|我が|わが)(?P<unit>[市町村区県府都道])(?![場通])"
)
_PARTNER_WORDS = (
    "主催",
    "共催",
    "連携",
    "協力",
    "協定",
    "参考",
    "事例",
    "推進する",
    "進める",
    "支援",
    "など",
    "等",
    "ほか",
)
_PREFECTURE_ROLE_WORDS = (  # a prefecture that funds or reports a case, not the one that did it
    "補助",
    "助成",
    "交付金",
    "によると",
    "によれば",
    "の調べ",
)
_LOCATOR_RE = re.compile(  # 群馬県の3市町村 / 大分県内の市町村 / 県下の各自治体: where the actors are, not an actor
    r"(?:内|下|域内)?の?(?:[0-9]+|[一二三四五六七八九十]+|各|全|すべての|全ての|多くの|一部の)?"
    r"(?:市区町村|区市町村|市町村|市町|自治体)"
)
_CLAUSE_CHARS = 12  # how far after a name a partner word may stand (within its clause)
_LIST_JOINERS = ("・", "、", "や", "と", "及び", "及び、", "および")
_HEAD_LINE_CHARS = 60
_ARTICLE_HEAD_LINES = 2


def _line_heads(text: str) -> Iterable[int]:
    """Where each item line (■…) or heading-like line (short, no 。) starts its content."""
    offset = 0
    for line in text.split("\n"):
        marked = line.lstrip()[:1] in ITEM_MARKS and line.strip() != ""
        if marked or (line.strip() and len(line) <= _HEAD_LINE_CHARS and "。" not in line):
            head = _HEAD_RE.match(line)
            assert head is not None  # every part of the pattern is optional: it always matches
            yield offset + head.end()
        offset += len(line) + 1


def _at_head(text: str, mention: Mention, heads: set[int]) -> bool:
    line_start = text.rfind("\n", 0, mention.start) + 1
    head = next((h for h in heads if line_start <= h <= mention.start), None)
    return head is not None and _HEAD_PREFIX_RE.fullmatch(text, head, mention.start) is not None


def _is_topic(text: str, mention: Mention) -> bool:
    """X市は / X市では / X市(東京都)では / X市が / X市も / X市長は: the place is what the sentence is about."""
    paren = _ANY_PAREN_RE.match(text, mention.end)
    return _TOPIC_RE.match(text, paren.end() if paren else mention.end) is not None


def _is_partner(text: str, mention: Mention) -> bool:
    """京都府及び所管課と連携し / 宇佐市の事例を参考に / 県が主催する / 武蔵野市など: named as a partner, a source
    or an example, in the clause right after the name (up to the next 、 or 。). A prefecture also when it funds
    or reports (大分県の補助を受け / 福岡県によると / 県の調べ) or only locates the actors (群馬県の3市町村が / 県内の市町村)."""
    paren = _ANY_PAREN_RE.match(text, mention.end)
    after = paren.end() if paren else mention.end
    clause = re.split(r"[、。\n]", text[after : after + _CLAUSE_CHARS], maxsplit=1)[0]
    if mention.place.level == "prefecture" and (
        any(word in clause for word in _PREFECTURE_ROLE_WORDS) or _LOCATOR_RE.match(text, after)
    ):
        return True
    return any(word in clause for word in _PARTNER_WORDS)


def _partners(text: str, mentions: Sequence[Mention]) -> set[int]:
    """Where names given as partners start; a list (宇佐市、別府市など) shares the status of its last name."""
    found: set[int] = set()
    chain: list[Mention] = []
    for mention in sorted((m for m in mentions if m.start >= 0), key=lambda m: m.start):
        if not (chain and text[chain[-1].end : mention.start] in _LIST_JOINERS):
            chain = []
        chain.append(mention)
        if _is_partner(text, mention):
            found.update(m.start for m in chain)
    return found


def _chained(text: str, mentions: Sequence[Mention], subjects: set[str]) -> set[str]:
    """渋川市・吉岡町・榛東村は: names joined by ・ share the role of any of them."""
    chain: list[Mention] = []
    grown = set(subjects)
    for mention in sorted((m for m in mentions if m.start >= 0), key=lambda m: m.start):
        if not (chain and text[chain[-1].end : mention.start] == "・"):
            chain = []
        chain.append(mention)
        if any(m.place.code in grown for m in chain):
            grown.update(m.place.code for m in chain)
    return grown


def subject_of(text: str, mentions: Sequence[Mention], fallback: bool = True) -> list[Place]:
    """The places `text` is about, in order of first appearance.

    1. a name at the head of an item or heading line (■宇佐市、… / [自治体] 長崎市、… / 新潟県三条市 市長), after
       an optional prefecture; 2. a name that is the topic or actor (X市は, X市では, X市(東京都)では, X市が, X市も);
    names joined to one of those by ・ (渋川市・吉岡町は) too; 3. failing all (and with `fallback`), the only
    municipality named, or the only prefecture when no municipality is named. A name given as a partner, source
    or example (…と連携, …を参考, …が主催, …など) is never the subject; every other name is a passing mention.
    """
    heads = set(_line_heads(text))
    partners = _partners(text, mentions)
    mentions = [m for m in mentions if m.start not in partners]
    found = {
        m.place.code
        for m in mentions
        if m.start >= 0 and (_at_head(text, m, heads) or _is_topic(text, m))
    }
    if found:
        codes = _chained(text, mentions, found)
        return _unique_places(m.place for m in mentions if m.place.code in codes)
    if not fallback:
        return []
    places = _unique_places(m.place for m in mentions)
    municipalities = [p for p in places if p.level == "municipality"]
    return municipalities if len(municipalities) == 1 else places if len(places) == 1 else []


def _unique_places(places: Iterable[Place]) -> list[Place]:
    return list({p.code: p for p in places}.values())


def _strongest(mentions: Iterable[Mention]) -> list[Mention]:
    """One mention per place: its first position and its strongest role."""
    best: dict[str, Mention] = {}
    for m in mentions:
        kept = best.get(m.place.code)
        if kept is None:
            best[m.place.code] = m
        elif _RANK[m.role] < _RANK[kept.role]:
            best[m.place.code] = Mention(m.place, kept.start, kept.end, m.role)
    return sorted(best.values(), key=lambda m: (m.start, m.end))


def extract(
    text: str, gazetteer: Gazetteer, context_prefectures: Sequence[str] = (), fallback: bool = True
) -> list[Mention]:
    """The places of a passage, one mention each, role "subject" or "mention" (see `subject_of`)."""
    mentions = find_mentions(text, gazetteer, context_prefectures)
    subjects = {p.code for p in subject_of(text, mentions, fallback)}
    return _strongest(
        Mention(m.place, m.start, m.end, "subject" if m.place.code in subjects else "mention")
        for m in mentions
    )


def in_own_case(mentions: list[Mention], case: Sequence[Place]) -> list[Mention]:
    """A prefecture where one of its own municipalities is the case: when the chunk's section or item is about
    municipalities (its heading or item line names them: 群馬県渋川市・吉岡町・榛東村【…】) and the chunk has no
    municipality of its own as subject, a prefecture it names as subject (群馬県情報化推進協議会の事業を活用して)
    funds, hosts or locates that case: it becomes a mention, and the chunk takes the case's municipalities of that
    prefecture (inherited), as `search.ranking.role_in` reads a prefecture beside its own municipality."""
    if any(m.role == "subject" and m.place.level == "municipality" for m in mentions):
        return mentions
    acting = {
        m.place.code for m in mentions if m.role != "mention" and m.place.level == "prefecture"
    }
    named = {m.place.prefecture for m in mentions if m.place.code in acting}
    own = [p for p in case if p.level == "municipality" and p.prefecture in named]
    if not own:
        return mentions
    within = {p.prefecture for p in own}
    return [
        *(
            Mention(m.place, m.start, m.end, "mention")
            if m.place.code in acting and m.place.prefecture in within
            else m
            for m in mentions
        ),
        *(m for m in inherit(own) if m.place.code not in {n.place.code for n in mentions}),
    ]


def inherit(parent_subjects: Sequence[Place]) -> list[Mention]:
    """The subjects of an enclosing section or article, for a passage that names no place itself."""
    return [Mention(p, -1, -1, "inherited") for p in _unique_places(parent_subjects)]


# --- chunks of one article ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Article:
    """An article's context: the prefectures it names, its head subject, its lines and their subjects."""

    prefectures: tuple[str, ...]
    subjects: tuple[Place, ...]
    lines: tuple[tuple[int, str], ...]  # (start, text) of every non-blank line
    line_subjects: dict[int, tuple[Place, ...]]  # line start → subjects, lines with a subject


def _lines(text: str) -> Iterable[tuple[int, str]]:
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            yield offset, line
        offset += len(line) + 1


def _article(text: str, gazetteer: Gazetteer) -> _Article:
    """The article's context; its subject is the most named subject of its title and first line (not an item)."""
    prefectures = tuple(named_prefectures(text, gazetteer))
    lines = tuple(_lines(text))
    line_subjects = {
        start: subjects
        for start, line in lines
        if (
            subjects := tuple(
                m.place for m in extract(line, gazetteer, prefectures) if m.role == "subject"
            )
        )
    }
    head = [
        p
        for start, line in lines[:_ARTICLE_HEAD_LINES]
        if not _opens_item(line)
        for p in line_subjects.get(start, ())
    ]
    counts = Counter(m.place.code for m in find_mentions(text, gazetteer, prefectures))
    dominant = max(_unique_places(head), key=lambda p: counts[p.code], default=None)
    return _Article(prefectures, (dominant,) if dominant else (), lines, line_subjects)


def _heading_subjects(article: _Article, position: int) -> list[Place]:
    """Subjects of the heading-like line right before `position` (a section's heading: 千葉県船橋市【…】)."""
    before = [(start, line) for start, line in article.lines if start + len(line) <= position]
    if position < 0 or not before:
        return []
    start, line = before[-1]
    heading = len(line) <= _HEAD_LINE_CHARS and "。" not in line
    return list(article.line_subjects.get(start, ())) if heading else []


def _opens_item(text: str) -> bool:
    first = text.lstrip()[:1]
    return first != "" and first in ITEM_MARKS + "[【"


def _opening_subjects(mentions: Sequence[Mention], text: str) -> list[Place]:
    """Subjects named on a chunk's first line: what the item it opens is about."""
    first_line = text.find("\n") % (len(text) + 1)
    return [m.place for m in mentions if m.role == "subject" and 0 <= m.start < first_line]


def _item_subjects(openers: Sequence[list[Place] | None]) -> Iterable[list[Place]]:
    """In a list of items, a chunk that opens no item (None) continues the latest item: ■宇佐市、… split in two."""
    current: list[Place] = []
    for opener in openers:
        current = opener if opener is not None else current
        yield current


def _section_subjects(
    found: Sequence[list[Mention]], texts: Sequence[str], heading: list[Place]
) -> list[list[Place]]:
    """What each chunk of a section may inherit: the subjects of the section's heading; else, in a list of
    items (a chunk opens with ■, ●, [ …), those of the item the chunk continues; else, in prose, the subjects
    all its chunks agree on."""
    if heading:
        return [heading] * len(texts)
    if any(_opens_item(text) for text in texts):
        return list(
            _item_subjects(
                [_opening_subjects(m, t) if _opens_item(t) else None for m, t in zip(found, texts)]
            )
        )
    per_chunk = [[m.place for m in mentions if m.role == "subject"] for mentions in found]
    distinct = {tuple(p.code for p in subjects): subjects for subjects in per_chunk if subjects}
    return [next(iter(distinct.values())) if len(distinct) == 1 else []] * len(texts)


def _level(unit: str) -> str:
    """The level a self-reference speaks of: 本県/本府/本都/本道 a prefecture, 本市/当町/本村/本区 a municipality."""
    return "prefecture" if unit in "県府都道" else "municipality"


def _own_levels(text: str) -> set[str]:
    """The levels the text speaks as (本市/当町/本県…); 同市 points back at a place named before, not at the writer."""
    return {_level(m["unit"]) for m in _SELF_REFERENCE_RE.finditer(text) if m["by"] != "同"}


def _preceding_subject(article: _Article, position: int, unit: str) -> list[Place]:
    """本市/当町/同市 …: the latest subject of that level in the lines before `position`."""
    level = _level(unit)
    for start, _ in reversed(article.lines):
        match = [p for p in article.line_subjects.get(start, ()) if p.level == level]
        if start < position and match:
            return match[:1]
    return []


def _positions(texts: Sequence[str], article_text: str) -> list[int]:
    """Where each chunk lies in the article (-1 when not found), searching forward from the previous one."""
    cursor, found = 0, []
    for text in texts:
        at = article_text.find(text, cursor)
        at = article_text.find(text) if at < 0 else at
        found.append(at)
        cursor = at + 1 if at >= 0 else cursor
    return found


def _sections(chunks: Sequence[tuple[str, str | None]]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, (_, key) in enumerate(chunks):
        if key is not None:
            groups.setdefault(key, []).append(i)
    return groups


def _inherited(
    text: str, section: list[Place], article: _Article, position: int, writer: Place | None
) -> list[Mention]:
    if section:
        return inherit(section)
    if writer is not None:
        return inherit([writer])
    reference = _SELF_REFERENCE_RE.search(text)
    carried = (
        _preceding_subject(article, position, reference["unit"])
        if reference and position >= 0
        else []
    )
    return inherit(carried or list(article.subjects))


def writer_of(
    source: str, article_subjects: Sequence[Place], article_text: str, gazetteer: Gazetteer
) -> Place | None:
    """The government an article is written by: the one its source names (向日市役所, 鳥取県日南町; a municipality
    before its prefecture), else the subject of its title and first line, provided the text speaks as that
    government (本市/当町/本村 for a municipality, 本県/本道 for a prefecture). A case list titled 東京都 that
    never says 本都 has no writer: its passages stay about the municipalities they name."""
    places = _unique_places(m.place for m in find_mentions(source, gazetteer)) if source else []
    named = [p for p in places if p.level == "municipality"] or places
    candidate = named[0] if len(named) == 1 else (article_subjects[0] if article_subjects else None)
    return (
        candidate
        if candidate is not None and candidate.level in _own_levels(article_text)
        else None
    )


def _with_writer(mentions: list[Mention], text: str, writer: Place) -> list[Mention]:
    """A passage of the writer's article stays about the writer unless it is about another place: with no
    subject of its own it takes the writer (named there: subject; else inherited), and 本市/当町/本県 of the
    writer's level adds the writer beside the passage's other subjects."""
    about = [m for m in mentions if m.role != "mention"]
    if any(m.place.code == writer.code for m in about):
        return mentions
    if about and writer.level not in _own_levels(text):
        return mentions
    named = next((m for m in mentions if m.place.code == writer.code), None)
    if named is not None:
        return [Mention(m.place, m.start, m.end, "subject") if m is named else m for m in mentions]
    return [*mentions, *inherit([writer])]


def resolve_chunks(
    chunks: Sequence[tuple[str, str | None]],
    gazetteer: Gazetteer,
    article_text: str,
    source: str = "",
) -> list[list[Mention]]:
    """Places of every chunk (NFKC text, section key) of one article (NFKC, title first), in chunk order.

    Context prefectures of a chunk: those it names, then its section's, then the article's. A chunk naming
    no place inherits its section's subject (see `_section_subjects`); failing that, a chunk that says
    本市/当市/同市/本町… inherits the latest subject before it in the article (a talk by 三条市's mayor), and
    any other the article's subject: the most named subject of its title and first line (an item line ■… is
    no title). Otherwise it has no place.

    A chunk whose section or item is about municipalities and that has none of its own as subject reads a
    prefecture it names as their context (`in_own_case`): the municipalities that did the work lead.

    An article with a writer (`writer_of`: named by `source` (NFKC), else its subject) is read as the writer's
    own text: a place named only in passing no longer becomes a passage's subject by being the only one named,
    本市/当町 mean the writer, and a passage with no subject of its own is the writer's (`_with_writer`).
    """
    article = _article(article_text, gazetteer)
    writer = writer_of(source, article.subjects, article_text, gazetteer)
    sections = _sections(chunks)
    positions = _positions([text for text, _ in chunks], article_text)
    context: dict[str | None, list[str]] = {  # a chunk outside any section has key None
        key: unique(
            [
                *named_prefectures("\n".join(chunks[i][0] for i in members), gazetteer),
                *article.prefectures,
            ]
        )
        for key, members in sections.items()
    }
    found = [
        extract(text, gazetteer, context.get(key, article.prefectures), writer is None)
        for text, key in chunks
    ]
    inherited: dict[int, list[Place]] = {}
    for members in sections.values():
        heading = _heading_subjects(article, positions[members[0]])
        shares = _section_subjects(
            [found[i] for i in members], [chunks[i][0] for i in members], heading
        )
        inherited.update(zip(members, shares))
    found = [in_own_case(mentions, inherited.get(i, [])) for i, mentions in enumerate(found)]
    resolved = [
        mentions or _inherited(text, inherited.get(i, []), article, at, writer)
        for i, (mentions, (text, _), at) in enumerate(zip(found, chunks, positions))
    ]
    resolved = _share_self_reference(resolved, found, sections)
    return (
        [_with_writer(m, text, writer) for m, (text, _) in zip(resolved, chunks)]
        if writer
        else resolved
    )


def _share_self_reference(
    resolved: list[list[Mention]], found: Sequence[list[Mention]], sections: dict[str, list[int]]
) -> list[list[Mention]]:
    """In a section that names no place, one chunk's 本市 speaks for the section: its placeless siblings
    inherit the same place (the rest of a mayor's section on 市民の楽ちん化 is still about 三条市)."""
    for members in sections.values():
        if any(found[i] for i in members):
            continue
        shared = {
            tuple(m.place.code for m in resolved[i]): resolved[i] for i in members if resolved[i]
        }
        if len(shared) == 1:
            only = next(iter(shared.values()))
            for i in members:
                resolved[i] = resolved[i] or list(only)
    return resolved
