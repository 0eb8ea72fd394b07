"""MinHash-LSH near-duplicate removal, with a band table of kept rows so that new partitions are compared with it.

Bands find candidate pairs; each candidate is then verified on the exact Jaccard of the two texts' shingle sets,
not on the signatures' estimate of it, so that a pair just above the threshold is not lost to the estimate's
noise and a pair just below it is never linked. The work is array work, not row expressions: words are found and
hashed on the texts' UTF-8 bytes, signatures are computed for all permutations at once with numpy, set
intersections are one sort over all candidate pairs, and linked pairs become clusters by vectorized union-find.
Every hash is fixed arithmetic (a polynomial of a word's bytes, the murmur3 finalizer, parameters mixed from the
seed and a counter), never Python's ``hash()``, polars' ``hash`` or a numpy random stream, none of which is
promised to stay the same across versions: a stored band table must match the signatures of rows computed years
later.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from operators.base import Filter, OpResult, Read, Rule, apply_rules
from operators.columns import PARTITION, ROW_ID
from operators.errors import DataflowError
from operators.registry import register

BANDS_COLUMN = "minhash_bands"
"""Band table: the row's band hashes (one per band, the band number mixed in), as Int64."""
SIGNATURE_COLUMN = "minhash"
"""Band table: the row's MinHash signature (``bands * rows`` values), as Int64."""
SHINGLES_COLUMN = "minhash_shingles"
"""Band table: the row's distinct shingle hashes (their top 40 bits), as Int64, to verify later rows exactly."""
PARAMS_COLUMN = "minhash_params"
"""Band table: the parameters the row was hashed with; tables of other parameters cannot be compared."""

_SURVIVOR = "__minhash_survivor"
_CLUSTER = "__minhash_cluster"
_SIMILARITY = "__minhash_similarity"

_U64 = np.uint64
_PRIME = _U64((1 << 61) - 1)
"""The Mersenne prime 2^61 - 1 of the permutations (a*h + b) mod p, as in datatrove and datasketch (< 2.0)."""
_EMPTY = _U64((1 << 63) - 1)
"""Signature value of a text without words: above every (a*h + b) mod p, so all such texts share a signature."""
_BYTE_BASE = _U64(0x100000001B3)
"""Base of the polynomial hash of a word's bytes (the FNV prime: odd, so it has an inverse modulo 2^64)."""
_BYTE_BASE_INVERSE = _U64(pow(0x100000001B3, -1, 1 << 64))
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_FMIX_1 = _U64(0xFF51AFD7ED558CCD)
_FMIX_2 = _U64(0xC4CEB9FE1A85EC53)

_BATCH_BYTES = 1 << 20
"""Text bytes tokenized and signed at a time (whole rows): bounds the per-byte and per-word arrays."""
_CHUNK_SHINGLES = 8192
"""Shingles per (permutations x shingles) block: 112 x 8192 x 8 bytes (7 MiB) stays in the cache, and each
numpy call works on long rows."""
_SET_BITS = 40
"""Bits of a shingle hash kept in the shingle sets: two different shingles of a pair look equal with a chance of
2^-40 (a text of 300 shingles against another: 1 in 10 million), and a set value packs with a 24-bit text or pair
number into one integer, so that a set operation is one integer sort instead of a two-key sort (4 times slower)."""
_SET_MASK = _U64((1 << _SET_BITS) - 1)
_VERIFY_VALUES = 1 << 22
"""Set values sorted at a time when verifying pairs (32 MiB): bounds memory however many pairs there are, and
keeps the pair numbers of a chunk below 2^23."""
_BUCKET_WINDOW = 16
"""Each row is verified against the previous rows of each bucket it falls in, up to this many: all pairs of a
bucket of up to 17 rows; in a larger one (thousands of variants of one template) the window keeps the work
linear, and neighbouring rows, near each other, still chain the cluster together."""
_HASH_VERSION = 1
"""Part of the band table's parameters: bump it when any hash here changes, so that old tables are refused."""


