"""Hand-made delivery folders for tests that need one precise defect."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def write_delivery(landing: Path, agency: str, folder: str, files: dict[str, bytes],
                   rows: dict[str, int], *, mode: str = "full",
                   manifest_overrides: dict[str, dict] | None = None) -> Path:
    """Write files and a manifest that matches them (unless overridden per file)."""
    target = landing / agency / folder
    target.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, content in files.items():
        (target / name).write_bytes(content)
        entry = {"name": name, "rows": rows[name], "sha256": hashlib.sha256(content).hexdigest()}
        entry.update((manifest_overrides or {}).get(name, {}))
        entries.append(entry)
    manifest = {"agency": agency, "batch_date": f"{folder[:4]}-{folder[4:6]}-{folder[6:]}",
                "mode": mode, "files": entries}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return target


REGISTRATION_HEADER = ("记录ID,操作,注册号,统一社会信用代码,企业名称,企业类型,法定代表人,"
                       "法定代表人证件号码,住所,注册资本(万元),成立日期,核准日期,登记状态,行业代码,登记机关")


def registration(record_id: str, op: str, name: str, uscc: str = "91210181662418641N",
                 status: str = "存续", approved: str = "2021-02-04", capital: str = "100") -> str:
    return (f"{record_id},{op},,{uscc},{name},有限责任公司(自然人投资或控股),林宏伟,"
            f"210115198202018491,辽宁省沈阳市新民市青年大街4号,{capital},1995-09-27,{approved},"
            f"{status},I6513,沈阳市市场监督管理局")


def csv_file(header: str, lines: list[str], *, encoding: str = "gb18030",
             newline: str = "\n") -> bytes:
    return newline.join([header, *lines, ""]).encode(encoding)
