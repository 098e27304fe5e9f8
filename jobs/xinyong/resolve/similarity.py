"""Name similarity for fuzzy linking: pure functions over rapidfuzz, vectorised for Arrow UDFs.

Scores are 0-100. A candidate pair compares both the normalised names and their cores
(names.core_name: the 字号 and industry without places and organisation form), because a
short form (华丰科技) equals the core of the full name (沈阳华丰科技有限公司) while an
ordinary variant is closer on the whole name.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import Indel

# A short form that is the start of the other core (华丰 for 华丰科技) is nearly as good as
# equality; the ambiguity margin of the linker decides when two enterprises share it.
PREFIX_SCORE = 90.0


def name_score(q_norm: str | None, q_core: str | None, c_norm: str | None, c_core: str | None) -> float:
    """Similarity of a query name to a candidate name (normalised forms and cores)."""
    best = 0.0
    if q_norm and c_norm:
        best = 100.0 * Indel.normalized_similarity(q_norm, c_norm)
    if q_core and c_core:
        best = max(best, 100.0 * Indel.normalized_similarity(q_core, c_core))
        if len(q_core) >= 2 and c_core.startswith(q_core):
            best = max(best, PREFIX_SCORE)
    return round(best, 2)


def name_scores(q_norm: Iterable[str | None], q_core: Iterable[str | None],
                c_norm: Iterable[str | None], c_core: Iterable[str | None]) -> list[float]:
    return [name_score(*row) for row in zip(q_norm, q_core, c_norm, c_core, strict=True)]
