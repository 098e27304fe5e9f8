"""The agency registry: every sub-package defining ``AGENCY`` is an agency."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from xinyong.feeds.spec import Agency, Feed


@cache
def agencies() -> dict[str, Agency]:
    found: dict[str, Agency] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module_info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        agency = getattr(module, "AGENCY", None)
        if isinstance(agency, Agency):
            found[agency.code] = agency
    return found


def agency(code: str) -> Agency:
    try:
        return agencies()[code]
    except KeyError:
        raise KeyError(f"unknown agency {code!r}; known: {', '.join(agencies())}") from None


def all_feeds() -> list[tuple[Agency, Feed]]:
    return [(a, f) for a in agencies().values() for f in a.feeds]
