"""Near misses: how far apart two names are, and which known name a mistyped one meant."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`
    (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            row.append(cost)
        previous2, previous = previous, row
    return previous[-1]


def closest(name: str, known: Iterable[str], most: int) -> str | None:
    """The known name nearest to `name`, if it is at most `most` edits away; of equally near
    ones, the one that shares the longest start with it (`ord` is `order`, not `wrt`)."""
    best, best_key = None, None
    for candidate in known:
        key = (edit_distance(name, candidate), -len(_common_start(name, candidate)))
        if key[0] <= most and (best_key is None or key < best_key):
            best, best_key = candidate, key
    return best


def _common_start(a: str, b: str) -> str:
    import os.path

    return os.path.commonprefix([a, b])