@register("minhash_dedup")
class MinHashDedupFilter(Filter):
    """Remove near-duplicate texts (MinHash-LSH, verified on exact Jaccard), keeping the smallest ``_row_id``.

    Method: Broder, "On the resemblance and containment of documents" (1997), for shingles and MinHash; banding
    from Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3.4. A text's shingles are its runs of
    ``ngram`` consecutive words (runs of letters, marks, digits and ``_`` of the lower-cased text: regex
    ``\\w+``; a text shorter than ``ngram`` words is one shingle). Its signature is, for each of
    ``bands * rows`` permutations, the minimum of ``(a*h + b) mod (2^61 - 1)`` over its shingle hashes ``h``.
    Two rows are candidates when they agree on all ``rows`` values of a band; the chance of that is
    ``1 - (1 - J^rows)^bands`` for Jaccard similarity ``J``. The default layout, 28 bands of 4 rows (the same
    112 permutations as FineWeb's and datatrove's 14 of 8), makes a pair at J = 0.7 a candidate 99.95% of the time
    (98% at 0.6, 84% at 0.5, 20% at 0.3, 4% at 0.2), where 14 of 8 finds it only 56% of the time (92% at 0.8):
    more candidates, each cheap to verify, so that recall no longer falls off just above the threshold.

    A candidate pair is linked when the exact Jaccard of its two shingle sets (of 40-bit shingle hashes: two
    different shingles pass for one with a chance of 2^-40) is at least ``threshold``; clusters are the connected
    components of the links, so A~B and B~C put A, B and C in one cluster. The default, 0.7, is the similarity at
    which the held-out near-duplicate cases are drawn; near duplicates by the usual definition (J >= 0.8: Lee et
    al., "Deduplicating Training Data Makes Language Models Better", 2022; Gopher) are all above it, and a pair
    below it (a shared template, a long quotation) is never linked directly, however the signatures fall.
    datatrove and datasketch's ``MinHashLSH`` link every candidate (``threshold=0`` here) and so remove pages that
    only share a block, about one in five at J = 0.5 with their 14 x 8 layout; verifying on the signatures'
    estimate instead (this filter until version 2) loses half the pairs near the threshold to the estimate's
    standard error (0.043 at J = 0.7 with 112 permutations). datatrove also rewrites digits, weekday and month
    names and strips accents before shingling; this filter does not: Broder's shingles are of the text's own words.

    Rejection ``near_duplicate``: the score ``minhash_similarity`` is the exact Jaccard with the row kept in
    the removed row's place (in a chain A~B~C it can be below ``threshold``, which shows the chain), 1.0 for
    the kept row itself and null for a row with no near duplicate; the detail is ``cluster=<n>;kept=<row id>``,
    clusters numbered in the order of their kept rows' ids. Decisions depend on row ids, never on row order. A
    null text cannot be judged and is rejected with a null score, as by every filter; texts without a word
    share one (empty) shingle set and so are duplicates of each other.

    Incremental use: :meth:`band_table` gives rows' ids, band hashes, signatures and shingle sets, a table to
    store (with ``keep_band_table`` the filter returns the table of its kept rows as the side table ``minhash``),
    and :meth:`against` deduplicates new rows among themselves and against such a table of rows kept before,
    which are neither recomputed nor touched and win every cluster they are in. Tables written before version 2
    (14 bands of 8, no shingle sets) stay usable: their signatures are the same permutations, so their bands are
    recomputed from the stored signatures (read whole, as the stored bands do not match), and a pair with one of
    their rows, whose shingles were not stored, is verified on the signatures' estimate. Rematerializing those
    partitions (Dagster marks them stale, as the operator's version changed) rewrites them in the new form.
    """

    version: ClassVar[int] = 2
    row_local: ClassVar[bool] = False
    history: ClassVar[str | None] = "minhash"

    ngram: int = Field(5, ge=1, description="Words per shingle")
    bands: int = Field(28, ge=1, description="LSH bands; bands * rows is the number of permutations")
    rows: int = Field(4, ge=1, description="Signature values per band: rows that agree on all of them are candidates")
    seed: int = Field(1, ge=0, description="Seed of the permutations; band tables of different seeds do not compare")
    threshold: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Least exact Jaccard of the shingle sets that links a candidate pair; 0 links every candidate",
    )
    keep_band_table: bool = Field(
        False, description="Also return the band table of the kept rows as the side table 'minhash' (see against)"
    )

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        """The rule over the cluster columns that :meth:`run` computes from ``input_key`` and adds first."""
        survivor = pl.col(_SURVIVOR)
        return {
            "near_duplicate": Rule(
                score=pl.col(_SIMILARITY).alias("minhash_similarity"),
                keep=pl.col(ROW_ID) == survivor,
                detail=pl.format("cluster={};kept={}", pl.col(_CLUSTER), survivor),
            )
        }

    def run(self, *frames: pl.DataFrame, history: pl.LazyFrame | None = None, **keys: str) -> OpResult:
        """Deduplicate the rows; with ``history`` (the band tables this step kept for other partitions, given by a
        pipeline step), also against those earlier rows, as :meth:`against` does."""
        (df,) = frames
        return self._judge(df, history, keys)

    def against(self, df: pl.DataFrame, existing: pl.DataFrame | pl.LazyFrame, **keys: str) -> OpResult:
        """Deduplicate ``df`` among itself and against ``existing``, a band table of rows kept before.

        Only the rows of ``existing`` that share a bucket with a new row are read: pass a ``LazyFrame`` (e.g.
        ``pl.scan_delta`` of the stored side tables) and the other signatures stay on disk. A new row in a cluster
        with earlier rows is rejected in favour of the earliest of them by id; earlier rows are never rejected.
        Append the result's side table ``minhash`` (``keep_band_table=True``) to ``existing`` for the next batch.
        """
        return self._judge(df, existing, keys)

    def band_table(self, df: pl.DataFrame, *, input_key: str = "text") -> pl.DataFrame:
        """``_row_id`` (and ``_partition``), band hashes, signature, shingle set and parameters of every row with a
        text."""
        rows = df.filter(pl.col(input_key).is_not_null())
        texts = rows[input_key]
        return self._band_table(rows, self._signatures(texts), self._shingle_sets(texts, np.arange(len(texts))))

    def _judge(self, df: pl.DataFrame, existing: pl.DataFrame | pl.LazyFrame | None, keys: dict[str, str]) -> OpResult:
        input_key = self.bind_keys(keys)["input_key"]
        judged = np.flatnonzero(df[input_key].is_not_null().to_numpy())
        ids = df[ROW_ID].gather(judged)
        by_id = ids.arg_sort().to_numpy()
        texts = df[input_key].gather(judged[by_id])
        signatures = self._signatures(texts)
        old = self._old_rows(existing, signatures, ids)
        fresh = len(old.ids)
        every = np.concatenate([old.signatures, signatures])
        left, right = _candidate_pairs(every, fresh, self.bands, self.rows)
        needed = np.arange(len(texts)) if self.keep_band_table else np.unique(np.concatenate([left, right])) - fresh
        needed = needed[needed >= 0]  # the new rows of some candidate pair: only their sets are read
        sets = _ShingleSets.concat([old.sets, self._shingle_sets(texts, needed).spread(needed, len(texts))])
        roots, sizes, similarity = _clusters(every, sets, left, right, self.threshold)
        mine = fresh + np.argsort(by_id)  # each judged row's place among old and new rows, in id order
        helpers = _helpers(pl.concat([old.ids, ids.gather(by_id)]), roots, sizes, similarity, mine)
        result = apply_rules(df.hstack(_spread(helpers, judged, df.height)), self.rules(input_key=input_key))
        side_tables = {}
        if self.keep_band_table:
            survivors = np.flatnonzero(roots[fresh:] == np.arange(fresh, len(roots)))
            kept = df.select(ROW_ID, *[PARTITION] if PARTITION in df.columns else []).gather(judged[by_id][survivors])
            side_tables["minhash"] = self._band_table(kept, signatures[survivors], sets.take(fresh + survivors))
        return OpResult(
            kept=result.kept.drop(helpers.columns),
            rejected=result.rejected.drop(helpers.columns),
            scores=result.scores,
            side_tables=side_tables,
        )

    def _signatures(self, texts: pl.Series) -> np.ndarray:
        """(texts, bands * rows) uint64 MinHash signatures of non-null texts, in batches of whole rows."""
        a, b = _permutations(self.seed, self.num_perm)
        parts = [_signatures(*_shingles(batch, self.ngram), a, b) for batch in _batches(texts)]
        return np.concatenate(parts) if parts else np.empty((0, self.num_perm), _U64)

    def _shingle_sets(self, texts: pl.Series, rows: np.ndarray) -> _ShingleSets:
        """The distinct shingle hashes of the texts at ``rows`` (ascending positions), in that order."""
        parts = [_ShingleSets.of(*_shingles(batch, self.ngram)) for batch in _batches(texts.gather(rows))]
        return _ShingleSets.concat(parts)

    def _params(self) -> str:
        return f"v{_HASH_VERSION};ngram={self.ngram};bands={self.bands};rows={self.rows};seed={self.seed}"

    def _band_table(self, rows: pl.DataFrame, signatures: np.ndarray, sets: _ShingleSets) -> pl.DataFrame:
        bands = _band_hashes(signatures, self.bands, self.rows)
        return rows.select(ROW_ID, *[PARTITION] if PARTITION in rows.columns else []).with_columns(
            pl.Series(BANDS_COLUMN, bands.view(np.int64)).cast(pl.List(pl.Int64)),  # Delta has lists, not arrays
            pl.Series(SIGNATURE_COLUMN, signatures.view(np.int64)).cast(pl.List(pl.Int64)),
            sets.series(SHINGLES_COLUMN),
            pl.lit(self._params()).alias(PARAMS_COLUMN),
        )

    def _old_rows(
        self, existing: pl.DataFrame | pl.LazyFrame | None, signatures: np.ndarray, new_ids: pl.Series
    ) -> _OldRows:
        """Ids (in order), signatures and shingle sets of the earlier rows that share a bucket with a new row. Rows
        with the id of a new row are left out: the same rows judged again (a partition run twice) are not their
        own copies. Rows stored with another layout of the same permutations are re-banded from their signatures."""
        if existing is None:
            return _OldRows(new_ids.clear(), np.empty((0, self.num_perm), _U64), _ShingleSets.empty(0))
        table = existing.lazy().join(new_ids.to_frame().lazy(), on=ROW_ID, how="anti")
        other_params = table.select(pl.col(PARAMS_COLUMN).unique()).filter(pl.col(PARAMS_COLUMN) != self._params())
        for params in other_params.collect()[PARAMS_COLUMN].to_list():
            self._check_comparable(params)
        buckets = pl.DataFrame({BANDS_COLUMN: _band_hashes(signatures, self.bands, self.rows).ravel().view(np.int64)})
        same = (
            table.filter(pl.col(PARAMS_COLUMN) == self._params())
            .select(ROW_ID, BANDS_COLUMN)
            .explode(BANDS_COLUMN)
            .join(buckets.lazy().unique(), on=BANDS_COLUMN, how="semi")
            .select(ROW_ID)
            .unique()
            .collect()
        )
        other = table.filter(pl.col(PARAMS_COLUMN) != self._params()).select(ROW_ID, SIGNATURE_COLUMN).collect()
        if other.height:
            rebanded = _band_hashes(_signature_array(other, self.num_perm), self.bands, self.rows).view(np.int64)
            other = other.filter(pl.Series(np.isin(rebanded, buckets[BANDS_COLUMN].to_numpy()).any(axis=1)))
        wanted = pl.concat([same, other.select(ROW_ID)])
        stored = [SHINGLES_COLUMN] if SHINGLES_COLUMN in table.collect_schema().names() else []
        rows = table.join(wanted.lazy(), on=ROW_ID, how="semi").select(ROW_ID, SIGNATURE_COLUMN, *stored)
        rows = rows.collect().sort(ROW_ID)
        sets = _ShingleSets.stored(rows[SHINGLES_COLUMN]) if stored else _ShingleSets.empty(rows.height)
        return _OldRows(rows[ROW_ID], _signature_array(rows, self.num_perm), sets)

    def _check_comparable(self, params: str) -> None:
        """Refuse a band table hashed otherwise (other words, shingles or permutations, or too few of them)."""
        fields = dict(part.split("=", 1) for part in params.split(";")[1:] if "=" in part)
        stored_perm = int(fields.get("bands", 0)) * int(fields.get("rows", 0))
        mine = {"ngram": str(self.ngram), "seed": str(self.seed)}
        if not params.startswith(f"v{_HASH_VERSION};") or any(fields.get(k) != v for k, v in mine.items()):
            reason = "other hashes"
        elif stored_perm < self.num_perm:
            reason = f"{stored_perm} permutations, fewer than this filter's {self.num_perm}"
        else:
            return
        raise DataflowError(
            f"the band table has rows hashed with {params!r} ({reason}); this filter uses {self._params()!r}",
            hint="deduplicate against a band table made with the same ngram and seed and at least as many "
            "permutations, or rematerialize the partitions it came from",
        )


