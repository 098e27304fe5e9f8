"""The Splink baseline on a dozen hand-made enterprises: real Splink + DuckDB, no mocks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xinyong.ids import org_check_char, uscc_check_char
from xinyong.splink_baseline import SplinkRun, main, resolve_with_splink

REGION = "210102"
ORDINARY = 150
COLUMNS = ("mention_id", "agency", "feed", "record_id", "name", "name_norm", "uscc", "org", "regno",
           "taxno", "customs", "is_branch", "legal_rep", "source_rank")


def codes(n: int) -> tuple[str, str]:
    """A valid (uscc, org) pair: the organization code is embedded in the unified code."""
    body = f"MA{n:06d}"
    org = body + org_check_char(body)
    uscc17 = f"91{REGION}{org}"
    return uscc17 + uscc_check_char(uscc17), org


def mention(agency: str, feed: str, record_id: str, name: str, *, uscc: str | None = None,
            org: str | None = None, regno: str | None = None, customs: str | None = None,
            is_branch: bool = False, legal_rep: str | None = None) -> dict[str, object]:
    return {"mention_id": f"{agency}|{feed}|{record_id}", "agency": agency, "feed": feed,
            "record_id": record_id, "name": name, "name_norm": name, "uscc": uscc, "org": org,
            "regno": regno, "taxno": None, "customs": customs, "is_branch": is_branch,
            "legal_rep": legal_rep, "source_rank": 1}


TRADE = "华信金鼎永安博远瑞丰天成恒通嘉禾新兴盛达鸿运聚源"
INDUSTRIES = ("物流", "建设工程", "医药", "信息技术", "食品", "装饰工程", "汽车销售", "农业发展")
SURNAMES = "王李赵孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "建国淑珍志强丽华海涛春梅玉兰立军"
CITIES = ("沈阳", "大连", "鞍山", "抚顺")


def ordinary(i: int) -> tuple[str, str, str]:
    """(city, trade name + industry, legal representative) of ordinary enterprise i, all distinct."""
    first, second = divmod(i, len(TRADE))
    business = TRADE[first % len(TRADE)] + TRADE[second] + INDUSTRIES[i % len(INDUSTRIES)]
    return (CITIES[i % len(CITIES)], business,
            SURNAMES[i % len(SURNAMES)] + GIVEN[(2 * i) % len(GIVEN)] + GIVEN[(3 * i + 1) % len(GIVEN)])


def enterprises() -> tuple[list[dict[str, object]], dict[str, str]]:
    """The mentions and, for each, its true enterprise."""
    rows: list[dict[str, object]] = []
    truth: dict[str, str] = {}

    def add(enterprise: str, *mentions: dict[str, object]) -> None:
        for m in mentions:
            rows.append(m)
            truth[str(m["mention_id"])] = enterprise

    # Enough ordinary enterprises for Splink to estimate u and m at all: with a dozen, random pairs
    # are mostly matches and every estimate is noise.
    for i in range(ORDINARY):
        city, business, person = ordinary(i)
        uscc, org = codes(100 + i)
        name = f"{city}{business}有限公司"
        regno = f"{REGION}{i:09d}"
        mentions = [
            mention("aic", "registrations", f"R{i}", name, uscc=uscc, org=org, regno=regno, legal_rep=person),
            mention("state_tax", "vat_returns", f"V{i}#1", name, uscc=uscc, org=org),
            mention("state_tax", "vat_returns", f"V{i}#2", name, uscc=uscc, org=org),
            mention("public_security", "seal_filings", f"S{i}", name, regno=regno, legal_rep=person),
            # a short form of the name (no place name) sharing only the organization code
            mention("quality", "org_code_certificates", f"Q{i}", f"{business}有限公司", org=org,
                    legal_rep=person),
        ]
        if i % 3 == 0:
            customs = f"2101{i:06d}"
            mentions += [mention("customs", "declarations", f"D{i}", name, uscc=uscc, org=org,
                                 customs=customs),
                         mention("customs", "credit_ratings", f"C{i}", name, customs=customs)]
        add(f"E{i}", *mentions)

    # Two enterprises with near-identical names but different codes, and a branch of the first whose
    # name contains its head office's name (same legal representative, its own codes).
    head_uscc, head_org = codes(1)
    twin_uscc, twin_org = codes(2)
    branch_uscc, branch_org = codes(3)
    head, twin, branch = "沈阳宏达科技有限公司", "沈阳宏远科技有限公司", "沈阳宏达科技有限公司大东分公司"
    add("HEAD",
        mention("aic", "registrations", "R-head", head, uscc=head_uscc, org=head_org, legal_rep="刘宏达"),
        mention("state_tax", "vat_returns", "V-head", head, uscc=head_uscc, org=head_org),
        mention("customs", "declarations", "D-head", head, uscc=head_uscc, org=head_org,
                customs="2101930001"),
        # customs code and name only: linked through the customs code
        mention("customs", "credit_ratings", "C-head", head, customs="2101930001"),
        mention("public_security", "seal_filings", "S-head", head, org=head_org, legal_rep="刘宏达"))
    add("TWIN",
        mention("aic", "registrations", "R-twin", twin, uscc=twin_uscc, org=twin_org, legal_rep="马远"),
        mention("state_tax", "vat_returns", "V-twin", twin, uscc=twin_uscc, org=twin_org),
        mention("quality", "org_code_certificates", "Q-twin", twin, org=twin_org))
    add("BRANCH",
        mention("aic", "registrations", "R-branch", branch, uscc=branch_uscc, org=branch_org,
                is_branch=True, legal_rep="刘宏达"),
        mention("state_tax", "vat_returns", "V-branch", branch, uscc=branch_uscc, org=branch_org,
                is_branch=True),
        mention("local_tax", "declarations", "L-branch", branch, org=branch_org, is_branch=True))
    return rows, truth


@pytest.fixture(scope="module")
def mentions_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    rows, truth = enterprises()
    path = tmp_path_factory.mktemp("splink") / "mentions.parquet"
    schema = pa.schema([(c, pa.bool_() if c == "is_branch" else pa.int32() if c == "source_rank"
                         else pa.string()) for c in COLUMNS]
                       + [("extra", pa.string())])  # extra columns are ignored
    table = pa.Table.from_pylist([{**r, "extra": "x"} for r in rows], schema=schema)
    pq.write_table(table, path)
    return path, truth


@pytest.fixture(scope="module")
def run(mentions_file: tuple[Path, dict[str, str]]) -> SplinkRun:
    return resolve_with_splink(mentions_file[0], threads=1)


def test_every_mention_comes_back(run: SplinkRun, mentions_file: tuple[Path, dict[str, str]]) -> None:
    truth = mentions_file[1]
    assert set(run.clusters) == set(truth)
    assert run.threshold == 0.9
    assert run.comparisons > 0 and run.seconds > 0


def test_mentions_sharing_codes_are_linked(run: SplinkRun,
                                           mentions_file: tuple[Path, dict[str, str]]) -> None:
    truth = mentions_file[1]
    for enterprise in set(truth.values()):
        members = {run.clusters[m] for m, e in truth.items() if e == enterprise}
        assert len(members) == 1, enterprise


def test_different_codes_stay_apart(run: SplinkRun, mentions_file: tuple[Path, dict[str, str]]) -> None:
    truth = mentions_file[1]
    cluster_of = {e: run.clusters[m] for m, e in truth.items()}
    assert len(set(cluster_of.values())) == len(cluster_of)  # one cluster per enterprise, none merged
    assert len({cluster_of["HEAD"], cluster_of["TWIN"], cluster_of["BRANCH"]}) == 3


def test_command_line_prints_scores(mentions_file: tuple[Path, dict[str, str]], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path, truth = mentions_file
    with (tmp_path / "records.csv").open("w", encoding="utf-8") as handle:
        handle.write("agency,feed,record_id,enterprise_id\n")
        for mention_id, enterprise in truth.items():
            handle.write(",".join([*mention_id.split("|", 2), enterprise]) + "\n")
    main(["--mentions", str(path), "--truth", str(tmp_path), "--threads", "1"])
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == len(truth) and out["mentions"] == len(truth)
    assert out["pairwise_f1"] == 1.0 and out["bcubed_f1"] == 1.0


def test_command_line_runs_twice_and_writes_the_clusters(mentions_file: tuple[Path, dict[str, str]],
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path, truth = mentions_file
    clusters_file = tmp_path / "clusters.parquet"
    main(["--mentions", str(path), "--threads", "1", "--runs", "2", "--clusters-out", str(clusters_file)])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert len(out["seconds_by_run"]) == 2 and all(s > 0 for s in out["seconds_by_run"])
    assert "pairwise_f1" not in out  # no --truth, no scores
    clusters = pq.read_table(clusters_file).to_pydict()
    assert sorted(clusters["mention_id"]) == sorted(truth)
    cluster_of = dict(zip(clusters["mention_id"], clusters["cluster"], strict=True))
    for enterprise in set(truth.values()):
        assert len({cluster_of[m] for m, e in truth.items() if e == enterprise}) == 1, enterprise
    assert len(set(cluster_of.values())) == len(set(truth.values()))
