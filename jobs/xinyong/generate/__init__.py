"""``xinyong generate``: deterministic agency deliveries written to the feed contract, with truth.

Layout of the output directory::

    <out>/landing/<agency>/<YYYYMMDD>/manifest.json + data files   (what the agencies deliver)
    <out>/truth/enterprises.csv, records.csv, deliveries.csv, files.csv, problems.csv,
               summary.json                                         (what the pipeline should find)

Truth files (UTF-8 CSV with a header):

- enterprises.csv: enterprise_id, name (current), uscc, regno, org_code, tax_number,
  customs_code, former_names (oldest first, ``;``-separated), head_office_id (branches),
  region (6-digit registration region), status (final), legal_rep_idcard, legal_rep_name,
  established, deregistered.
- records.csv: agency, feed, record_id, enterprise_id, status -- one row per record key ever
  delivered (``<id>#<n>`` per judgment party; empty enterprise_id for 自然人 parties and
  institutions); status after the last night: live, deleted, or quarantined (a sacrificial
  row made unusable on purpose; rows without a key are not listed).
- deliveries.csv: agency, batch_date, folder, status (loaded / rejected / duplicate), reason.
- files.csv: agency, batch_date, file, rows_delivered, rows_expected_quarantined -- for the
  files of loaded deliveries (the rows of file_reconciliation).
- problems.csv: kind, agency, file, batch_date, count -- field and row problems per file
  (batch_date empty: summed over nights), file problems per delivered file.
- audits.csv: audit, enterprise_id, expected -- the cross-audits of AUDITS.md: ``finding``
  for every enterprise an audit must report (the rules applied in Python to the live records
  after the last night, accidental findings included; both enterprises for A7), ``near_miss``
  for the planted near misses it must not report. Every audit is planted with positives and
  near misses at fixed shares of the enterprises (a minimum count for small sets); see
  audits.py for the scenarios and how the truth is computed.
- summary.json: configuration, nights, totals per problem kind, records per file, audit
  truth counts.

Nights: the first delivery of every agency is ``full`` (its whole history, all ``I``), the
following nights are ``delta`` (new records ``I``, corrections ``U``, deletions ``D``).

Re-send: on the re-send night (default: the last night) one agency delivers, under that
night's date, a byte-identical copy of its previous delivery folder (manifest included, so its
``batch_date`` stays the original date, as in the samples). Its records dated on the re-send
night arrive the night after (or never, on the last night). Expected status ``duplicate``.

Fault night: three agencies deliver a broken folder (a file missing, a wrong sha256, a wrong
row count), to be rejected whole. The next night each of them delivers that night's rows
merged with the rejected night's rows in one delta delivery, so nothing is lost; no record key
occurs twice in a merged file.

The generator writes everything streaming: the parent process holds the world (numpy arrays)
and one open file per delivered file; workers return the encoded bytes of a range of
enterprises and the parent appends them, hashing and counting as it writes. The workers also
return each enterprise's audit truth lines and one byte of A7 facts, which the parent merges
(A7 groups enterprises by their legal representative, so it is settled at the end).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from xinyong.generate.audits import AuditsWriter
from xinyong.generate.feeds import (
    AGENCIES,
    FEEDS,
    RESERVED,
    FeedSpec,
    agency_feeds,
    footer,
    header_line,
)
from xinyong.generate.problems import FIELD_PROBLEMS, FilePlan
from xinyong.generate.worker import ChunkResult, Key, Plan, install, make_file_renderer, run_chunk
from xinyong.generate.world import World, build_world

__all__ = ["GenerationReport", "GeneratorConfig", "generate"]

ENTERPRISES_AT_SCALE_1 = 750_000
FAULT_KINDS = ("missing_file", "wrong_sha256", "wrong_row_count")
BIG_FEEDS = ("vat_returns.txt", "declarations.jsonl", "declarations.xml", "seal_filings.jsonl",
             "registrations.csv")
RECORDS_HEADER = "agency,feed,record_id,enterprise_id,status\n"
ENTERPRISES_HEADER = ("enterprise_id,name,uscc,regno,org_code,tax_number,customs_code,former_names,"
                      "head_office_id,region,status,legal_rep_idcard,legal_rep_name,established,"
                      "deregistered\n")


@dataclass
class GeneratorConfig:
    enterprises: int = 1000
    scale: float | None = None          # overrides enterprises: scale x 750,000
    nights: int = 3
    start_date: date = date(2026, 11, 10)
    seed: int = 20261110
    problem_rate: float = 0.02
    fault_night: int | None = None      # 1-based night number, 2..nights-1
    resend_night: int | None = None     # 1-based, default the last night; 0 disables
    workers: int | None = None          # default: CPU count
    chunk_size: int = 2000              # enterprises per task (part of the seed: keep fixed)

    @property
    def enterprise_count(self) -> int:
        if self.scale is not None:
            return max(1, round(self.scale * ENTERPRISES_AT_SCALE_1))
        return self.enterprises


@dataclass
class GenerationReport:
    out_dir: Path
    enterprises: int
    records: int
    records_per_file: dict[str, int]
    deliveries: dict[str, str]           # "<agency>/<YYYYMMDD>" -> expected status
    problems: dict[str, int]
    elapsed: float
    peak_rss_mb: float
    peak_rss_workers_mb: float
    audits: dict[str, dict[str, int]] = field(default_factory=dict)  # audit -> expected -> rows

    @property
    def records_per_second(self) -> float:
        return self.records / self.elapsed if self.elapsed else 0.0

    def text(self) -> str:
        lines = [f"{name:<40} {count:>12,}" for name, count in self.records_per_file.items()]
        lines.append(f"{'total records':<40} {self.records:>12,}")
        statuses = Counter(self.deliveries.values())
        lines.append(f"deliveries: {dict(statuses)}")
        lines.append(f"problems injected: {sum(self.problems.values()):,} "
                     f"in {len(self.problems)} kinds")
        if self.audits:
            lines.append("audit truth (findings/near misses): " + ", ".join(
                f"{a} {c['finding']}/{c['near_miss']}" for a, c in self.audits.items()))
        lines.append(f"{self.enterprises:,} enterprises, {self.elapsed:.1f} s, "
                     f"{self.records_per_second:,.0f} records/s, peak RSS parent "
                     f"{self.peak_rss_mb:.0f} MB, workers {self.peak_rss_workers_mb:.0f} MB")
        return "\n".join(lines)


@dataclass
class _Delivery:
    agency: str
    night: int
    status: str = "loaded"
    reason: str = ""
    fault: str | None = None
    fault_file: str | None = None
    copy_of: int | None = None


@dataclass
class _Layout:
    """Which delivery is broken, re-sent or loaded, and how every file is written."""

    nights: tuple[int, ...]
    deliveries: dict[tuple[str, int], _Delivery]
    files: dict[Key, FilePlan]
    unparseable: list[Key] = field(default_factory=list)
    file_problems: list[tuple[str, Key]] = field(default_factory=list)


def generate(out_dir: Path, config: GeneratorConfig) -> GenerationReport:
    started = time.monotonic()
    out_dir = Path(out_dir)
    n = config.enterprise_count
    layout = _layout(config)
    world = build_world(n, config.seed, layout.nights, rare_share=min(0.05, config.problem_rate / 4))
    plan = _plan(config, layout)
    landing, truth = out_dir / "landing", out_dir / "truth"
    for path in (landing, truth):
        if path.exists():
            shutil.rmtree(path)
    truth.mkdir(parents=True)

    writers = {key: _FileWriter(_folder(landing, FEEDS[key[0]].agency, layout.nights[key[1]])
                                / FEEDS[key[0]].file, FEEDS[key[0]], fp)
               for key, fp in layout.files.items()}
    problems: dict[int, Counter[str]] = {f: Counter() for f in range(len(FEEDS))}
    last_rows: dict[Key, tuple[list[str], int]] = {}
    quarantined: Counter[Key] = Counter()
    audits = AuditsWriter(truth, n)
    with open(truth / "records.csv", "wb") as records, \
            open(truth / "enterprises.csv", "wb") as enterprises:
        records.write(RECORDS_HEADER.encode())
        enterprises.write(ENTERPRISES_HEADER.encode())
        for result in _results(world, plan, n, config):
            for key, blob in result.blobs.items():
                writers[key].write(blob, result.rows[key])
            quarantined.update(result.quarantined)
            last_rows.update(result.last_rows)
            for f, counts in result.problems.items():
                problems[f].update(counts)
            records.write(result.truth_records)
            enterprises.write(result.truth_enterprises)
            audits.add(result.lo, result.truth_audits, result.a7_flags)
            if result.lo == 0:
                for key in layout.unparseable:
                    writers[key].write(_unparseable_row(key, layout.files[key]), 1)
                    quarantined[key] += 1
        truncated = _truncate(config, layout, writers, last_rows, records)
        if truncated:
            quarantined[truncated] += 1
    for key, writer in writers.items():
        writer.close(with_footer=key != truncated)
    audit_counts = audits.finish(world)

    _write_manifests(landing, layout, writers)
    _write_truth(truth, config, layout, writers, quarantined, problems)
    records_per_file = Counter[str]()
    for key, writer in writers.items():
        records_per_file[f"{FEEDS[key[0]].agency}/{FEEDS[key[0]].file}"] += writer.rows
    totals = _problem_totals(layout, problems)
    elapsed = time.monotonic() - started
    report = GenerationReport(
        out_dir=out_dir, enterprises=n, records=sum(records_per_file.values()),
        records_per_file=dict(records_per_file),
        deliveries={f"{d.agency}/{_yyyymmdd(layout.nights[d.night])}": d.status
                    for d in layout.deliveries.values()},
        problems=dict(totals), elapsed=elapsed,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        peak_rss_workers_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        audits=audit_counts,
    )
    summary = json.loads((truth / "summary.json").read_text())
    summary["records_per_file"] = report.records_per_file
    summary["records"] = report.records
    summary["audits"] = audit_counts
    (truth / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return report


# --- layout ------------------------------------------------------------------------------

def _layout(config: GeneratorConfig) -> _Layout:
    if config.nights < 1:
        raise ValueError("nights must be at least 1")
    rng = random.Random(config.seed)
    nights = tuple((config.start_date + timedelta(days=k)).toordinal() for k in range(config.nights))
    deliveries = {(a, k): _Delivery(a, k) for a in AGENCIES for k in range(config.nights)}

    resend = config.nights if config.resend_night is None else config.resend_night
    resend_agency = None
    if resend and config.nights >= 2:
        if not 2 <= resend <= config.nights:
            raise ValueError("resend night must be between 2 and nights")
        resend_agency = rng.choice(AGENCIES)
        d = deliveries[(resend_agency, resend - 1)]
        d.status, d.copy_of = "duplicate", resend - 2
        d.reason = f"re-delivery of {resend_agency}/{_yyyymmdd(nights[resend - 2])}"
    if config.fault_night is not None:
        if not 2 <= config.fault_night <= config.nights - 1:
            raise ValueError("fault night must be between 2 and nights-1 (its fix arrives next night)")
        k = config.fault_night - 1
        broken = rng.sample([a for a in AGENCIES if a != resend_agency], len(FAULT_KINDS))
        for agency, kind in zip(broken, FAULT_KINDS, strict=True):
            d = deliveries[(agency, k)]
            d.status, d.fault = "rejected", kind
            d.fault_file = FEEDS[rng.choice(agency_feeds(agency))].file
            d.reason = {"missing_file": f"missing file {d.fault_file}",
                        "wrong_sha256": f"sha256 mismatch for {d.fault_file}",
                        "wrong_row_count": f"row count mismatch for {d.fault_file}"}[kind]

    files = {(f, k): FilePlan(FEEDS[f].encoding) for f in range(len(FEEDS)) for k in range(config.nights)
             if deliveries[(FEEDS[f].agency, k)].copy_of is None}
    layout = _Layout(nights, deliveries, files)
    if config.problem_rate > 0:
        _plan_file_problems(rng, config, layout)
    return layout


def _plan_file_problems(rng: random.Random, config: GeneratorConfig, layout: _Layout) -> None:
    loaded = sorted(key for key in layout.files
                    if layout.deliveries[(FEEDS[key[0]].agency, key[1])].status == "loaded")
    share = min(0.5, config.problem_rate * 10)
    for kind, eligible in (("crlf_line_endings", lambda s: s.fmt != "xml"),
                           ("utf8_bom", lambda s: s.fmt != "xml" and s.encoding == "utf-8")):
        chosen = [key for key in loaded if eligible(FEEDS[key[0]]) and rng.random() < share]
        if not chosen:
            chosen = [rng.choice([key for key in loaded if eligible(FEEDS[key[0]])])]
        for key in chosen:
            if kind == "crlf_line_endings":
                layout.files[key].nl = "\r\n"
            else:
                layout.files[key].bom = True
            layout.file_problems.append((kind, key))
    # Structural problems: one file each (more at high rates), never two on one file.
    per_kind = 1 + int(len(loaded) * config.problem_rate / 10)
    taken: set[Key] = set()

    def pick(eligible: list[Key]) -> Key | None:
        free = [key for key in eligible if key not in taken]
        if not free:
            return None
        key = rng.choice(free)
        taken.add(key)
        return key

    delimited = [key for key in loaded if FEEDS[key[0]].delimited]
    for _ in range(per_kind):
        target = pick([k for k in delimited if k[1] == 0] or delimited)
        if target:
            fp = layout.files[target]
            fp.wrong_encoding = True
            fp.encoding = "utf-8" if fp.encoding == "gb18030" else "gb18030"
            fp.bom = False
            layout.file_problems.append(("wrong_encoding", target))
        target = pick(delimited)
        if target:
            layout.files[target].extra_column = True
            layout.file_problems.append(("extra_column", target))
        target = pick([k for k in delimited if FEEDS[k[0]].droppable is not None])
        if target:
            layout.files[target].missing_column = FEEDS[target[0]].droppable
            layout.file_problems.append(("missing_column", target))
        target = pick([k for k in loaded if FEEDS[k[0]].fmt != "xml"])
        if target:
            layout.files[target].unparseable = True
            layout.unparseable.append(target)
            layout.file_problems.append(("unparseable_row", target))
    for key in loaded:  # candidates for the truncated file, chosen once the row counts are known
        if FEEDS[key[0]].file in BIG_FEEDS and key not in taken:
            layout.files[key].truncate = True


def _plan(config: GeneratorConfig, layout: _Layout) -> Plan:
    nights = layout.nights
    night_of_day: dict[str, dict[int, int | None]] = {}
    outputs: dict[str, list[list[int]]] = {}
    carry: set[tuple[str, int]] = set()
    for agency in AGENCIES:
        days: dict[int, int | None] = {}
        outs: list[list[int]] = [[0]]
        for k in range(1, len(nights)):
            d = layout.deliveries[(agency, k)]
            if d.copy_of is not None:  # quiet night: its records come the night after
                days[nights[k]] = k + 1 if k + 1 < len(nights) else None
                outs.append([])
            elif d.fault:
                days[nights[k]] = k
                outs.append([k, k + 1])
                carry.add((agency, k))
            else:
                days.setdefault(nights[k], k)
                outs.append([k])
        night_of_day[agency] = days
        outputs[agency] = outs
    return Plan(seed=config.seed, rate=config.problem_rate, nights=nights, files=layout.files,
                night_of_day=night_of_day, outputs=outputs, carry=carry)


# --- running the workers -----------------------------------------------------------------

def _results(world: World, plan: Plan, n: int, config: GeneratorConfig) -> Iterator[ChunkResult]:
    install(world, plan)
    bounds = [(lo, min(n, lo + config.chunk_size)) for lo in range(0, n, config.chunk_size)]
    workers = config.workers or os.cpu_count() or 1
    if workers == 1 or len(bounds) == 1:
        yield from map(run_chunk, bounds)
        return
    # Spawned, not forked: a fork copies whatever locks the parent's other threads (a Spark
    # gateway, Arrow's thread pool) hold at that moment, and a worker can hang on one for ever.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=install, initargs=(world, plan)) as pool:
        yield from pool.imap(run_chunk, bounds)


class _FileWriter:
    """One delivered file: appends encoded bytes, hashing and counting as it writes."""

    def __init__(self, path: Path, spec: FeedSpec, plan: FilePlan):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.spec = spec
        self.plan = plan
        self.sha = hashlib.sha256()
        self.rows = 0
        self.handle: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        columns = spec.columns
        if plan.extra_column:
            columns = (*columns, spec.extra_column)
        if plan.missing_column is not None:
            columns = columns[:plan.missing_column] + columns[plan.missing_column + 1:]
        head = header_line(spec, columns, plan.nl).encode(plan.encoding)
        self.write((b"\xef\xbb\xbf" if plan.bom else b"") + head, 0)

    def write(self, blob: bytes, rows: int) -> None:
        self.handle.write(blob)
        self.sha.update(blob)
        self.rows += rows

    def close(self, with_footer: bool = True) -> None:
        if with_footer:
            self.write(footer(self.spec).encode(self.plan.encoding), 0)
        self.handle.close()

    @property
    def sha256(self) -> str:
        return self.sha.hexdigest()


def _unparseable_row(key: Key, fp: FilePlan) -> bytes:
    """A row no reader can use: bytes valid in neither encoding, or broken JSON."""
    spec = FEEDS[key[0]]
    nl = fp.nl.encode()
    if spec.fmt == "jsonl":
        broken = f'{{"id": "{spec.prefix}", "op": "I", "{spec.columns[2]}": "21'
        return broken.encode() + nl
    return b"\xff\xfe\x80#CORRUPTED#\xff\x00\x80" + nl


def _truncate(config: GeneratorConfig, layout: _Layout, writers: dict[Key, _FileWriter],
              last_rows: dict[Key, tuple[list[str], int]], records: BinaryIO) -> Key | None:
    """Cut a sacrificial last record of one big file mid-way (its manifest still counts it)."""
    candidates = sorted(key for key, fp in layout.files.items() if fp.truncate and key in last_rows)
    if not candidates:
        return None
    delta = [key for key in candidates if key[1] > 0]
    key = random.Random(config.seed + 1).choice(delta or candidates)
    spec = FEEDS[key[0]]
    fields, ent = last_rows[key]
    fields = list(fields)
    fields[0] = spec.record_id(ent, spec.stride - 1)
    fields[1] = "I"
    line = make_file_renderer(spec, layout.files[key])(fields, True).encode(layout.files[key].encoding)
    writers[key].write(line[: max(1, len(line) // 2)], 1)
    records.write(f"{spec.agency},{spec.feed},{fields[0]},E{ent:07d},quarantined\n".encode())
    layout.file_problems.append(("truncated_file", key))
    return key


# --- manifests and truth -----------------------------------------------------------------

def _folder(landing: Path, agency: str, day: int) -> Path:
    return landing / agency / _yyyymmdd(day)


def _yyyymmdd(day: int) -> str:
    return date.fromordinal(day).strftime("%Y%m%d")


def _write_manifests(landing: Path, layout: _Layout, writers: dict[Key, _FileWriter]) -> None:
    ordered = sorted(layout.deliveries.values(), key=lambda d: (d.night, AGENCIES.index(d.agency)))
    for d in ordered:
        folder = _folder(landing, d.agency, layout.nights[d.night])
        if d.copy_of is not None:
            source = _folder(landing, d.agency, layout.nights[d.copy_of])
            folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(source.iterdir()):
                shutil.copyfile(path, folder / path.name)
            continue
        entries = []
        for f in agency_feeds(d.agency):
            w = writers[(f, d.night)]
            entry = {"name": FEEDS[f].file, "rows": w.rows, "sha256": w.sha256}
            if d.fault_file == FEEDS[f].file:
                if d.fault == "missing_file":
                    w.path.unlink()
                elif d.fault == "wrong_sha256":
                    entry["sha256"] = hashlib.sha256(w.sha256.encode()).hexdigest()
                elif d.fault == "wrong_row_count":
                    entry["rows"] = w.rows + 1 + w.rows // 10
            entries.append(entry)
        manifest = {"agency": d.agency, "batch_date": date.fromordinal(layout.nights[d.night]).isoformat(),
                    "mode": "full" if d.night == 0 else "delta", "files": entries}
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                              encoding="utf-8")


def _csv_line(*values: object) -> str:
    return ",".join(str(v) for v in values) + "\n"


def _write_truth(truth: Path, config: GeneratorConfig, layout: _Layout,
                 writers: dict[Key, _FileWriter], quarantined: Counter[Key],
                 problems: dict[int, Counter[str]]) -> None:
    ordered = sorted(layout.deliveries.values(), key=lambda d: (d.night, AGENCIES.index(d.agency)))
    with open(truth / "deliveries.csv", "w", encoding="utf-8", newline="") as out:
        out.write("agency,batch_date,folder,status,reason\n")
        for d in ordered:
            day = layout.nights[d.night]
            out.write(_csv_line(d.agency, date.fromordinal(day).isoformat(),
                                f"landing/{d.agency}/{_yyyymmdd(day)}", d.status, d.reason))
    with open(truth / "files.csv", "w", encoding="utf-8", newline="") as out:
        out.write("agency,batch_date,file,rows_delivered,rows_expected_quarantined\n")
        for d in ordered:
            if d.status != "loaded":
                continue
            for f in agency_feeds(d.agency):
                out.write(_csv_line(d.agency, date.fromordinal(layout.nights[d.night]).isoformat(),
                                    FEEDS[f].file, writers[(f, d.night)].rows,
                                    quarantined[(f, d.night)]))
    with open(truth / "problems.csv", "w", encoding="utf-8", newline="") as out:
        out.write("kind,agency,file,batch_date,count\n")
        for f, counts in problems.items():
            for kind in sorted(counts):
                out.write(_csv_line(kind, FEEDS[f].agency, FEEDS[f].file, "", counts[kind]))
        for kind, (f, k) in layout.file_problems:
            out.write(_csv_line(kind, FEEDS[f].agency, FEEDS[f].file,
                                date.fromordinal(layout.nights[k]).isoformat(), 1))
    summary = {
        "config": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(config).items()
                   if k not in ("workers",)},
        "enterprises": config.enterprise_count,
        "nights": [date.fromordinal(d).isoformat() for d in layout.nights],
        "problems": dict(sorted(_problem_totals(layout, problems).items())),
        "reserved_keys_per_enterprise": RESERVED,
    }
    (truth / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


def _problem_totals(layout: _Layout, problems: dict[int, Counter[str]]) -> Counter[str]:
    totals: Counter[str] = Counter({kind: 0 for kind in FIELD_PROBLEMS})
    for counts in problems.values():
        totals.update(counts)
    for kind, _ in layout.file_problems:
        totals[kind] += 1
    return totals