@dataclass(frozen=True)
class _OldRows:
    ids: pl.Series
    signatures: np.ndarray
    sets: _ShingleSets


@dataclass(frozen=True)
class _ShingleSets:
    """Distinct shingle hashes of a run of rows, one after the other (``values``, cut at ``offsets``); ``known`` is
    False for a row whose set is not at hand (an earlier row stored without it, a row not needed)."""

    values: np.ndarray
    offsets: np.ndarray
    known: np.ndarray

    @classmethod
    def empty(cls, rows: int) -> _ShingleSets:
        return cls(np.empty(0, _U64), np.zeros(rows + 1, np.int64), np.zeros(rows, bool))

    @classmethod
    def of(cls, hashes: np.ndarray, counts: np.ndarray) -> _ShingleSets:
        """The distinct values of each text's shingle hashes (as :func:`_shingles` gives them), cut to
        ``_SET_BITS`` bits: one sort of (text, hash) packed into one integer per shingle."""
        text = np.repeat(np.arange(len(counts), dtype=_U64), counts)
        keys = np.unique((text << _U64(_SET_BITS)) | (hashes >> _U64(64 - _SET_BITS)))
        sizes = np.bincount((keys >> _U64(_SET_BITS)).astype(np.int64), minlength=len(counts))
        return cls(keys & _SET_MASK, _offsets(sizes), np.ones(len(counts), bool))

    @classmethod
    def stored(cls, column: pl.Series) -> _ShingleSets:
        """Sets read from a band table's shingle column (null where a row was stored without one)."""
        values = pc.list_flatten(column.to_arrow()).to_numpy(zero_copy_only=False)
        sizes = column.list.len().fill_null(0).to_numpy()
        return cls(values.astype(np.int64).view(_U64), _offsets(sizes), column.is_not_null().to_numpy())

    @classmethod
    def concat(cls, parts: list[_ShingleSets]) -> _ShingleSets:
        if not parts:
            return cls.empty(0)
        return cls(
            np.concatenate([part.values for part in parts]),
            _offsets(np.concatenate([part.sizes() for part in parts])),
            np.concatenate([part.known for part in parts]),
        )

    def spread(self, positions: np.ndarray, rows: int) -> _ShingleSets:
        """These sets placed at ``positions`` (ascending) among ``rows`` rows; the other rows empty and unknown."""
        sizes, known = np.zeros(rows, np.int64), np.zeros(rows, bool)
        sizes[positions], known[positions] = self.sizes(), self.known
        return _ShingleSets(self.values, _offsets(sizes), known)

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, rows: np.ndarray) -> _ShingleSets:
        """The sets of ``rows``, in that order."""
        sizes = self.sizes()[rows]
        return _ShingleSets(self.values[_ranges(self.offsets[rows], sizes)], _offsets(sizes), self.known[rows])

    def series(self, name: str) -> pl.Series:
        """As a polars list column of Int64 (null where unknown), the form stored in the band table."""
        values = pa.array(self.values.view(np.int64))
        lists = pa.LargeListArray.from_arrays(pa.array(self.offsets), values, mask=pa.array(~self.known))
        return pl.Series(name, pl.from_arrow(lists))


