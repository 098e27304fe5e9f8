"""Entity resolution: link every source mention to one enterprise with a stable id."""

from xinyong.resolve.job import run_job
from xinyong.resolve.session import build_spark
from xinyong.resolve.transforms import (
    CODE_KINDS,
    EDGE_RULES,
    EdgeRule,
    Resolution,
    Settings,
    assign_enterprise_ids,
    build_enterprises,
    code_key_edges,
    connected_components,
    guard_keys,
    link_mentions,
    prior_ids_held,
    resolve,
    rule_edges,
)

__all__ = [
    "CODE_KINDS",
    "EDGE_RULES",
    "EdgeRule",
    "Resolution",
    "Settings",
    "assign_enterprise_ids",
    "build_enterprises",
    "build_spark",
    "code_key_edges",
    "connected_components",
    "guard_keys",
    "link_mentions",
    "prior_ids_held",
    "resolve",
    "rule_edges",
    "run_job",
]
