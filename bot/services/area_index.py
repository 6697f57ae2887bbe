"""In-memory fuzzy index over a workspace's ownership directory.

Building it costs a full read of the directory, so it is cached per workspace and rebuilt only
when the workspace's directory version moves (every write bumps it, on any replica).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz, process, utils

CONFIDENT = 88.0
PLAUSIBLE = 60.0
MARGIN = 8.0
_WORD = re.compile(r"[a-z0-9]{3,}")
_FILLER = re.compile(r"^(the|a|an|our|my)\s+|\s+(area|team|service|feature)$")


class MatchKind(StrEnum):
    CONFIDENT = "confident"
    AMBIGUOUS = "ambiguous"
    NONE = "none"


@dataclass(frozen=True)
class IndexedArea:
    id: int
    slug: str
    name: str
    keys: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Match:
    area_id: int
    slug: str
    name: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    kind: MatchKind
    matches: list[Match]


def normalize(query: str) -> str:
    text = utils.default_process(query)
    return _FILLER.sub("", text).strip()


@dataclass
class AreaIndex:
    areas: dict[int, IndexedArea] = field(default_factory=dict)
    exact: dict[str, set[int]] = field(default_factory=dict)
    key_texts: list[str] = field(default_factory=list)
    key_owners: list[int] = field(default_factory=list)
    words: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, areas: list[IndexedArea]) -> AreaIndex:
        index = cls()
        for area in areas:
            index.areas[area.id] = area
            for key in area.keys:
                normalized = normalize(key)
                if not normalized:
                    continue
                index.exact.setdefault(normalized, set()).add(area.id)
                index.key_texts.append(normalized)
                index.key_owners.append(area.id)
            for word in set(_WORD.findall(utils.default_process(area.description))):
                index.words.setdefault(word, set()).add(area.id)
        return index

    def search(self, query: str, *, limit: int = 3) -> SearchResult:
        """Best matches for `query` over names, slugs, aliases and descriptions."""
        text = normalize(query)
        if not text:
            return SearchResult(MatchKind.NONE, [])
        exact_ids = self.exact.get(text) or self.exact.get(text.replace(" ", "-"))
        if exact_ids and len(exact_ids) == 1:
            (area_id,) = exact_ids
            return SearchResult(MatchKind.CONFIDENT, [self._match(area_id, 100.0)])

        scores = self._score(text)
        for area_id in exact_ids or ():
            scores[area_id] = 100.0
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.areas[item[0]].name))
        matches = [self._match(area_id, score) for area_id, score in ranked[: max(limit, 3)]]
        if not matches:
            return SearchResult(MatchKind.NONE, [])
        best = matches[0].score
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        if best >= CONFIDENT and best - runner_up >= MARGIN:
            return SearchResult(MatchKind.CONFIDENT, matches[:1])
        if best >= PLAUSIBLE:
            return SearchResult(MatchKind.AMBIGUOUS, [m for m in matches[:limit] if m.score >= PLAUSIBLE])
        return SearchResult(MatchKind.NONE, matches[:limit])

    def _score(self, text: str) -> dict[int, float]:
        # QRatio is cheap enough to scan every key; WRatio (which also handles word order and
        # partial matches) re-scores only the shortlist.
        shortlist = process.extract(
            text, self.key_texts, scorer=fuzz.QRatio, processor=None, limit=40, score_cutoff=40
        )
        candidates = {self.key_owners[i] for _, _, i in shortlist}
        for word in _WORD.findall(text):
            owners = self.words.get(word)
            if owners and len(owners) <= 200:
                candidates |= owners
        prefix_hits = (
            process.extract(
                text, self.key_texts, scorer=fuzz.partial_ratio, processor=None, limit=10, score_cutoff=90
            )
            if len(text) >= 4 and len(self.key_texts) <= 5000
            else []
        )
        candidates |= {self.key_owners[i] for _, _, i in prefix_hits}

        scores: dict[int, float] = {}
        for area_id in candidates:
            area = self.areas[area_id]
            best = max((fuzz.WRatio(text, normalize(key), processor=None) for key in area.keys), default=0.0)
            if area.description:
                described = fuzz.token_set_ratio(text, area.description, processor=utils.default_process)
                best = max(best, described * 0.8)
            scores[area_id] = best
        return scores

    def _match(self, area_id: int, score: float) -> Match:
        area = self.areas[area_id]
        return Match(area_id=area.id, slug=area.slug, name=area.name, score=score)