def _offsets(sizes: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Indices ``start, start + 1, ..., start + size - 1`` of every range, one range after the other."""
    ends = np.cumsum(sizes)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - sizes), sizes)


def _batches(texts: pl.Series) -> Iterator[pl.Series]:
    """The texts in slices of whole rows of about ``_BATCH_BYTES`` bytes, and of at most ``_BATCH_BYTES`` rows
    (so that a row's number in its batch fits beside a set value)."""
    ends = np.cumsum(texts.str.len_bytes().to_numpy(), dtype=np.int64)
    cuts = np.searchsorted(ends, np.arange(_BATCH_BYTES, ends[-1] if len(ends) else 0, _BATCH_BYTES)) + 1
    cuts = np.union1d(cuts, np.arange(0, len(texts), _BATCH_BYTES))
    for start, stop in pairwise(np.unique([0, *cuts, len(texts)]).tolist()):
        yield texts.slice(start, stop - start)


def _signature_array(rows: pl.DataFrame, num_perm: int) -> np.ndarray:
    """The first ``num_perm`` values of each stored signature (the permutations of a longer one start alike)."""
    values = rows[SIGNATURE_COLUMN].list.head(num_perm).explode().to_numpy().astype(np.int64).view(_U64)
    return values.reshape(rows.height, num_perm)


def _helpers(
    ids: pl.Series, roots: np.ndarray, sizes: np.ndarray, similarity: np.ndarray, rows: np.ndarray
) -> pl.DataFrame:
    """The cluster columns the rule reads, for ``rows`` (indices into ``ids`` and the cluster arrays): the kept
    row's id, the cluster's number and the Jaccard with the kept row (both null outside clusters)."""
    in_cluster = pl.col("size") > 1
    return pl.DataFrame(
        {
            _SURVIVOR: ids.gather(roots[rows]),
            "size": sizes[rows],
            "number": np.searchsorted(np.unique(roots[sizes > 1]), roots[rows]),
            "similarity": similarity[rows],
        }
    ).select(
        _SURVIVOR,
        pl.when(in_cluster).then(pl.col("number")).alias(_CLUSTER),
        pl.when(in_cluster).then(pl.col("similarity")).alias(_SIMILARITY),
    )


def _spread(helpers: pl.DataFrame, positions: np.ndarray, height: int) -> pl.DataFrame:
    """The helper rows at their rows' positions, null at the rows that were not judged."""
    if len(positions) == height:
        return helpers
    return pl.DataFrame(
        [
            pl.Series(column.name, dtype=column.dtype).extend_constant(None, height).scatter(positions, column)
            for column in helpers.iter_columns()
        ]
    )


def _clusters(
    signatures: np.ndarray, sets: _ShingleSets, left: np.ndarray, right: np.ndarray, threshold: float
) -> tuple[np.ndarray, ...]:
    """Each row's cluster root (its smallest index), cluster size and Jaccard with the root, from the candidate
    pairs; rows before the first new row win their clusters because they come first."""
    if threshold > 0:
        linked = _jaccard(signatures, sets, left, right) >= threshold
        left, right = left[linked], right[linked]
    roots = _components(len(signatures), left, right)
    sizes = np.bincount(roots, minlength=len(roots))[roots]
    similarity = np.ones(len(roots))
    members = np.flatnonzero(roots != np.arange(len(roots)))
    similarity[members] = _jaccard(signatures, sets, members, roots[members])
    return roots, sizes, similarity


def _jaccard(signatures: np.ndarray, sets: _ShingleSets, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard of each pair: exact where both shingle sets are at hand, else the signatures' estimate (an earlier
    row stored without its set)."""
    exact = sets.known[left] & sets.known[right]
    similarity = np.empty(len(left))
    similarity[exact] = _exact_jaccard(sets, left[exact], right[exact])
    similarity[~exact] = _estimated_jaccard(signatures, left[~exact], right[~exact])
    return similarity


def _exact_jaccard(sets: _ShingleSets, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """|A & B| / |A | B| of each pair's sets (1.0 for two empty ones): the values of both sets of each pair, packed
    with the pair's number into one integer each and sorted; a key met twice is a value in both sets. Pairs go in
    chunks of about ``_VERIFY_VALUES`` values, so that the pair numbers fit above the values' bits."""
    sizes = sets.sizes()
    work = np.cumsum(sizes[left] + sizes[right])
    cuts = np.searchsorted(work, np.arange(_VERIFY_VALUES, work[-1] if len(work) else 0, _VERIFY_VALUES))
    cuts = np.union1d(cuts, np.arange(0, len(left), _VERIFY_VALUES))  # pairs of empty sets add no values
    parts = [np.empty(0)]
    for start, stop in pairwise(np.unique([0, *cuts, len(left)]).tolist()):
        first, second = left[start:stop], right[start:stop]
        numbers = np.arange(len(first), dtype=_U64) << _U64(_SET_BITS)
        keys = np.concatenate(
            [
                sets.values[_ranges(sets.offsets[first], sizes[first])] | np.repeat(numbers, sizes[first]),
                sets.values[_ranges(sets.offsets[second], sizes[second])] | np.repeat(numbers, sizes[second]),
            ]
        )
        keys.sort()
        common_keys = keys[1:][keys[1:] == keys[:-1]]
        common = np.bincount((common_keys >> _U64(_SET_BITS)).astype(np.int64), minlength=len(first))
        union = sizes[first] + sizes[second] - common
        parts.append(np.divide(common, union, out=np.ones(len(first)), where=union > 0))
    return np.concatenate(parts)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finalizer: every input bit flips each output bit with probability about 1/2."""
    h = h ^ (h >> _U64(33))
    h *= _FMIX_1
    h ^= h >> _U64(33)
    h *= _FMIX_2
    return h ^ (h >> _U64(33))


def _permutations(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``a`` in [1, p) and ``b`` in [0, p) of each permutation: a counter offset by the seed and mixed by the
    murmur3 finalizer (as splitmix64 does), the same on every machine and version."""
    counter = (np.arange(2 * count, dtype=_U64) + _U64(1)) * _GOLDEN + _U64(seed) * _BYTE_BASE
    values = _fmix64(counter) % _PRIME
    return values[0::2] % (_PRIME - _U64(1)) + _U64(1), values[1::2]


def _shingles(texts: pl.Series, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every text's word n-grams, text after text, and how many each text has."""
    word_hashes, counts = _words(texts)
    shingle_counts = np.where(counts >= ngram, counts - ngram + 1, np.minimum(counts, 1))
    starts = np.cumsum(counts) - counts
    at_start = _combine(word_hashes, ngram)
    short = np.flatnonzero((counts > 0) & (counts < ngram))
    at_start[starts[short]] = _combine_short(word_hashes, starts[short], counts[short])
    skipped = starts - (np.cumsum(shingle_counts) - shingle_counts)  # the last ngram - 1 words of earlier texts
    return _fmix64(at_start[np.arange(shingle_counts.sum()) + np.repeat(skipped, shingle_counts)]), shingle_counts


def _words(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every word, text after text, and each text's word count.

    All of it is array work on the lower-cased texts' UTF-8 bytes: a word's hash is the polynomial of its bytes,
    read off prefix sums, so no string is made per word.
    """
    utf8 = texts.str.to_lowercase().to_arrow().cast(pa.large_string())
    _, offsets_buffer, data_buffer = utf8.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64, len(utf8) + 1, utf8.offset * 8)
    data = np.frombuffer(data_buffer, np.uint8)[offsets[0] : offsets[-1]] if data_buffer else np.empty(0, np.uint8)
    offsets = offsets - offsets[0]
    starts, ends = _runs(_word_bytes(data), offsets)
    return _fmix64(_polynomial(data, starts, ends)), np.diff(np.searchsorted(starts, offsets))


_ASCII_WORD = np.zeros(256, bool)
_ASCII_WORD[list(b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")] = True


def _word_bytes(data: np.ndarray) -> np.ndarray:
    """Whether each byte of UTF-8 text belongs to a word character; only the multi-byte characters, few in most
    texts, are decoded."""
    word = _ASCII_WORD[data]
    leads = np.flatnonzero(data >= 0xC0)
    if len(leads):
        first = data[leads].astype(np.int64)
        n1, n2, n3 = (data[np.minimum(leads + k, len(data) - 1)].astype(np.int64) & 0x3F for k in (1, 2, 3))
        width = 2 + (first >= 0xE0) + (first >= 0xF0)
        code = np.select(
            [width == 2, width == 3],
            [(first & 0x1F) << 6 | n1, (first & 0x0F) << 12 | n1 << 6 | n2],
            (first & 0x07) << 18 | n1 << 12 | n2 << 6 | n3,
        )
        table = _word_characters()
        is_word = table[np.minimum(code, len(table) - 1)]
        for byte in range(4):
            inside = byte < width
            word[leads[inside] + byte] = is_word[inside]
    return word


@cache
def _word_characters() -> np.ndarray:
    """For each code point of Unicode's first four planes (all its scripts and emoji), whether regex ``\\w``
    matches it: letters, marks, decimal and letter numbers, connector punctuation and the two joiners (categories
    from Python's ``unicodedata``; the regex also takes some 50 alphabetic symbols such as circled letters). A
    later Unicode version only adds characters, so only texts using new ones could hash differently."""
    word = [
        category[0] in "LM" or category in ("Nd", "Nl", "Pc")
        for category in (unicodedata.category(chr(code)) for code in range(0x40000))
    ]
    word[0x200C] = word[0x200D] = True
    return np.array(word)


def _runs(word: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and past-the-last byte of every run of word bytes; a run never crosses from one text to the next."""
    before, after = np.zeros_like(word), np.zeros_like(word)
    before[1:], after[:-1] = word[:-1], word[1:]
    filled = offsets[1:] > offsets[:-1]
    before[offsets[:-1][filled]] = False
    after[offsets[1:][filled] - 1] = False
    return np.flatnonzero(word & ~before), np.flatnonzero(word & ~after) + 1


def _polynomial(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sum of byte[k] * B^(k - start) over each run's bytes, modulo 2^64: prefix sums of byte[k] * B^k,
    differenced and scaled back by B^-start."""
    powers, inverse = _byte_powers(len(data))
    prefix = np.zeros(len(data) + 1, _U64)
    np.cumsum(data * powers, out=prefix[1:])
    return (prefix[ends] - prefix[starts]) * inverse[starts]


def _byte_powers(count: int) -> tuple[np.ndarray, np.ndarray]:
    """B^k and B^-k for k < count; those of a batch's usual size are computed once."""
    if count > 2 * _BATCH_BYTES:
        return _powers_of(count)
    powers, inverse = _usual_byte_powers()
    return powers[:count], inverse[:count]


@cache
def _usual_byte_powers() -> tuple[np.ndarray, np.ndarray]:
    return _powers_of(2 * _BATCH_BYTES)


def _powers_of(count: int) -> tuple[np.ndarray, np.ndarray]:
    powers, inverse = np.full(count, _BYTE_BASE), np.full(count, _BYTE_BASE_INVERSE)
    powers[:1] = inverse[:1] = 1
    return np.multiply.accumulate(powers), np.multiply.accumulate(inverse)


def _combine(word_hashes: np.ndarray, ngram: int) -> np.ndarray:
    """Hash of the ``ngram`` words from each position on (the last ``ngram - 1`` positions are left unset: no
    full shingle starts there)."""
    combined = np.empty_like(word_hashes)
    valid = max(len(word_hashes) - ngram + 1, 0)
    window = word_hashes[:valid].copy()
    for offset in range(1, ngram):
        window *= _GOLDEN
        window += word_hashes[offset : offset + valid]
    combined[:valid] = window
    return combined


def _combine_short(word_hashes: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Hash of all the words of each text shorter than a shingle, combined as :func:`_combine` does."""
    combined = word_hashes[starts].copy()
    for offset in range(1, int(counts.max(initial=1))):
        more = offset < counts
        combined[more] = combined[more] * _GOLDEN + word_hashes[starts[more] + offset]
    return combined


def _signatures(shingles: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Min over each text's shingles of (a*h + b) mod p, for all permutations at once, block by block.

    The product wraps modulo 2^64, as in datatrove and datasketch's former scheme; one Mersenne fold then reduces
    it modulo p (exact unless the wrapped value lies within 8 of a multiple of p, a 2^-58 chance).
    """
    signatures = np.full((len(counts), len(a)), _EMPTY)
    texts = np.flatnonzero(counts)
    starts = np.cumsum(counts[texts]) - counts[texts]
    blocks = np.arange(0, len(shingles), _CHUNK_SHINGLES)
    pieces = np.union1d(starts, blocks)  # a text's shingles within one block
    pieces_by_block = np.searchsorted(pieces, np.append(blocks, len(shingles)))
    piece_minima = np.empty((len(a), len(pieces)), _U64)
    width = min(_CHUNK_SHINGLES, len(shingles))
    values, carry = np.empty((len(a), width), _U64), np.empty((len(a), width), _U64)
    for block, begin in enumerate(blocks.tolist()):
        size = min(_CHUNK_SHINGLES, len(shingles) - begin)
        block_values, block_carry = values[:, :size], carry[:, :size]
        np.multiply(a[:, None], shingles[begin : begin + size], out=block_values)
        block_values += b[:, None]
        np.right_shift(block_values, _U64(61), out=block_carry)
        block_values &= _PRIME
        block_values += block_carry
        first, last = pieces_by_block[block], pieces_by_block[block + 1]
        np.minimum.reduceat(block_values, pieces[first:last] - begin, axis=1, out=piece_minima[:, first:last])
    if len(texts):
        signatures[texts] = np.minimum.reduceat(piece_minima, np.searchsorted(pieces, starts), axis=1).T
    return signatures


def _band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(texts, bands) hashes of each band's values, the band number mixed in so that buckets of different bands
    never meet."""
    per_band = signatures.reshape(len(signatures), bands, rows)
    hashes = np.broadcast_to(np.arange(bands, dtype=_U64), (len(signatures), bands)).copy()
    for row in range(rows):
        hashes = hashes * _GOLDEN + per_band[:, :, row]
    return _fmix64(hashes)


def _candidate_pairs(signatures: np.ndarray, fresh: int, bands: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j) of rows with identical signatures or sharing a band bucket, ``j`` from ``fresh`` on."""
    band_hashes = _band_hashes(signatures, bands, rows)
    identity = _band_hashes(band_hashes, 1, bands)[:, 0]
    _, first, group = np.unique(identity, return_index=True, return_inverse=True)
    representative = first[group]
    copies = np.flatnonzero(representative != np.arange(len(signatures)))
    representatives = np.unique(first)
    bucket = band_hashes[representatives].ravel()
    member = np.repeat(representatives, bands)
    order = np.lexsort((member, bucket))
    bucket, member = bucket[order], member[order]
    pairs = [(representative[copies], copies)]
    for distance in range(1, _BUCKET_WINDOW + 1):
        same = np.flatnonzero(bucket[distance:] == bucket[:-distance])
        pairs.append((member[same], member[same + distance]))
    left = np.concatenate([pair[0] for pair in pairs])
    right = np.concatenate([pair[1] for pair in pairs])
    wanted = right >= fresh
    return np.divmod(np.unique(left[wanted] * len(signatures) + right[wanted]), max(len(signatures), 1))


def _estimated_jaccard(signatures: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Share of equal signature values of each pair, in blocks so that memory stays bounded."""
    step = 65_536
    parts = [
        (signatures[left[i : i + step]] == signatures[right[i : i + step]]).mean(axis=1)
        for i in range(0, len(left), step)
    ]
    return np.concatenate(parts) if parts else np.empty(0)


def _components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components as the smallest index of each: union-find with all pairs at once per round, each
    root hooked to the smallest root it is linked to, then paths compressed."""
    parent = np.arange(count)
    while len(left):
        low = np.minimum(parent[left], parent[right])
        high = np.maximum(parent[left], parent[right])
        apart = low != high
        if not apart.any():
            break
        np.minimum.at(parent, high[apart], low[apart])
        parent = _compress(parent)
        left, right = left[apart], right[apart]
    return parent


def _compress(parent: np.ndarray) -> np.ndarray:
    while True:
        grandparent = parent[parent]
        if np.array_equal(grandparent, parent):
            return parent
        parent = grandparent
