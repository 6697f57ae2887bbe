"""In-memory fuzzy index over a workspace's ownership directory.

Building it costs a full read of the directory, so it is cached per workspace and rebuilt only
when the workspace's directory version moves (every write bumps it, on any replica).

A query is answered without scanning every key, and without walking every area that shares one of
its words: exact keys are a dict lookup; other queries match their words against the directory's
vocabulary (exact, prefix, one typo, words run together, then a fuzzy look over words of about
the same length) and gather candidates from an inverted index of words, rare words counting most.
A word shared by many areas only adds its first few areas (each word's best, kept at build time)
and re-weighs the candidates the other words found, so its cost does not grow with how many
areas share it. The candidates then get the precise rapidfuzz scores. Small directories also get
a full fuzzy scan of every key, which is cheap below a thousand keys.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

CONFIDENT = 88.0
PLAUSIBLE = 60.0
MARGIN = 8.0
# Below this nothing is worth offering even as a "closest name".
CLOSEST = 40.0
# A description matching the query as well as a name would counts this much of a name's score.
DESCRIPTION_SCORE = 0.8
_TOKEN = re.compile(r"[a-z0-9]+")
_FILLER = re.compile(r"^(the|a|an|our|my)\s+|\s+(area|team|service|feature)$")
# Longer queries are cut here (a name is at most 200 characters), and only this many words count.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
# Below this many keys every key is also scanned (QRatio, partial_ratio) for each query: a few
# milliseconds at most, and it catches what word matching cannot.
SCAN_ALL_KEYS = 1000
# How many areas, best word matches first, get the precise (and costlier) scores.
WORD_CANDIDATES = 24
# A query word whose matching directory words are shared by more areas than this is "common": it
# contributes its words' first areas and re-weighs the others' candidates, instead of adding all.
COMMON_WORD_AREAS = 256
# Two common words and no rare one: their areas in common, up to this many, join the candidates.
COMMON_OVERLAP = 4 * WORD_CANDIDATES
# A word in a name, slug or alias says more about an area than one in its description.
KEY_WORD_WEIGHT = 1.0
DESCRIPTION_WORD_WEIGHT = 0.5
# A prefix ("exp" → "exports") or a one-letter slip ("exprots") counts a little less than the word,
# and a word found only by the fuzzy look ("bilings" → "billing") less again.
NEAR_WORD_WEIGHT = 0.8
FUZZY_WORD_WEIGHT = 0.6
FUZZY_WORD_SCORE = 75.0
FUZZY_WORDS = 3
FUZZY_LENGTH_SLACK = 2
PREFIX_WORDS = 20
# Typo matching and the fuzzy look apply to words at least this long (not to "17" or "api").
TYPO_WORD_LENGTH = 4


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
    """Lower case, punctuation as spaces, one space between words ("Billing (EU)" and
    "billing-eu" read alike), leading and trailing filler words dropped."""
    text = " ".join(utils.default_process(query).split())
    return _FILLER.sub("", text).strip()


@dataclass
class AreaIndex:
    areas: dict[int, IndexedArea] = field(default_factory=dict)
    exact: dict[str, set[int]] = field(default_factory=dict)
    # Every distinct normalized key of every area, for the full scan.
    key_texts: list[str] = field(default_factory=list)
    key_owners: list[int] = field(default_factory=list)
    # Normalized keys and processed description per area, so a query normalizes only itself.
    area_keys: dict[int, tuple[str, ...]] = field(default_factory=dict)
    descriptions: dict[int, str] = field(default_factory=dict)
    # Each area's place in name order: equally good matches are offered in that order.
    rank: dict[int, int] = field(default_factory=dict)
    # word → {area id: field weight}, areas in name order; and how rare each word is.
    postings: dict[str, dict[int, float]] = field(default_factory=dict)
    rarity: dict[str, float] = field(default_factory=dict)
    # For words of more than COMMON_WORD_AREAS areas: the first WORD_CANDIDATES, key words first.
    heads: dict[str, tuple[int, ...]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    # A word with one letter left out → the words it came from (symmetric-delete typo lookup).
    deletions: dict[str, set[str]] = field(default_factory=dict)
    # Words long enough for typos, by length, for the fuzzy look.
    by_length: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, areas: list[IndexedArea]) -> AreaIndex:
        index = cls()
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        # In name order, so that equally good word matches keep the order the final ranking uses.
        for area in sorted(areas, key=lambda a: (a.name, a.id)):
            index.rank[area.id] = len(index.rank)
            index.areas[area.id] = area
            keys = tuple(dict.fromkeys(key for key in map(normalize, area.keys) if key))
            index.area_keys[area.id] = keys
            for key in keys:
                index.exact.setdefault(key, set()).add(area.id)
                index.key_texts.append(key)
                index.key_owners.append(area.id)
                for word in _TOKEN.findall(key):
                    postings[word][area.id] = KEY_WORD_WEIGHT
            description = utils.default_process(area.description) if area.description else ""
            index.descriptions[area.id] = description
            for word in _TOKEN.findall(description):
                if len(word) >= 3:
                    postings[word].setdefault(area.id, DESCRIPTION_WORD_WEIGHT)
        index.postings = dict(postings)
        size = max(len(areas), 1)
        index.rarity = {word: math.log(1 + size / len(hits)) for word, hits in postings.items()}
        for word, hits in postings.items():
            if len(hits) > COMMON_WORD_AREAS:
                keyed = (area_id for area_id, weight in hits.items() if weight == KEY_WORD_WEIGHT)
                described = (area_id for area_id, weight in hits.items() if weight != KEY_WORD_WEIGHT)
                index.heads[word] = tuple(islice((*keyed, *described), WORD_CANDIDATES))
        index.vocabulary = sorted(postings)
        deletions: dict[str, set[str]] = defaultdict(set)
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in index.vocabulary:
            # Numbers ("17", "2024") are matched exactly or as a prefix, never as a typo.
            if len(word) >= TYPO_WORD_LENGTH and not word.isdigit():
                by_length[len(word)].append(word)
                for i in range(len(word)):
                    deletions[word[:i] + word[i + 1 :]].add(word)
        index.deletions = dict(deletions)
        index.by_length = dict(by_length)
        return index

    def search(self, query: str, *, limit: int = 3) -> SearchResult:
        """Best matches for `query` over names, slugs, aliases and descriptions."""
        text = normalize(query[:MAX_QUERY_CHARS])
        if not text:
            return SearchResult(MatchKind.NONE, [])
        exact_ids = self.exact.get(text) or self.exact.get(text.replace(" ", "-"))
        if exact_ids and len(exact_ids) == 1:
            (area_id,) = exact_ids
            return SearchResult(MatchKind.CONFIDENT, [self._match(area_id, 100.0)])

        scores = self._score(text, self._candidates(text))
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
        return SearchResult(MatchKind.NONE, [m for m in matches[:limit] if m.score >= CLOSEST])

    def _candidates(self, text: str) -> set[int]:
        """Areas worth scoring precisely: the best word matches, plus a full scan when cheap."""
        weights = self._word_weights(text)

        def best_first(area_id: int) -> tuple[float, int]:
            return -weights[area_id], self.rank[area_id]

        # The same choice either way; a heap pays only over many more areas than it keeps.
        if len(weights) <= 4 * WORD_CANDIDATES:
            found = set(sorted(weights, key=best_first)[:WORD_CANDIDATES])
        else:
            found = set(heapq.nsmallest(WORD_CANDIDATES, weights, key=best_first))
        if len(self.key_texts) <= SCAN_ALL_KEYS:
            shortlist = process.extract(
                text, self.key_texts, scorer=fuzz.QRatio, processor=None, limit=40, score_cutoff=40
            )
            found |= {self.key_owners[i] for _, _, i in shortlist}
            if len(text) >= 4:
                prefix_hits = process.extract(
                    text, self.key_texts, scorer=fuzz.partial_ratio, processor=None, limit=10, score_cutoff=90
                )
                found |= {self.key_owners[i] for _, _, i in prefix_hits}
        return found

    def _query_words(self, text: str) -> list[dict[str, float]]:
        """Per query word, the directory words it stands for and how closely (1.0: the word itself)."""
        matched = []
        for query_word in islice(dict.fromkeys(_TOKEN.findall(text)), MAX_QUERY_WORDS):
            near = self._near_words(query_word)
            if near:
                matched.append(near)
                continue
            pieces = self._split_run_together(query_word)
            if pieces:
                matched.extend({piece: 1.0} for piece in pieces)
                continue
            fuzzy = self._fuzzy_words(query_word)
            if fuzzy:
                matched.append(fuzzy)
        return matched

    def _word_weights(self, text: str) -> dict[int, float]:
        """Per candidate area, how well the query's words match its words, rare words counting most."""
        groups = [(sum(len(self.postings[word]) for word in near), near) for near in self._query_words(text)]
        groups.sort(key=lambda group: group[0])
        total: dict[int, float] = defaultdict(float)
        common: list[dict[str, float]] = []
        for size, near in groups:
            if size > COMMON_WORD_AREAS:
                common.append(near)
                continue
            for area_id, score in self._best_per_area(near).items():
                total[area_id] += score
        if not common:
            return total
        pool = set(total)
        for near in common:
            for word in near:
                pool.update(self.heads.get(word) or islice(self.postings[word], WORD_CANDIDATES))
        if not total and len(common) >= 2:
            # No rare word to narrow it down: the areas the two rarest common words share.
            first, second = (self._areas_of(near) for near in common[:2])
            pool.update(islice(first & second, COMMON_OVERLAP))
        for near in common:
            for area_id, score in self._best_per_area(near, among=pool).items():
                total[area_id] += score
        return total

    def _areas_of(self, near: dict[str, float]) -> AbstractSet[int]:
        if len(near) == 1:
            return self.postings[next(iter(near))].keys()
        return set().union(*(self.postings[word].keys() for word in near))

    def _best_per_area(self, near: dict[str, float], *, among: set[int] | None = None) -> dict[int, float]:
        """Several directory words may match one query word: each area counts its best only.

        With `among`, only those areas are weighed: a common word's postings are looked up for
        them rather than walked whole."""
        best: dict[int, float] = {}
        for word, closeness in near.items():
            factor, hits = closeness * self.rarity[word], self.postings[word]
            weighed = hits.items() if among is None else [(a, hits[a]) for a in among if a in hits]
            for area_id, weight in weighed:
                score = factor * weight
                if score > best.get(area_id, 0.0):
                    best[area_id] = score
        return best

    def _near_words(self, word: str) -> dict[str, float]:
        """Directory words matching `word` exactly, as a prefix, or but for one typo."""
        near: dict[str, float] = {}
        if word in self.postings:
            near[word] = 1.0
        if len(word) >= 3:
            start = bisect_left(self.vocabulary, word)
            for candidate in self.vocabulary[start : start + PREFIX_WORDS]:
                if not candidate.startswith(word):
                    break
                near.setdefault(candidate, NEAR_WORD_WEIGHT)
        if len(word) >= TYPO_WORD_LENGTH and word not in self.postings and not word.isdigit():
            # Words one deletion, insertion, substitution or swap away share a one-letter deletion.
            shorter = {word[:i] + word[i + 1 :] for i in range(len(word))}
            related = set(self.deletions.get(word, ()))
            for variant in shorter:
                if variant in self.postings:
                    related.add(variant)
                related |= self.deletions.get(variant, set())
            for candidate in related:
                if OSA.distance(word, candidate, score_cutoff=1) <= 1:
                    near.setdefault(candidate, NEAR_WORD_WEIGHT)
        return near

    def _split_run_together(self, word: str) -> list[str]:
        """ "billingreconciliation" → ["billing", "reconciliation"]: directory words, fewest pieces."""
        if len(word) < 2 * TYPO_WORD_LENGTH:
            return []
        # best[i]: the fewest directory words spelling word[:i].
        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 40), end):
                head, piece = best[start], word[start:end]
                if head is not None and len(piece) >= 2 and piece in self.postings:
                    if best[end] is None or len(head) + 1 < len(best[end] or ()):
                        best[end] = [*head, piece]
        pieces = best[-1]
        return pieces if pieces and len(pieces) > 1 else []

    def _fuzzy_words(self, word: str) -> dict[str, float]:
        """Directory words of about the same length that look like `word` ("bilings" → "billing")."""
        if len(word) < TYPO_WORD_LENGTH or word.isdigit():
            return {}
        pool = [
            candidate
            for length in range(len(word) - FUZZY_LENGTH_SLACK, len(word) + FUZZY_LENGTH_SLACK + 1)
            for candidate in self.by_length.get(length, ())
        ]
        hits = process.extract(
            word, pool, scorer=fuzz.ratio, processor=None, limit=FUZZY_WORDS, score_cutoff=FUZZY_WORD_SCORE
        )
        return {candidate: FUZZY_WORD_WEIGHT * score / 100 for candidate, score, _ in hits}

    def _score(self, text: str, candidates: set[int]) -> dict[int, float]:
        """Each candidate's best score over its keys and (discounted) its description.

        A score below CLOSEST is never shown nor decides a margin (a confident best is at least
        CONFIDENT), so it counts as 0; and a description, at most DESCRIPTION_SCORE of a key, is
        scored only for the areas whose keys scored below what it could reach.
        """
        # Every candidate's keys and descriptions scored in one call each: a call per key from
        # Python costs as much again as the scoring itself.
        ids = list(candidates)
        owners = [area_id for area_id in ids for _ in self.area_keys[area_id]]
        keys = [key for area_id in ids for key in self.area_keys[area_id]]
        scores = dict.fromkeys(ids, 0.0)
        for _, score, i in process.extract(
            text, keys, scorer=fuzz.WRatio, processor=None, limit=None, score_cutoff=CLOSEST
        ):
            if score > scores[owners[i]]:
                scores[owners[i]] = score
        ceiling = 100 * DESCRIPTION_SCORE
        described = [area_id for area_id in ids if self.descriptions[area_id] and scores[area_id] < ceiling]
        if not described:
            return scores
        descriptions = [self.descriptions[area_id] for area_id in described]
        floor = max(CLOSEST, min(scores[area_id] for area_id in described)) / DESCRIPTION_SCORE
        for _, score, i in process.extract(
            text, descriptions, scorer=fuzz.token_set_ratio, processor=None, limit=None, score_cutoff=floor
        ):
            if score * DESCRIPTION_SCORE > scores[described[i]]:
                scores[described[i]] = score * DESCRIPTION_SCORE
        return scores

    def _match(self, area_id: int, score: float) -> Match:
        area = self.areas[area_id]
        return Match(area_id=area.id, slug=area.slug, name=area.name, score=score)
