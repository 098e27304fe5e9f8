"""Writing the records of a range of enterprises, for all 19 files and all nights at once.

Runs in the worker processes. The world and the plan are module state, installed once per
worker process, so a task is just (lo, hi). One enterprise is materialised once and then written into every
file; its random numbers come from generators seeded by (seed, enterprise), so the output
does not depend on the number of workers or on the chunk boundaries.

While it writes an enterprise's rows the worker keeps the final version of each of its
records in the audited feeds; once all its feeds are written, ``audits.evaluate`` turns them
into the enterprise's audit truth lines and A7 facts, and they are dropped.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from xinyong.generate.agencies import BUILDERS, Builder, Item
from xinyong.generate.audits import AUDIT_FEEDS, evaluate, plan
from xinyong.generate.feeds import FEEDS, RESERVED, FeedSpec, Renderer, iso, make_renderer
from xinyong.generate.problems import FilePlan, Injector
from xinyong.generate.world import RARE_CHARS, STATUSES, Ent, World, enterprise

Key = tuple[int, int]  # (feed index, night index)


@dataclass
class Plan:
    """Everything about the nights the workers need; built once by the parent."""

    seed: int
    rate: float
    nights: tuple[int, ...]
    files: dict[Key, FilePlan]
    # Per agency: the night a record dated on a delta night is delivered (None: not delivered).
    night_of_day: dict[str, dict[int, int | None]]
    # Per agency and night: the output nights that receive that night's rows ([] when quiet).
    outputs: dict[str, list[list[int]]]
    # (agency, night) whose keys must not be touched again the next night (fault merge).
    carry: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class ChunkResult:
    lo: int
    blobs: dict[Key, bytes]
    rows: Counter[Key]
    quarantined: Counter[Key]
    last_rows: dict[Key, tuple[list[str], int]]
    truth_records: bytes
    truth_enterprises: bytes
    problems: dict[int, Counter[str]]
    truth_audits: bytes        # audit,enterprise_id,expected lines (A7 apart), enterprise order
    a7_flags: bytes            # one byte of A7 flags per enterprise of the chunk


_STATE: dict[str, object] = {}


def install(world: World, plan: Plan) -> None:
    """Set the state the chunks read: in the parent, and in each worker as it starts."""
    _STATE["world"] = world
    _STATE["plan"] = plan


def make_file_renderer(spec: FeedSpec, fp: FilePlan) -> Renderer:
    render = make_renderer(spec, fp.nl)
    if fp.extra_column:
        def with_extra(fields: list[str], quote: bool = False) -> str:
            return render([*fields, ""], quote)
        return with_extra
    if fp.missing_column is not None:
        col = fp.missing_column

        def without(fields: list[str], quote: bool = False) -> str:
            return render(fields[:col] + fields[col + 1:], quote)
        return without
    return render


def run_chunk(bounds: tuple[int, int]) -> ChunkResult:
    world = _STATE["world"]
    plan = _STATE["plan"]
    assert isinstance(world, World) and isinstance(plan, Plan)
    return _Chunk(world, plan).run(*bounds)


class _Sink:
    """Where the rows of one feed written on one night go (two files on a fault night)."""

    __slots__ = ("outputs",)

    def __init__(self, outputs: list[tuple[list[str], Renderer, Key, bool]]):
        self.outputs = outputs  # (parts, render, key, keep the last row for truncation)


class _Chunk:
    def __init__(self, world: World, plan: Plan):
        self.w = world
        self.plan = plan
        self.rng = random.Random()
        self.prng = random.Random()
        self.problems = {f: Counter[str]() for f in range(len(FEEDS))}
        self.injectors = [Injector(spec, plan.rate, self.prng, self.problems[f])
                          for f, spec in enumerate(FEEDS)]
        self.builders: list[Builder] = [b(world, inj) for b, inj in zip(BUILDERS, self.injectors,
                                                                         strict=True)]
        self.id_formats = [f"{spec.prefix}%0{spec.digits}d" for spec in FEEDS]
        self.parts: dict[Key, list[str]] = {key: [] for key in plan.files}
        self.sinks: list[list[_Sink]] = []
        for f, spec in enumerate(FEEDS):
            per_night = []
            for outs in plan.outputs[spec.agency]:
                per_night.append(_Sink([
                    (self.parts[(f, k)], make_file_renderer(spec, plan.files[(f, k)]), (f, k),
                     plan.files[(f, k)].truncate) for k in outs]))
            self.sinks.append(per_night)
        self.quarantined: Counter[Key] = Counter()
        self.last_rows: dict[Key, tuple[list[str], int]] = {}
        self.truth: list[str] = []
        self._spare = 0
        self.arng = random.Random()
        # The final version of every record of the audited feeds (number -> fields, None when
        # deleted), and the night of that version for the records replaced or deleted.
        self.final: list[dict[int, list[str] | None] | None] = [
            {} if f in AUDIT_FEEDS else None for f in range(len(FEEDS))]
        self.final_night: dict[tuple[int, int], int] = {}

    def run(self, lo: int, hi: int) -> ChunkResult:
        ents: list[str] = []
        audits: list[str] = []
        a7 = bytearray(hi - lo)
        seed = self.plan.seed
        final = self.final
        for i in range(lo, hi):
            e = enterprise(self.w, i)
            rare = any(ch in RARE_CHARS for ch in e.name)
            self.rng.seed(seed * 7_919_993 + i)
            self.prng.seed(seed * 6_700_417 + i)
            if e.plant:
                self.arng.seed(seed * 5_003_227 + i)
                plan(e, self.plan.nights, self.arng)
            for f in range(len(FEEDS)):
                written = self._feed(f, e)
                if rare and written and FEEDS[f].encoding == "gb18030":
                    self.problems[f]["gb18030_only_char"] += written
            lines, a7[i - lo] = evaluate(e, final)
            audits.extend(lines)
            for records in final:
                if records:
                    records.clear()
            self.final_night.clear()
            head = int(self.w.head[i])
            ents.append(",".join((
                e.eid, e.name, e.uscc, e.regno, e.org, e.taxno, e.customs,
                ";".join(name for _, name in e.names), f"E{head:07d}" if head >= 0 else "",
                e.region, STATUSES[e.status], e.rep_id, e.rep_name, iso(e.est),
                iso(e.end) if e.end else "")) + "\n")
        blobs = {}
        rows: Counter[Key] = Counter()
        for key, parts in self.parts.items():
            if parts:
                blobs[key] = "".join(parts).encode(self.plan.files[key].encoding)
                rows[key] = len(parts)
        return ChunkResult(
            lo=lo, blobs=blobs, rows=rows, quarantined=self.quarantined,
            last_rows=self.last_rows, truth_records="".join(self.truth).encode(),
            truth_enterprises="".join(ents).encode(),
            problems={f: c for f, c in self.problems.items() if c},
            truth_audits="".join(audits).encode(), a7_flags=bytes(a7),
        )

    def _feed(self, f: int, e: Ent) -> int:
        """Write one enterprise's records of one feed on every night; returns the rows written."""
        spec = FEEDS[f]
        builder = self.builders[f]
        items = builder.history(e, self.rng)[: spec.stride - RESERVED]
        if not items:
            return 0
        plan = self.plan
        nights = plan.nights
        night_of = plan.night_of_day[spec.agency]
        sinks = self.sinks[f]
        d0 = nights[0]
        n = len(items)
        emitted: list[int] = [-1] * n
        self._spare = spec.stride - 2  # stride-1 is kept for a truncated last row
        ebase = spec.base + e.idx * spec.stride
        written = 0
        for j, item in enumerate(items):
            day = item[0]
            k = 0 if day <= d0 else night_of.get(day, -1)
            if k is None or k < 0:
                continue
            emitted[j] = k
            written += self._emit(f, e, ebase + j, item, "I", k, nights[k], sinks[k])
        touched: dict[int, set[int]] = {}
        for day in builder.scheduled_updates(e):
            k = night_of.get(day) or 0
            if k and 0 <= emitted[0] < k:
                touched.setdefault(k, set()).add(0)
                written += self._emit(f, e, ebase, items[0], "U", k, day, sinks[k])
        deleted: set[int] = set()
        rand = self.rng.random
        for k in range(1, len(nights)):
            if not sinks[k].outputs:
                continue
            busy = touched.setdefault(k, set())
            blocked = (touched.get(k - 1, set()) | {j for j in range(n) if emitted[j] == k - 1}
                       if (spec.agency, k - 1) in plan.carry else set())
            for op, rate in (("U", spec.u_rate), ("D", spec.d_rate)):
                for _ in range(int(n * rate + rand())):
                    j = int(rand() * n)
                    if not 0 <= emitted[j] < k or j in deleted or j in busy or j in blocked:
                        continue
                    busy.add(j)
                    if op == "D":
                        deleted.add(j)
                    written += self._emit(f, e, ebase + j, items[j], op, k, nights[k], sinks[k])
        self._truth(f, e, items, emitted, deleted, ebase)
        return written

    def _truth(self, f: int, e: Ent, items: list[Item], emitted: list[int], deleted: set[int],
               ebase: int) -> None:
        spec, builder, fmt = FEEDS[f], self.builders[f], self.id_formats[f]
        head = f"{spec.agency},{spec.feed},"
        truth = self.truth
        if builder.per_item_enterprise:
            for j, k in enumerate(emitted):
                if k < 0:
                    continue
                status = "deleted" if j in deleted else "live"
                rid = fmt % (ebase + j)
                parties = builder.parties(e, items[j])
                if parties is None:
                    truth.append(f"{head}{rid},{builder.record_enterprise(e, items[j])},{status}\n")
                else:
                    truth.extend(f"{head}{rid}#{n},{eid},{status}\n" for n, eid in enumerate(parties))
            return
        live, gone = f",{e.eid},live\n", f",{e.eid},deleted\n"
        truth.extend(head + fmt % (ebase + j) + (gone if j in deleted else live)
                     for j, k in enumerate(emitted) if k >= 0)

    def _emit(self, f: int, e: Ent, number: int, item: Item, op: str, k: int, as_of: int,
              sink: _Sink) -> int:
        fmt = self.id_formats[f]
        builder = self.builders[f]
        fields = builder.row(e, item, fmt % number, op, as_of)
        if op == "U":
            builder.mutate(fields, self.rng, self.plan.nights[k])
        inj = self.injectors[f]
        quote = False
        spoiled = None
        r = self.prng.random()
        final = self.final[f]
        if final is not None:  # the record as it stands after this night (for the audit truth)
            if op == "I":  # a record's first row: its U and D rows come later, on later nights
                final[number] = fields.copy() if r < inj.row_rate else fields
            elif self.final_night.get((f, number), -1) <= k:  # scheduled and random updates
                self.final_night[(f, number)] = k
                final[number] = None if op == "D" else fields.copy() if r < inj.row_rate else fields
        if r < inj.row_rate:
            quote = inj.apply(fields, e, item[0])
        elif r < inj.row_rate + inj.sacrifice_rate and self._spare >= FEEDS[f].stride - RESERVED:
            spoiled = inj.spoil(fields)
            if spoiled[0]:
                spoiled[0] = fmt % (number - number % FEEDS[f].stride + self._spare)
                spec = FEEDS[f]
                self.truth.append(f"{spec.agency},{spec.feed},{spoiled[0]},{e.eid},quarantined\n")
            self._spare -= 1
        for parts, render, key, keep in sink.outputs:
            parts.append(render(fields, quote))
            if keep:
                self.last_rows[key] = (fields, e.idx)
            if spoiled is not None:
                parts.append(render(spoiled, True))
                self.quarantined[key] += 1
        return 1 if spoiled is None else 2
