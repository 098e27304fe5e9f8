"""Entity resolution: link every mention to one enterprise with a stable id and evidence.

DataFrame → DataFrame functions built from Spark SQL functions only (Python UDFs are
reserved for fuzzy name scoring). ``resolve`` runs the steps in order:

1. edge rules (``EDGE_RULES``) emit bipartite edges mention — key ``(kind, value)``;
2. ``guard_keys`` drops keys that would chain different enterprises together;
3. ``connected_components`` labels every mention with the smallest mention_id it reaches:
   the code clusters;
4. ``merge_by_name`` joins code clusters that carry one exact normalised name, current or
   former (from the name-change feed), when their codes cannot be two enterprises (an old
   enterprise's register record has only its registration number, its tax records only
   the organization code); ``attach_by_fuzzy_name`` then links what still has no register
   code (short forms, misspellings) to the one enterprise whose name it resembles, with
   legal representative and damaged codes as supporting evidence, inside 字号 blocks;
5. ``assign_enterprise_ids`` carries prior ids over and records merges and splits;
6. ``build_enterprises`` builds the golden record of each enterprise.

A branch (分公司) is never linked to its head office by name: the branch flag is part of
every name key and of every fuzzy block.

Every choice is a minimum over a total order, so the result does not depend on
partitioning or task timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from xinyong.names import CITIES

if TYPE_CHECKING:
    import pandas as pd

# Code kinds, strongest evidence first: the order names the rule of a link.
CODE_KINDS: tuple[str, ...] = ("uscc", "org", "regno", "taxno", "customs")
EdgeRule = Callable[[DataFrame], DataFrame]

DEFAULT_MAX_KEY_DEGREE = 5000
DEFAULT_MAX_ITERATIONS = 50
DEFAULT_CHECKPOINT_EVERY = 3
# Up to this many edges a graph's components are found in one task (seconds, where label
# propagation costs a few Spark jobs a round); beyond it, by label propagation across the cluster.
DEFAULT_SINGLE_TASK_EDGES = 20_000_000
SINGLE_TASK_BATCH = 1_000_000  # rows per Arrow batch a single-task solve returns
# What the Python functions below import in Spark's workers (session.warm_python_workers).
WORKER_MODULES = ("numpy", "pandas", "pyarrow", "scipy.sparse.csgraph", "xinyong.resolve.similarity")
ID_PREFIX = "E"
ID_DIGITS = 10

# Codes that name one registered enterprise: two clusters holding different values of one
# of these kinds are two enterprises.
REGISTER_KINDS: tuple[str, ...] = ("uscc", "org", "regno")
IDENTITY_KINDS: tuple[str, ...] = (*REGISTER_KINDS, "customs")
DEFAULT_MAX_NAME_CLUSTERS = 50
# Mentions holding another code than a name's consensus, as a share of the consensus's,
# above which the name is ambiguous rather than misread.
CONFLICT_SHARE = 0.2
DEFAULT_FUZZY_THRESHOLD = 90.0
DEFAULT_FUZZY_MARGIN = 5.0
LEGAL_REP_AGREES = 5.0
LEGAL_REP_DIFFERS = -10.0
CITY_AGREES = 5.0  # the city a name starts with (大连泽泽 for 大连泽泽酒店管理有限公司)
CITY_DIFFERS = -10.0
WEAK_CODE_FITS = 5.0
SPELLED_ALIKE = 5.0  # the query's name as delivered starts one of the candidate's
WEAK_CODE_CONTRADICTS = -20.0
# The query's records are all dated after the candidate's registration ended (沈阳骏万 moved
# away in 2016; a 2026 record of 骏万餐饮管理 means 鞍山骏万), or all before it was founded. Not
# the dates of name changes: agencies write a record dated before a change under the new name.
OUTSIDE_LIFETIME = -10.0
# Equally named candidates of a name-only penalty (the price bureau's 当事人 优叁建材 fits 本溪优叁
# 建材 and 大连优叁建材 alike) are told apart by which one another agency penalised within a year
# of it (Feed.penalty_on_field). It breaks ties only: it never lifts a name to the threshold.
PENALIZED_NEAR = 5.0
PENALTY_WINDOW_DAYS = 365
# Several enterprises held a name at a record's date: the record's spelling of it decides when
# it is how one of them mostly spells that name (this share of its records under the name or
# more) and how each other one seldom does (this share or less: other agencies' slips).
OWN_SPELLING = 0.5
OTHERS_SPELLING = 0.1
_LEADING_CITY = "^(" + "|".join(sorted(CITIES, key=len, reverse=True)) + ")"

MENTION_COLUMNS = (
    "mention_id", "agency", "feed", "record_id", "name", "name_norm", *CODE_KINDS,
    "is_branch", "source_rank", "legal_rep", "name_core", "former_name_norm", "weak_code", "named_on",
    "closed_on", "founded_on", "penalized_on",
)
_OPTIONAL_TEXT_COLUMNS = ("legal_rep", "name_core", "former_name_norm", "weak_code")
# closed_on: the day a register record says its enterprise ended; founded_on: its 成立日期;
# penalized_on: the day of the penalty the record is (null: the record is none).
_DATE_COLUMNS = ("named_on", "closed_on", "founded_on", "penalized_on")
_HEAD_OF_BRANCH = r"^(.+?(?:股份公司|有限公司|公司)).+分(?:公司|店|厂)$"  # as names.core_name
LINK_COLUMNS = ("mention_id", "enterprise_id", "rule", "evidence")
ENTERPRISE_COLUMNS = (
    "enterprise_id", "canonical_name", *CODE_KINDS, "is_branch", "mention_count",
    "former_names", "region", "legal_rep", "head_enterprise_id",
)
ID_CHANGE_COLUMNS = ("enterprise_id", "change", "other_enterprise_id")
DROPPED_KEY_COLUMNS = ("kind", "value", "reason", "mentions")


@dataclass(frozen=True)
class Resolution:
    links: DataFrame
    enterprises: DataFrame
    id_changes: DataFrame
    dropped_keys: DataFrame
    iterations: int
    signatures: int  # the mentions' signatures (alike mentions are linked once)
    signatures_linked: int  # those linked this night: all, or on a delta night the touched ones
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each step


@dataclass(frozen=True)
class Settings:
    """The resolver's knobs; the defaults are what the nightly job uses."""

    max_key_degree: int = DEFAULT_MAX_KEY_DEGREE
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    single_task_edges: int = DEFAULT_SINGLE_TASK_EDGES
    max_name_clusters: int = DEFAULT_MAX_NAME_CLUSTERS
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    fuzzy_margin: float = DEFAULT_FUZZY_MARGIN


DEFAULT_SETTINGS = Settings()


def format_enterprise_id(number: Column) -> Column:
    return F.concat(F.lit(ID_PREFIX), F.lpad(number.cast("string"), ID_DIGITS, "0"))


def conform_mentions(mentions: DataFrame) -> DataFrame:
    """Pin the types the loader may vary (int32/int64 ranks, null flags); columns a
    warehouse loaded before they existed are null."""
    for column in _OPTIONAL_TEXT_COLUMNS:
        if column not in mentions.columns:
            mentions = mentions.withColumn(column, F.lit(None).cast("string"))
    for column in _DATE_COLUMNS:
        if column not in mentions.columns:
            mentions = mentions.withColumn(column, F.lit(None))
    return mentions.select(
        *(c for c in MENTION_COLUMNS if c not in ("is_branch", "source_rank", *_DATE_COLUMNS)),
        *(F.col(c).cast("date").alias(c) for c in _DATE_COLUMNS),
        F.coalesce(F.col("is_branch").cast("boolean"), F.lit(False)).alias("is_branch"),
        F.col("source_rank").cast("int").alias("source_rank"),
        # Which agency imposed the penalty: what a signature keeps of the agency (PENALIZED_NEAR).
        F.when(F.col("penalized_on").isNotNull(), F.col("agency")).alias("penalized_by"),
    )


# --- 1. edges ------------------------------------------------------------------------------

def code_key_edges(mentions: DataFrame) -> DataFrame:
    """One edge per valid code a mention carries: (mention_id, kind, value)."""
    keys = F.explode(F.array(*(
        F.struct(F.lit(kind).alias("kind"), F.col(kind).alias("value")) for kind in CODE_KINDS
    )))
    return (
        mentions.select("mention_id", keys.alias("key"))
        .select("mention_id", "key.kind", "key.value")
        .where(F.col("value").isNotNull())
    )


EDGE_RULES: tuple[EdgeRule, ...] = (code_key_edges,)


def rule_edges(mentions: DataFrame, rules: Sequence[EdgeRule] = EDGE_RULES) -> DataFrame:
    return reduce(DataFrame.unionByName, (rule(mentions) for rule in rules)).distinct()


# --- 2. giant-cluster guard ----------------------------------------------------------------

def guard_keys(
    mentions: DataFrame, edges: DataFrame, max_key_degree: int = DEFAULT_MAX_KEY_DEGREE
) -> tuple[DataFrame, DataFrame]:
    """Split edges into kept edges (plus ``key_mentions``) and dropped keys with a reason.

    Reasons, first match wins:
      uscc_conflict   the key's mentions carry more than one distinct uscc: a uscc names
                      one enterprise, so the key would join two
      regno_conflict  the same for registration numbers (uscc keys exempt: the uscc is the
                      authority when a registration number is wrong)
      degree          more than ``max_key_degree`` mentions and no uscc or regno among
                      them; a big enterprise's thousands of VAT returns share codes with
                      its register record, which anchors them, so they are kept
    """
    # A signature row stands for ``weight`` mentions; a plain mention for one.
    weight = F.col("weight") if "weight" in mentions.columns else F.lit(1)
    stats = (
        edges.join(mentions.select("mention_id", "uscc", "regno", weight.alias("weight")), "mention_id")
        .groupBy("kind", "value")
        .agg(
            F.sum("weight").cast("long").alias("mentions"),
            # size(collect_set): one aggregate; two count_distinct plan an expand and two more.
            F.size(F.collect_set("uscc")).alias("usccs"),
            F.size(F.collect_set("regno")).alias("regnos"),
        )
    )
    kind = F.col("kind")
    reason = (
        F.when((kind != "uscc") & (F.col("usccs") > 1), "uscc_conflict")
        .when(~kind.isin("uscc", "regno") & (F.col("regnos") > 1), "regno_conflict")
        .when(
            (F.col("mentions") > max_key_degree) & (F.col("usccs") + F.col("regnos") == 0),
            "degree",
        )
    )
    judged = stats.withColumn("reason", reason).localCheckpoint()  # kept and dropped both read it
    dropped = judged.where(F.col("reason").isNotNull()).select(*DROPPED_KEY_COLUMNS)
    kept_keys = judged.where(F.col("reason").isNull()).select(
        "kind", "value", F.col("mentions").alias("key_mentions")
    )
    return edges.join(kept_keys, ["kind", "value"]), dropped


# --- 3. connected components ---------------------------------------------------------------

def connected_components(
    edges: DataFrame,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    single_task_edges: int = DEFAULT_SINGLE_TASK_EDGES,
) -> tuple[DataFrame, int]:
    """Label each mention of the graph mention — key with the smallest mention_id reachable.

    ``edges`` (mention_id, kind, value) must be distinct (``rule_edges`` makes them so).
    Returns ``(mention_id, label)`` for the mentions with an edge, and the number of rounds
    (1 when solved in one task). A graph of at most ``single_task_edges`` edges is solved in
    one executor task (``components_in_one_task``); a bigger one by ``propagate_min_labels``.
    """
    if edges.count() <= single_task_edges:
        return components_in_one_task(edges), 1
    return propagate_min_labels(edges, max_iterations, checkpoint_every)


def components_in_one_task(edges: DataFrame) -> DataFrame:
    """``connected_components`` in a single executor task with scipy's union of a sparse graph.

    On the nightly graph (a few edges per signature, not per record) this takes seconds where
    each round of label propagation costs several Spark jobs; the edges still never reach the
    driver. The smallest mention of a component labels it, as in ``propagate_min_labels``:
    mentions are numbered in sorted order (code-point order, which is Spark's UTF-8 order).
    """
    def solve(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import numpy as np
        import pandas as pd
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components as scipy_components

        parts = list(batches)
        if not parts or all(part.empty for part in parts):
            return
        frame = pd.concat(parts, ignore_index=True)
        mention_index, mentions = pd.factorize(frame["mention_id"], sort=True)
        key_index, keys = pd.factorize(frame["kind"] + "\x00" + frame["value"])
        size = len(mentions) + len(keys)
        graph = coo_matrix(
            (np.ones(len(frame), dtype=np.int8), (mention_index, key_index + len(mentions))),
            shape=(size, size),
        )
        _, component = scipy_components(graph, directed=False)
        component = component[: len(mentions)]
        smallest = np.full(component.max() + 1, len(mentions), dtype=np.int64)
        np.minimum.at(smallest, component, np.arange(len(mentions)))
        labels = np.asarray(mentions)[smallest[component]]
        for start in range(0, len(mentions), SINGLE_TASK_BATCH):
            stop = start + SINGLE_TASK_BATCH
            yield pd.DataFrame({"mention_id": np.asarray(mentions)[start:stop],
                                "label": labels[start:stop]})

    return (
        edges.select("mention_id", "kind", "value").repartition(1)
        .mapInPandas(solve, "mention_id string, label string")
        .localCheckpoint()
    )


def propagate_min_labels(
    edges: DataFrame,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
) -> tuple[DataFrame, int]:
    """``connected_components`` distributed: min-label propagation on the bipartite graph.

    A key takes the smallest label of its mentions, a mention the smallest label of its
    keys. A mention belongs to its own keys, so labels only decrease; it stops when a round
    changes none, and fails after ``max_iterations`` rounds.
    """
    members = edges.select("mention_id", "kind", "value").persist()
    labels = members.select("mention_id", F.col("mention_id").alias("label")).distinct()
    cached: DataFrame | None = None
    for iteration in range(1, max_iterations + 1):
        labelled = members.join(labels, "mention_id")
        key_labels = labelled.groupBy("kind", "value").agg(F.min("label").alias("key_label"))
        next_labels = (
            labelled.join(key_labels, ["kind", "value"])
            .groupBy("mention_id")
            .agg(F.min("key_label").alias("label"), F.min("label").alias("previous"))
        )
        # Cache every round; cut the lineage every few so plans stay small.
        next_labels = (
            next_labels.localCheckpoint()
            if iteration % checkpoint_every == 0
            else next_labels.persist()
        )
        changed = next_labels.where(F.col("label") != F.col("previous")).count()
        if cached is not None:
            cached.unpersist()
        cached = next_labels
        labels = next_labels.select("mention_id", "label")
        if changed == 0:
            result = labels.localCheckpoint()
            cached.unpersist()
            members.unpersist()
            return result, iteration
    raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")


# --- 4. links and evidence -----------------------------------------------------------------

def _kind_priority(kind: Column) -> Column:
    ranks = F.create_map(*(F.lit(x) for i, k in enumerate(CODE_KINDS) for x in (k, i)))
    return F.coalesce(ranks[kind], F.lit(len(CODE_KINDS)))


def explain_code_links(kept_edges: DataFrame, labels: DataFrame) -> DataFrame:
    """(mention_id, cluster, rule, evidence) for mentions with kept keys.

    The rule is the strongest kind among the keys the mention shares with another mention
    (its own strongest key when it shares none); the evidence lists all its kept keys.
    """
    priority = _kind_priority(F.col("kind"))
    alone = (F.col("key_mentions") < 2).cast("int")
    keys_in_order = F.array_sort(F.collect_list(F.struct(priority.alias("p"), "kind", "value")))
    per_mention = kept_edges.groupBy("mention_id").agg(
        F.min(F.struct(alone.alias("alone"), priority.alias("p"), "kind"))["kind"].alias("rule"),
        F.to_json(F.map_from_entries(
            F.transform(keys_in_order, lambda k: F.struct(k["kind"], k["value"]))
        )).alias("evidence"),
    )
    return per_mention.join(labels.withColumnRenamed("label", "cluster"), "mention_id")


def code_clusters(mentions: DataFrame, kept_edges: DataFrame, labels: DataFrame) -> DataFrame:
    """(mention_id, cluster, rule, evidence) for every mention: its code cluster (itself
    when it has no kept key) and the code rule that put it there."""
    code_links = explain_code_links(kept_edges, labels)
    return mentions.select("mention_id").join(code_links, "mention_id", "left").select(
        "mention_id",
        F.coalesce("cluster", "mention_id").alias("cluster"),
        F.coalesce("rule", F.lit("singleton")).alias("rule"),
        F.coalesce("evidence", F.lit("{}")).alias("evidence"),
    )


def identity_codes(kept_edges: DataFrame, clusters: DataFrame) -> DataFrame:
    """(cluster, kind, code): the identity codes each cluster holds."""
    return (
        kept_edges.where(F.col("kind").isin(*IDENTITY_KINDS))
        .join(clusters.select("mention_id", "cluster"), "mention_id")
        .select("cluster", "kind", F.col("value").alias("code"))
        .distinct()
    )


def _branch_keyed(name: Column) -> Column:
    """A name key carries the branch flag: a branch and its head office never share one.
    No name, no key (concat_ws alone would make "H" of it, one key every nameless row shares)."""
    return F.when(name.isNotNull(), F.concat_ws("|", F.when(F.col("is_branch"), "B").otherwise("H"), name))


def _branch_heads(mentions: DataFrame) -> DataFrame:
    """(mention_id, is_branch, name_norm, head): branches with the head office's name their
    name begins with."""
    return mentions.where(F.col("is_branch") & F.col("name_norm").isNotNull()).select(
        "mention_id", "is_branch", "name_norm",
        F.regexp_extract("name_norm", _HEAD_OF_BRANCH, 1).alias("head"),
    ).where(F.col("head") != "")


def _renamed_branch_names(branches: DataFrame, renames_from: DataFrame) -> DataFrame:
    """(mention_id, value): the name key of each branch in ``branches`` named after a former
    name of its head office, under the head office's current name, as the name changes in
    ``renames_from`` say (沈阳旧名…有限公司和平分公司 → 沈阳新名…有限公司和平分公司)."""
    renames = renames_from.where(
        F.col("former_name_norm").isNotNull() & F.col("name_norm").isNotNull()
    ).select(F.col("former_name_norm").alias("head"), F.col("name_norm").alias("renamed_head")).distinct()
    return _branch_heads(branches).join(renames, "head").select(
        "mention_id",
        _branch_keyed(F.concat(
            "renamed_head", F.expr("substring(name_norm, length(head) + 1)"))).alias("value"))


def name_keys(mentions: DataFrame, clusters: DataFrame) -> DataFrame:
    """(cluster, value, source): every normalised name a cluster carries, current or former.

    A branch named after its head office's former name (沈阳旧名…有限公司和平分公司) also
    carries the name under the head office's current name, when the name-change feed
    says which that is: branches do not file name changes of their own.
    """
    current = mentions.where(F.col("name_norm").isNotNull()).select(
        "mention_id", _branch_keyed(F.col("name_norm")).alias("value"),
        F.lit("name_exact").alias("source"))
    former = mentions.where(F.col("former_name_norm").isNotNull()).select(
        "mention_id", _branch_keyed(F.col("former_name_norm")).alias("value"),
        F.lit("former_name").alias("source"))
    renamed_branches = _renamed_branch_names(mentions, mentions).withColumn(
        "source", F.lit("former_name"))
    return (
        current.unionByName(former).unionByName(renamed_branches)
        .join(clusters.select("mention_id", "cluster"), "mention_id")
        .select("cluster", "value", "source")
        .distinct()
    )


def merge_by_name(
    keys: DataFrame,
    codes: DataFrame,
    weights: DataFrame,
    settings: Settings = DEFAULT_SETTINGS,
) -> DataFrame:
    """(cluster, group, name_rule, name) for clusters joined to others by an exact name.

    Among the clusters carrying a name (at most ``settings.max_name_clusters``), each identity kind
    has a consensus: the code held by the most mentions. A name is ambiguous when, for
    some kind, the mentions holding other codes are more than ``CONFLICT_SHARE`` of the
    consensus's (two registered enterprises with one name); otherwise it joins every
    cluster that agrees with the consensus on each code it holds, and leaves out the few
    that do not (a misread code must not hold the rest apart). A group that chains into a
    conflict through several names falls back to its code clusters. ``name`` is the name
    that joined the cluster; ``name_rule`` says whether some cluster holds it as a former
    name.
    """
    shared = keys.groupBy("value").agg(
        F.collect_set("cluster").alias("clusters"),
        F.max((F.col("source") == "former_name").cast("int")).alias("is_former"),
    ).where(F.size("clusters").between(2, settings.max_name_clusters)).select(
        "value", F.explode("clusters").alias("cluster"), "is_former").localCheckpoint()
    votes = (
        shared.join(codes, "cluster").join(weights, "cluster")
        .groupBy("value", "kind", "code").agg(F.sum("weight").alias("weight"))
    )
    consensus = votes.groupBy("value", "kind").agg(
        F.max_by("code", F.struct("weight", "code")).alias("consensus"),
        F.max("weight").alias("consensus_weight"),
        F.sum("weight").alias("total_weight"),
    )
    ambiguous = consensus.where(
        F.col("total_weight") - F.col("consensus_weight") > CONFLICT_SHARE * F.col("consensus_weight")
    ).select("value").distinct()
    dissenting = (
        shared.join(codes, "cluster").join(consensus, ["value", "kind"])
        .where(F.col("code") != F.col("consensus"))
        .select("value", "cluster").distinct()
    )
    joining = (
        shared.join(ambiguous, "value", "left_anti")
        .join(dissenting, ["value", "cluster"], "left_anti")
        .localCheckpoint()
    )
    edges = joining.select(F.col("cluster").alias("mention_id"), F.lit("name").alias("kind"), "value")
    groups, _ = connected_components(edges, settings.max_iterations, settings.checkpoint_every,
                                     settings.single_task_edges)
    chained = (
        groups.join(codes.withColumnRenamed("cluster", "mention_id"), "mention_id")
        .groupBy("label", "kind")
        .agg(F.size(F.collect_set("code")).alias("codes"))
        .where(F.col("codes") > 1)
        .select("label")
        .distinct()
    )
    groups = groups.join(chained, "label", "left_anti")
    joined_by = joining.groupBy("cluster").agg(
        F.min(F.struct("value", "is_former")).alias("by"))
    return groups.select(F.col("mention_id").alias("cluster"), F.col("label").alias("group")).join(
        joined_by, "cluster"
    ).select(
        "cluster", "group",
        F.when(F.col("by.is_former") == 1, "former_name").otherwise("name_exact").alias("name_rule"),
        F.substring_index(F.col("by.value"), "|", -1).alias("name"),
    )


def _weak_code_pattern(weak: Column) -> Column:
    """A regex for the codes a damaged code ("kind:code") may stand for: masked characters
    and the check character are wildcards."""
    body = F.regexp_replace(F.substring_index(weak, ":", -1), r"\*", ".")
    return F.concat(F.lit("^"), F.regexp_replace(body, ".$", "."), F.lit("$"))


def _query_blocks(core: Column) -> Column:
    """The blocks a name-only query is compared in. A core of three characters or more (a
    字号, often with some of its industry): its first three, and its first two with its last
    one, so that one character changed after the first two still leaves a block in common.
    A core of two (the 字号 alone, 沈阳华丰 for 沈阳华丰科技有限公司): those two."""
    long_core = F.array(F.concat(F.lit("p:"), F.substring(core, 1, 3)),
                        F.concat(F.lit("e:"), F.substring(core, 1, 2), F.substring(core, -1, 1)))
    return F.when(F.length(core) >= 3, long_core).otherwise(
        F.array(F.concat(F.lit("t:"), F.substring(core, 1, 2))))


def _candidate_blocks(core: Column) -> Column:
    """The blocks an enterprise's name is a candidate in: each kind a query may use."""
    return F.array(F.concat(F.lit("p:"), F.substring(core, 1, 3)),
                   F.concat(F.lit("e:"), F.substring(core, 1, 2), F.substring(core, -1, 1)),
                   F.concat(F.lit("t:"), F.substring(core, 1, 2)))


def candidate_pairs(queries: DataFrame, targets: DataFrame) -> DataFrame:
    """(group, name, name_core, target, matched_name, matched_core): the pairs of a query name
    and an enterprise name that share a block (``_query_blocks``) and the branch flag.

    Blocks are keyed by more of the name than the 字号's first two characters, which a
    province's thousands of enterprises of one 字号 share across cities and industries:
    the pairs grow with the records, not with their square. Both frames have
    (group, name_norm, name_core, is_branch).
    """
    q = queries.select(F.col("group"), F.col("name_norm").alias("name"), "name_core", "is_branch",
                       F.explode(_query_blocks(F.col("name_core"))).alias("block"))
    c = targets.select(F.col("group").alias("target"), F.col("name_norm").alias("matched_name"),
                       F.col("name_core").alias("matched_core"), "is_branch",
                       F.explode(_candidate_blocks(F.col("name_core"))).alias("block"))
    # A pair may share two blocks (p: and e:): compared once.
    return q.join(c, ["block", "is_branch"]).select(
        "group", "name", "name_core", "target", "matched_name", "matched_core").distinct()


def attach_by_fuzzy_name(
    members: DataFrame,
    group_codes: DataFrame,
    threshold: float = DEFAULT_FUZZY_THRESHOLD,
    margin: float = DEFAULT_FUZZY_MARGIN,
) -> DataFrame:
    """(group, target, score, name, matched_name, legal_rep, weak_code, spelled_alike,
    penalized_near) for groups without a register code that resemble exactly one group with one.

    ``members`` are the mentions with their ``group`` and whether it is ``anchored``
    (``group_members``); ``group_codes`` (group, kind, code) the identity codes of each group.

    Candidates share a block (``candidate_pairs``) and the branch flag. A pair scores its
    best name similarity (similarity.name_score), +5 when both names start with one city and
    -10 with two, +5 when a legal representative agrees and -10 when both have some and none
    agrees, +5 when a damaged code of the query fits a code of the candidate and -20 when it
    fits none of that kind, +5 when the query's name as delivered (place first or last,
    organisation form) begins one of the candidate's (沈阳中宏 → 沈阳中宏商贸有限责任公司 rather than
    中宏(沈阳)餐饮管理有限公司), -10 when all the query's records are dated after the candidate's
    registration ended. The best candidate is taken when it reaches ``threshold`` and leads
    the next by ``margin``; otherwise the group stays as it is. Between candidates the name
    evidence cannot tell apart, +5 goes to one that another agency penalised within a year of
    each penalty of the query (``PENALIZED_NEAR``): it counts towards the lead, not the threshold.
    """
    from pyspark.sql.functions import pandas_udf

    from xinyong.resolve.similarity import name_scores

    @pandas_udf("double")  # type: ignore[call-overload]
    def score_names(q_norm, q_core, c_norm, c_core):
        import pandas as pd

        return pd.Series(name_scores(q_norm, q_core, c_norm, c_core), dtype="float64")

    names = members.where(F.col("name_norm").isNotNull()).select(
        "group", "anchored", "name_norm", F.coalesce("name_core", "name_norm").alias("name_core"),
        "is_branch",
    ).distinct()
    pairs = candidate_pairs(names.where(~F.col("anchored")), names.where(F.col("anchored")))
    scored = pairs.select(
        "group", "target", "name", "matched_name",
        score_names("name", "name_core", "matched_name", "matched_core").alias("score"),
        F.regexp_extract("name", _LEADING_CITY, 1).alias("city"),
        F.regexp_extract("matched_name", _LEADING_CITY, 1).alias("matched_city"),
    )
    best_pair = scored.groupBy("group", "target").agg(
        # The best-scoring pair of names; ties broken by the names themselves (deterministic).
        F.max(F.struct("score", "matched_name", "name", "city", "matched_city")).alias("names"),
        F.max("score").alias("score"),
    ).where(
        F.col("score") >= threshold - CITY_AGREES - LEGAL_REP_AGREES - WEAK_CODE_FITS - SPELLED_ALIKE
    ).localCheckpoint()  # the names scored once, apart from the joins below

    # Each side's evidence gathered once per group, so that a pair is judged in two joins
    # (a join and an aggregate per kind of evidence cost ~25 Spark stages more).
    # Checkpointed: each side prunes a different part of it, so that Spark would compute it twice.
    profiles = _evidence_profiles(members, group_codes).localCheckpoint()
    query = profiles.select([F.col(c).alias(f"q_{c}") for c in profiles.columns])
    target = profiles.select([F.col(c).alias(f"t_{c}") for c in profiles.columns])
    with_sides = best_pair.join(query, F.col("group") == F.col("q_group"), "left") \
        .join(target, F.col("target") == F.col("t_group"), "left")
    # A damaged code is weighed against the candidate's codes of its kind, if it has any.
    weighable = F.filter("q_weak", lambda w: F.exists("t_codes", lambda c: c["kind"] == w["kind"]))
    fits = F.exists(weighable, lambda w: F.exists(
        "t_codes", lambda c: (c["kind"] == w["kind"]) & F.regexp_like(c["code"], w["pattern"])))
    spelled_alike = F.exists("q_spellings", lambda s: F.exists("t_spellings", lambda t: t.startswith(s)))
    # Every penalty of the query: a group of name-only records one exact short form joined may
    # hold two enterprises' records, which one nearby penalty must not carry off together.
    penalized_near = (F.size("q_penalties") > 0) & F.forall("q_penalties", lambda q: F.exists(
        "t_penalties", lambda t: (t["agency"] != q["agency"])
        & (F.abs(F.datediff(t["day"], q["day"])) <= PENALTY_WINDOW_DAYS)))
    judged = with_sides.select(
        "group", "target", "names", "score",
        F.when((F.size("q_reps") > 0) & (F.size("t_reps") > 0),
               F.arrays_overlap("q_reps", "t_reps").cast("int")).alias("rep_agrees"),
        F.when(F.size(weighable) > 0, fits.cast("int")).alias("weak_fits"),
        F.array_min(F.transform(weighable, lambda w: w["weak_code"])).alias("weak_code"),
        F.when(spelled_alike, F.lit(True)).alias("spelled_alike"),
        F.when(penalized_near, F.lit(True)).alias("penalized_near"),
        ((F.col("q_first_named") >= F.col("t_closed_on")) | (F.col("q_last_named") < F.col("t_founded_on")))
        .alias("outside_lifetime"),
    )
    query_city, target_city = F.col("names.city"), F.col("names.matched_city")
    adjustment = (
        F.when((query_city != "") & (query_city == target_city), CITY_AGREES)
        .when((query_city != "") & (target_city != ""), CITY_DIFFERS).otherwise(0.0)
        + F.when(F.col("rep_agrees") == 1, LEGAL_REP_AGREES)
        .when(F.col("rep_agrees") == 0, LEGAL_REP_DIFFERS).otherwise(0.0)
        + F.when(F.col("weak_fits") == 1, WEAK_CODE_FITS)
        .when(F.col("weak_fits") == 0, WEAK_CODE_CONTRADICTS).otherwise(0.0)
        + F.when(F.col("spelled_alike"), SPELLED_ALIKE).otherwise(0.0)
        + F.when(F.col("outside_lifetime"), OUTSIDE_LIFETIME).otherwise(0.0)
    )
    tie_break = F.when(F.col("penalized_near"), PENALIZED_NEAR).otherwise(0.0)
    judged = judged.withColumn("named", F.col("score") + adjustment) \
        .withColumn("total", F.col("named") + tie_break)
    ranked = judged.withColumn(
        "rank", F.row_number().over(Window.partitionBy("group").orderBy(F.desc("total"), "target"))
    ).withColumn(
        "runner_up", F.lead("total").over(Window.partitionBy("group").orderBy(F.desc("total"), "target"))
    )
    return ranked.where(
        (F.col("rank") == 1) & (F.col("named") >= threshold)
        & (F.col("runner_up").isNull() | (F.col("total") - F.col("runner_up") >= margin))
    ).select(
        "group", "target", F.round("total", 2).alias("score"), "names.name", "names.matched_name",
        F.col("rep_agrees") == 1, "weak_code", "spelled_alike", "penalized_near",
    ).toDF("group", "target", "score", "name", "matched_name", "legal_rep", "weak_code", "spelled_alike",
           "penalized_near")


def group_members(mentions: DataFrame, grouped: DataFrame, group_codes: DataFrame) -> DataFrame:
    """The mentions with their ``group`` and whether it is ``anchored``: holds a register code,
    so that it is an enterprise name-only mentions may join."""
    anchored = group_codes.where(F.col("kind").isin(*REGISTER_KINDS)).select(
        "group", F.lit(True).alias("anchored")).distinct()
    return (
        mentions.join(grouped.select("mention_id", "group"), "mention_id")
        .join(anchored, "group", "left")
        .withColumn("anchored", F.coalesce("anchored", F.lit(False)))
    )


def codes_of_groups(codes: DataFrame, grouped: DataFrame) -> DataFrame:
    """(group, kind, code): the identity codes of each group (a cluster's label is a mention)."""
    return codes.join(grouped.select(F.col("mention_id").alias("cluster"), "group"), "cluster")


def _evidence_profiles(members: DataFrame, group_codes: DataFrame) -> DataFrame:
    """Per group, what a fuzzy pair's supporting evidence reads of either side: its legal
    representatives (``reps``), damaged codes (``weak``: kind, pattern, weak_code), names as
    delivered (``spellings``), its records' dates under a name (``first_named``,
    ``last_named``), its founding and end (``founded_on``, ``closed_on``: ``_lifetimes``, as
    a target is anchored), the penalties it received (``penalties``: agency, day) and its
    identity codes (``codes``: kind, code)."""
    weak = F.when(F.col("weak_code").isNotNull(), F.struct(
        F.substring_index("weak_code", ":", 1).alias("kind"),
        _weak_code_pattern(F.col("weak_code")).alias("pattern"), "weak_code"))
    penalty = F.when(F.col("penalized_on").isNotNull(), F.struct(
        F.col("penalized_by").alias("agency"), F.col("penalized_on").alias("day")))
    codes = group_codes.groupBy("group").agg(F.collect_set(F.struct("kind", "code")).alias("codes"))
    return members.groupBy("group").agg(  # collect_set leaves nulls out
        F.collect_set("legal_rep").alias("reps"),
        F.collect_set(weak).alias("weak"),
        F.collect_set("name").alias("spellings"),
        F.min("named_on").alias("first_named"),
        F.max("named_on").alias("last_named"),
        F.min("founded_on").alias("founded_on"),
        F.max("closed_on").alias("closed_on"),
        F.collect_set(penalty).alias("penalties"),
    ).join(codes, "group", "left")


def _lifetimes(members: DataFrame) -> DataFrame:
    """(group, founded_on, closed_on): when each anchored group with a register record saying
    so was founded and when its registration ended (null: not known, or not ended)."""
    dated = F.col("founded_on").isNotNull() | F.col("closed_on").isNotNull()
    return members.where(F.col("anchored") & dated).groupBy("group").agg(
        F.min("founded_on").alias("founded_on"), F.max("closed_on").alias("closed_on"))


def name_periods(members: DataFrame) -> DataFrame:
    """(group, key, held_since, held_until): when each anchored group held each name (branch
    keyed). A name change (former_name_norm → name_norm on ``named_on``) ends the former
    name's time and starts the new name's; the enterprise's founding (``founded_on``, 成立日期)
    starts the first name's, and the day a register record says it ended (``closed_on``)
    ends every name's. Without such records: since forever, until now.
    """
    # One row per name a record names (its name, and its former name if any); a change's date
    # starts the one and ends the other. One aggregate rather than three and their joins.
    changed_on = F.when(F.col("former_name_norm").isNotNull(), F.col("named_on"))
    named = F.explode(F.array(
        F.struct(_branch_keyed(F.col("name_norm")).alias("key"), changed_on.alias("since"),
                 F.lit(None).cast("date").alias("until")),
        F.struct(_branch_keyed(F.col("former_name_norm")).alias("key"),
                 F.lit(None).cast("date").alias("since"), changed_on.alias("until")),
    )).alias("named")
    names = members.where(F.col("anchored")).select("group", named).select("group", "named.*") \
        .where(F.col("key").isNotNull())
    return (
        names.groupBy("group", "key").agg(F.max("since").alias("held_since"),
                                          F.min("until").alias("renamed_on"))
        .join(_lifetimes(members), "group", "left")
        .select("group", "key", F.coalesce("held_since", "founded_on").alias("held_since"),
                F.least("renamed_on", "closed_on").alias("held_until"))  # least skips nulls
    )


def _spelling(name: Column) -> Column:
    """A name as delivered but for bracket width and spaces: how a record spells it, which
    ``normalize_name`` does not tell apart (有限公司 / 有限责任公司, the place moved)."""
    return F.regexp_replace(F.translate(name, "（）", "()"), r"\s+", "")


def attach_by_dated_name(members: DataFrame) -> DataFrame:
    """(group, target, name, named_on, spelling) for groups without a register code whose
    exact name was held by several enterprises, but at the record's date by exactly one, or
    by several of which one spells it as the record does.

    When a name was held: ``name_periods``. 大连鼎博物业管理有限公司 cited by a 2016 judgment is the
    enterprise that held that name in 2016, not the one that gave it up in 2008. Names alike
    once normalised may be two enterprises' names at one time (大连三顺广告有限公司 and 大连三顺
    广告有限责任公司): then the one whose records under that name mostly spell it as the query
    does (``OWN_SPELLING``), when the others' seldom do (``OTHERS_SPELLING``), is taken, and
    ``spelling`` says so (null when one enterprise held the name). A group joins only when
    all its dated mentions point to one enterprise, or by spelling to one that held the name
    at each of their dates; a branch's name key never matches a head office's. ``members``:
    as ``group_members``.
    """
    # Only a name several enterprises held needs its dates compared.
    key_holders = F.count("*").over(Window.partitionBy("key"))
    held = name_periods(members).withColumn("holders", key_holders).where(F.col("holders") > 1).select(
        F.col("group").alias("target"), "key", "held_since", "held_until")
    queries = members.where(
        ~F.col("anchored") & F.col("named_on").isNotNull() & F.col("name_norm").isNotNull()
    ).select("group", _branch_keyed(F.col("name_norm")).alias("key"), "named_on",
             _spelling(F.col("name")).alias("spelling")).distinct()
    at_the_time = (F.col("held_since").isNull() | (F.col("held_since") <= F.col("named_on"))) & (
        F.col("held_until").isNull() | (F.col("named_on") < F.col("held_until")))
    weight = F.col("weight") if "weight" in members.columns else F.lit(1)
    holders = members.where(F.col("anchored") & F.col("name").isNotNull()).select(
        F.col("group").alias("target"), _branch_keyed(F.col("name_norm")).alias("key"),
        _spelling(F.col("name")).alias("spelling"), weight.alias("weight"))
    # How each enterprise spells each of its names: the share of its records under the name
    # spelled each way.
    spelled = holders.groupBy("target", "key", "spelling").agg(F.sum("weight").alias("spelled"))
    named = F.sum("spelled").over(Window.partitionBy("target", "key"))
    spellings = spelled.select("target", "key", "spelling", (F.col("spelled") / named).alias("share"))
    candidates = queries.join(held, "key").where(at_the_time).join(
        spellings, ["target", "key", "spelling"], "left").withColumn("share", F.coalesce("share", F.lit(0.0)))
    per_target = candidates.groupBy("group", "target").agg(
        F.count("*").alias("dated"),  # the group's dated mentions the target held the name at
        F.min("share").alias("share"),
        F.max_by("spelling", "share").alias("spelling"),
        F.min(F.struct("named_on", "key")).alias("first"),
    )
    per_group = queries.groupBy("group").agg(F.count("*").alias("dated_mentions"))
    best = per_target.join(per_group, "group").groupBy("group").agg(
        F.count("*").alias("targets"),
        F.try_element_at(F.sort_array(F.collect_list("share"), asc=False), F.lit(2))
        .alias("runner_up_share"),
        F.max_by(F.struct("target", "dated", "share", "spelling", "first", "dated_mentions"),
                 F.struct("share", "target")).alias("best"),
    )
    one_holder = F.col("targets") == 1
    spelled_so = (F.col("best.share") >= OWN_SPELLING) & (F.col("runner_up_share") <= OTHERS_SPELLING)
    held_at_each_date = F.col("best.dated") == F.col("best.dated_mentions")
    return best.where(one_holder | (spelled_so & held_at_each_date)).select(
        "group", F.col("best.target").alias("target"),
        F.substring_index(F.col("best.first.key"), "|", -1).alias("name"),
        F.col("best.first.named_on").cast("string").alias("named_on"),
        F.when(~one_holder, F.col("best.spelling")).alias("spelling"),
    )


def link_mentions(
    mentions: DataFrame,
    kept_edges: DataFrame,
    labels: DataFrame,
    settings: Settings = DEFAULT_SETTINGS,
    lap: Callable[[str], None] = lambda step: None,
) -> DataFrame:
    """(mention_id, cluster, rule, evidence) for every mention; cluster = smallest mention_id.

    The rule names the strongest evidence that put the mention in its enterprise: a code
    kind it shares with other mentions, else ``name_exact`` / ``former_name`` /
    ``name_fuzzy`` when its code cluster was joined by name, else ``singleton``. The
    evidence JSON lists the mention's codes and, when its cluster was joined by name, the
    name (and for fuzzy links the matched name, score and supporting evidence).
    ``lap`` is called with the name of each step as it ends (the job times them).
    """
    clusters = code_clusters(mentions, kept_edges, labels).localCheckpoint()
    codes = identity_codes(kept_edges, clusters).localCheckpoint()
    lap("cluster_codes")
    weight = F.col("weight") if "weight" in mentions.columns else F.lit(1)
    weights = clusters.join(mentions.select("mention_id", weight.alias("weight")), "mention_id") \
        .groupBy("cluster").agg(F.sum("weight").alias("weight"))
    by_name = merge_by_name(name_keys(mentions, clusters), codes, weights, settings)
    # The group's own first cluster needs no name to explain it; the others joined it by one.
    joined = F.col("group").isNotNull() & (F.col("group") != F.col("cluster"))
    grouped = clusters.join(by_name, "cluster", "left").select(
        "mention_id", "cluster", "rule", "evidence",
        F.coalesce("group", "cluster").alias("group"),
        F.when(joined, F.col("name_rule")).alias("name_rule"),
        F.when(joined, F.col("name")).alias("name"),
    ).localCheckpoint()
    lap("names_exact")
    # Read by both name steps; the dated step only moves unanchored groups into anchored ones.
    members = group_members(mentions, grouped, codes_of_groups(codes, grouped)).localCheckpoint()
    dated = attach_by_dated_name(members).withColumnRenamed("name", "dated_name").localCheckpoint()
    grouped = grouped.join(dated, "group", "left").select(
        "mention_id", "cluster", "rule", "evidence",
        F.coalesce("target", "group").alias("group"),
        F.when(F.col("target").isNotNull(), F.lit("name_dated")).otherwise(F.col("name_rule"))
        .alias("name_rule"),
        F.coalesce("dated_name", "name").alias("name"),
        "named_on", "spelling",
    ).localCheckpoint()
    lap("names_dated")
    moved = F.col("target").isNotNull()
    members = members.join(dated.select("group", "target"), "group", "left").select(
        *(c for c in members.columns if c not in ("group", "anchored")),
        F.coalesce("target", "group").alias("group"), (F.col("anchored") | moved).alias("anchored"))
    fuzzy = attach_by_fuzzy_name(members, codes_of_groups(codes, grouped), settings.fuzzy_threshold,
                                 settings.fuzzy_margin)
    linked = grouped.join(fuzzy.withColumnRenamed("name", "fuzzy_name"), "group", "left")

    name_evidence = F.when(F.col("target").isNotNull(), F.to_json(F.struct(
        F.col("fuzzy_name").alias("name"), "matched_name", "score", "legal_rep", "weak_code",
        "spelled_alike", "penalized_near",
    ))).when(F.col("name_rule").isNotNull(), F.to_json(F.struct("name", "named_on", "spelling")))
    shares_code = F.col("rule") != "singleton"
    rule = (
        F.when(shares_code, F.col("rule"))
        .when(F.col("target").isNotNull(), F.lit("name_fuzzy"))
        .when(F.col("name_rule").isNotNull(), F.col("name_rule"))
        .otherwise(F.lit("singleton"))
    )
    evidence = F.when(name_evidence.isNull(), F.col("evidence")).otherwise(F.concat(
        F.lit('{"codes":'), F.col("evidence"),
        F.lit(',"by_name":'), name_evidence, F.lit("}"),
    ))
    result = linked.select(
        "mention_id",
        F.coalesce("target", "group").alias("cluster"),
        rule.alias("rule"),
        evidence.alias("evidence"),
    )
    # Name and fuzzy links join clusters under one label: the smallest mention_id in it.
    smallest = F.min("mention_id").over(Window.partitionBy("cluster"))
    return result.withColumn("cluster", smallest)


# --- 5. stable ids -------------------------------------------------------------------------

def number_in_order(df: DataFrame, order_col: str, start: int, out_col: str) -> DataFrame:
    """Number the rows start, start+1, … in the order of a unique column.

    Distributed: range partitions are numbered locally, then offset by the sizes of the
    partitions before them (one small row per partition reaches the driver).
    """
    spark = df.sparkSession
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions") or 1)
    ranged = (
        df.repartitionByRange(partitions, order_col)
        .sortWithinPartitions(order_col)
        .withColumn("_part", F.spark_partition_id())
        # The lower 33 bits of monotonically_increasing_id are the row's index in its partition.
        .withColumn("_row", F.monotonically_increasing_id().bitwiseAND((1 << 33) - 1))
        .localCheckpoint()
    )
    sizes = sorted(ranged.groupBy("_part").count().collect())
    offsets: list[Column] = []
    total = start
    for part, count in sizes:
        offsets += [F.lit(part), F.lit(total).cast("long")]
        total += count
    # A literal map, not a DataFrame made on the driver: executors need no Python.
    offset = F.create_map(*offsets)[F.col("_part")] if offsets else F.lit(None)
    return ranged.withColumn(out_col, (offset + F.col("_row")).cast("long")).drop("_part", "_row")


def prior_ids_held(
    mention_signature: DataFrame, signature_clusters: DataFrame, prior_links: DataFrame
) -> DataFrame:
    """(cluster, prior_id, held): how many of each cluster's mentions last night's links gave
    each enterprise id. Counted per signature first: the mentions themselves are not joined
    to their clusters here (a few hundred thousand rows for a few ten thousand signatures)."""
    return (
        prior_links.select("mention_id", F.col("enterprise_id").alias("prior_id"))
        .join(mention_signature, "mention_id")
        .groupBy("signature", "prior_id").agg(F.count("*").alias("held"))
        .join(signature_clusters.select("signature", "cluster"), "signature")
        .groupBy("cluster", "prior_id").agg(F.sum("held").alias("held"))
    )


def assign_enterprise_ids(
    clusters: DataFrame, held: DataFrame, next_id: int
) -> tuple[DataFrame, DataFrame]:
    """Give each cluster an enterprise id: ``(cluster, enterprise_id)`` and the id changes.

    ``clusters``: (cluster) the night's clusters, each named by its smallest mention_id;
    ``held``: (cluster, prior_id, held) as ``prior_ids_held``. A prior id stays with the
    cluster holding most of its mentions (ties: smallest cluster); the other clusters
    holding some get ``split_from`` records. A cluster keeps, of the prior ids it so holds,
    the one most of its mentions carried (ties: smallest id); the rest are ``merged_into``
    it. Clusters without one get new ids from ``next_id`` in the order of their name.
    """
    most_held_first = (-F.col("held")).alias("rank")
    keepers = held.groupBy("prior_id").agg(
        F.min(F.struct(most_held_first, "cluster"))["cluster"].alias("keeper")
    )
    held = held.join(keepers, "prior_id").localCheckpoint()  # the ids and their changes both read it
    claims = held.where(F.col("cluster") == F.col("keeper"))
    survivors = claims.groupBy("cluster").agg(
        F.min(F.struct(most_held_first, "prior_id"))["prior_id"].alias("enterprise_id")
    )
    without_id = clusters.select("cluster").distinct().join(survivors, "cluster", "left_anti")
    fresh = number_in_order(without_id, "cluster", next_id, "number").select(
        "cluster", format_enterprise_id(F.col("number")).alias("enterprise_id")
    )
    cluster_ids = survivors.unionByName(fresh)

    merged = claims.join(survivors, "cluster").where(F.col("prior_id") != F.col("enterprise_id"))
    split = held.where(F.col("cluster") != F.col("keeper")).join(cluster_ids, "cluster")
    id_changes = merged.select(
        F.col("prior_id").alias("enterprise_id"),
        F.lit("merged_into").alias("change"),
        F.col("enterprise_id").alias("other_enterprise_id"),
    ).unionByName(split.select(
        "enterprise_id",
        F.lit("split_from").alias("change"),
        F.col("prior_id").alias("other_enterprise_id"),
    ))
    return cluster_ids, id_changes


# --- 6. enterprises ------------------------------------------------------------------------

def build_enterprises(signature_rows: DataFrame, signature_links: DataFrame) -> DataFrame:
    """The golden record: one row per enterprise, from its signatures (``signatures``: each
    stands for ``weight`` mentions alike, ``first`` its best-ranked mention) and
    ``signature_links`` (signature, enterprise_id).

    canonical name: the name of the best-ranked source (ties: most frequent, then smallest);
    a code: the most frequent value of its kind (ties: smallest); is_branch and legal_rep:
    from the best-ranked mention that has one (ties: smallest mention_id); former_names: the
    names the name-change feed says it had (JSON array); region: the most frequent
    6-digit region of its codes; head_enterprise_id (branches): the enterprise whose
    current name the branch's name starts with, the one most of its names point to.
    Frequencies count mentions, so the record is the one the mentions themselves would give.
    """
    # Hash-partitioned by enterprise once: every aggregate and join below is keyed by
    # enterprise_id first, so none of them shuffles again (one Spark job, not dozens).
    members = (
        signature_links.select("signature", "enterprise_id").join(signature_rows, "signature")
        .repartition("enterprise_id")
        .localCheckpoint()  # read by five aggregates: computed once (keeps its partitioning)
    )
    best_first = F.struct("first.source_rank", "first.mention_id")
    summary = members.groupBy("enterprise_id").agg(
        F.sum("weight").alias("mention_count"),
        F.min(F.struct(best_first.alias("b"), "is_branch"))["is_branch"].alias("is_branch"),
        F.min(F.when(F.col("legal_rep").isNotNull(), F.struct(best_first.alias("b"), "legal_rep")))
        ["legal_rep"].alias("legal_rep"),
        F.to_json(F.array_sort(F.collect_set("former_name_norm"))).alias("former_names"),
    )
    names = (
        members.where(F.col("name").isNotNull())
        .groupBy("enterprise_id", "name")
        .agg(F.min("first.source_rank").alias("best_rank"), F.sum("weight").alias("freq"))
        .groupBy("enterprise_id")
        .agg(F.min(F.struct("best_rank", (-F.col("freq")).alias("f"), "name"))["name"]
             .alias("canonical_name"))
    )
    codes = (
        code_key_edges(members.select(F.col("signature").alias("mention_id"), *CODE_KINDS))
        .join(members.select(F.col("signature").alias("mention_id"), "enterprise_id", "weight"), "mention_id")
        .groupBy("enterprise_id", "kind", "value")
        .agg(F.sum("weight").alias("freq"))
        .groupBy("enterprise_id", "kind")
        .agg(F.min(F.struct((-F.col("freq")).alias("f"), "value"))["value"].alias("value"))
        .groupBy("enterprise_id")
        .pivot("kind", list(CODE_KINDS))
        .agg(F.first("value"))
    )
    region_of_codes = F.coalesce(
        F.substring("uscc", 3, 6), F.substring("regno", 1, 6), F.substring("taxno", 1, 6))
    regions = (
        members.select("enterprise_id", "weight", region_of_codes.alias("region"))
        .where(F.col("region").isNotNull())
        .groupBy("enterprise_id", "region").agg(F.sum("weight").alias("freq"))
        .groupBy("enterprise_id")
        .agg(F.min(F.struct((-F.col("freq")).alias("f"), "region"))["region"].alias("region"))
    )
    heads = _head_offices(members)
    return (
        summary.join(names, "enterprise_id", "left")
        .join(codes, "enterprise_id", "left")
        .join(regions, "enterprise_id", "left")
        .join(heads, "enterprise_id", "left")
        .select(*ENTERPRISE_COLUMNS)
    )


def _head_offices(members: DataFrame) -> DataFrame:
    """(enterprise_id, head_enterprise_id) for branches whose head office is resolved."""
    head_names = (
        members.where(F.col("is_branch") & F.col("name_norm").isNotNull())
        .select("enterprise_id", "weight",
                F.regexp_extract("name_norm", _HEAD_OF_BRANCH, 1).alias("head_name"))
        .where(F.col("head_name") != "")
    )
    offices = (
        members.where(~F.col("is_branch") & F.col("name_norm").isNotNull())
        .select(F.col("enterprise_id").alias("head_enterprise_id"), F.col("name_norm").alias("head_name"))
        .distinct()
    )
    return (
        head_names.join(offices, "head_name")
        .where(F.col("enterprise_id") != F.col("head_enterprise_id"))
        .groupBy("enterprise_id", "head_enterprise_id").agg(F.sum("weight").alias("votes"))
        .groupBy("enterprise_id")
        .agg(F.min(F.struct((-F.col("votes")).alias("v"), "head_enterprise_id"))["head_enterprise_id"]
             .alias("head_enterprise_id"))
    )


# --- all steps -----------------------------------------------------------------------------

# Everything the linking steps read of a mention: mentions alike in all of it (a big
# taxpayer's hundreds of VAT returns) are one signature and are linked once.
SIGNATURE_COLUMNS = (
    "name", "name_norm", "name_core", *CODE_KINDS, "is_branch", "legal_rep", "former_name_norm", "weak_code",
    "named_on", "closed_on", "founded_on", "penalized_on", "penalized_by",
)


def _dates_that_matter(mentions: DataFrame) -> DataFrame:
    """Keep ``named_on`` only where a step reads it: name changes (when a name was given up
    or taken) and mentions without any code (whom a shared name meant at the time). Other
    mentions alike but for their date stay one signature."""
    read = F.col("former_name_norm").isNotNull() | reduce(
        lambda a, b: a & b, (F.col(kind).isNull() for kind in CODE_KINDS))
    return mentions.withColumn("named_on", F.when(read, F.col("named_on")))


def signatures(mentions: DataFrame) -> DataFrame:
    """One row per signature: mentions alike in all ``SIGNATURE_COLUMNS``, named by their
    smallest mention_id (``signature``, also the row's ``mention_id``, so ids still follow the
    smallest mention of a cluster), with ``weight`` (its mentions), ``first`` (source_rank,
    mention_id of its best-ranked mention) and ``mention_ids``.

    A hash aggregate on the columns themselves (nulls group together): exact, and no sort.
    """
    return _dates_that_matter(mentions).groupBy(*SIGNATURE_COLUMNS).agg(
        F.min("mention_id").alias("signature"),
        F.count("*").alias("weight"),
        F.min(F.struct("source_rank", "mention_id")).alias("first"),
        F.collect_list("mention_id").alias("mention_ids"),
    ).withColumn("mention_id", F.col("signature"))


def _blocks_of(frame: DataFrame, blocks: Callable[[Column], Column], kind: str) -> DataFrame:
    """(signature, kind, value): the fuzzy blocks of each signature's name, branch keyed."""
    core = F.coalesce("name_core", "name_norm")
    return frame.where(core.isNotNull()).select(
        "signature", "is_branch", F.explode(blocks(core)).alias("block"),
    ).select("signature", F.lit(kind).alias("kind"), _branch_keyed(F.col("block")).alias("value"))


def touched_signatures(rows: DataFrame, fresh: DataFrame, settled: DataFrame) -> DataFrame:
    """The signatures a delta night must link again: the fresh ones (never linked) and every
    signature of an enterprise that shares a code or a name with one, or that may be a fuzzy
    candidate of one or have one as a candidate (``candidate_pairs``); then every candidate
    of a name these hold, so that a query the margin left unlinked meets all its rivals."""
    def keys(frame: DataFrame, *, fresh: bool = False) -> DataFrame:
        names = frame.select("signature", F.explode(F.array(
            _branch_keyed(F.col("name_norm")), _branch_keyed(F.col("former_name_norm")),
        )).alias("value")).where(F.col("value").isNotNull()).select(
            "signature", F.lit("name").alias("kind"), "value")
        # A fresh query meets the candidates in its blocks; a fresh candidate, the queries in its.
        blocks = _blocks_of(frame, _query_blocks, "fresh_query" if fresh else "fresh_candidate") \
            .unionByName(_blocks_of(frame, _candidate_blocks, "fresh_candidate" if fresh else "fresh_query"))
        codes = code_key_edges(frame.withColumn("mention_id", F.col("signature"))).select(
            F.col("mention_id").alias("signature"), "kind", "value")
        # A branch named after a head office's name, former or current, is linked to the other
        # through the head office's name change (name_keys), whose names it does not share.
        heads = _branch_heads(frame).select(  # a signature row's mention_id is its signature
            F.col("mention_id").alias("signature"), F.lit("head_office").alias("kind"),
            F.col("head").alias("value"))
        return names.unionByName(blocks).unionByName(codes).unionByName(heads)

    def whole_enterprises(signatures: DataFrame) -> DataFrame:
        enterprises = signatures.join(settled, "signature").select("enterprise_id").distinct()
        return settled.join(enterprises, "enterprise_id").select("signature")

    # A fresh branch touches the head office it is named after (its name changes) and the
    # branch under the head office's current name; a fresh record touches the branches named
    # after its name, and a fresh name change those named after either name.
    head_office_names = fresh.select("signature", F.explode(F.array("name_norm", "former_name_norm"))
                                     .alias("value")).where(F.col("value").isNotNull())
    fresh_keys = keys(fresh, fresh=True).unionByName(
        head_office_names.select("signature", F.lit("head_office").alias("kind"), "value")
    ).unionByName(
        _branch_heads(fresh).withColumn("is_branch", F.lit(False)).select(
            F.col("mention_id").alias("signature"), F.lit("name").alias("kind"),
            _branch_keyed(F.col("head")).alias("value"))
    ).unionByName(
        _renamed_branch_names(fresh, rows).select(
            F.col("mention_id").alias("signature"), F.lit("name").alias("kind"), "value")
    ).select("kind", "value").distinct()
    neighbours = keys(rows).join(fresh_keys, ["kind", "value"]).select("signature").distinct()
    first_hop = whole_enterprises(neighbours).unionByName(fresh.select("signature")).distinct() \
        .localCheckpoint()
    asked = _blocks_of(rows.join(first_hop, "signature"), _query_blocks, "block").select("value").distinct()
    rivals = _blocks_of(rows, _candidate_blocks, "block").join(asked, "value").select("signature")
    return first_hop.unionByName(whole_enterprises(rivals)).distinct()


def resolve(
    mentions: DataFrame,
    prior_links: DataFrame,
    next_id: int,
    *,
    incremental: bool = False,
    rules: Sequence[EdgeRule] = EDGE_RULES,
    settings: Settings = DEFAULT_SETTINGS,
) -> Resolution:
    """Run all steps: links, enterprises, id changes and dropped keys of one night.

    The steps link signatures, not mentions. ``incremental`` (a delta night) links again
    only the signatures no mention of which was linked before, with every signature of the
    enterprises they may join; all other mentions keep their prior enterprise, rule and
    evidence (``prior_links`` must then carry ``rule`` and ``evidence``). A delta night
    merges enterprises but never splits one: splits come from a full night.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 2)
        clock = now

    signed = signatures(conform_mentions(mentions)).localCheckpoint()  # every step reads it
    mention_signature = signed.select(F.explode("mention_ids").alias("mention_id"), "signature")
    rows = all_rows = signed.drop("mention_ids")
    kept_links: DataFrame | None = None
    settled_untouched: DataFrame | None = None
    if incremental:
        prior = mention_signature.join(prior_links, "mention_id")
        # A signature is settled when its linked mentions agree on their enterprise. They may
        # not: a corrected record (op U) now alike to another enterprise's records still holds
        # the link of what it said before. Such a signature is linked again, as a fresh one is,
        # rather than following whichever prior link sorts first. (Mentions of one enterprise
        # may differ in rule or evidence, e.g. the date a judgment named a former name: those
        # keep the first, as linking them again apart from the rest could only split them.)
        settled = prior.groupBy("signature").agg(
            F.min(F.struct("enterprise_id", "rule", "evidence")).alias("link"),
            F.max("enterprise_id").alias("last_enterprise_id"),
        ).where(F.col("link.enterprise_id") == F.col("last_enterprise_id")).select(
            "signature", "link.enterprise_id", "link.rule", "link.evidence").localCheckpoint()
        fresh = all_rows.join(settled, "signature", "left_anti")
        touched = touched_signatures(all_rows, fresh, settled).localCheckpoint()
        settled_untouched = settled.join(touched, "signature", "left_anti")
        kept_links = mention_signature.join(settled_untouched, "signature").select(*LINK_COLUMNS)
        rows = all_rows.join(touched, "signature").localCheckpoint()
    lap("signatures")
    edges = rule_edges(rows, rules)
    kept_edges, dropped_keys = guard_keys(rows, edges, settings.max_key_degree)
    kept_edges = kept_edges.localCheckpoint()
    labels, iterations = connected_components(kept_edges, settings.max_iterations,
                                              settings.checkpoint_every, settings.single_task_edges)
    lap("code_clusters")
    # A signature row's mention_id is its signature.
    signature_clusters = link_mentions(rows, kept_edges, labels, settings, lap) \
        .withColumnRenamed("mention_id", "signature").localCheckpoint()
    lap("names_fuzzy")
    cluster_ids, id_changes = assign_enterprise_ids(
        signature_clusters, prior_ids_held(mention_signature, signature_clusters, prior_links), next_id)
    signature_links = signature_clusters.join(cluster_ids, "cluster").localCheckpoint()
    # From signatures back to their mentions, once, as the links are written: joined by
    # signature, then exploded, so that the join shuffles signatures rather than mentions.
    links = signed.select("signature", "mention_ids").join(signature_links, "signature").select(
        F.explode("mention_ids").alias("mention_id"), *LINK_COLUMNS[1:])
    signature_links = signature_links.select("signature", "enterprise_id")
    if kept_links is not None and settled_untouched is not None:
        links = links.unionByName(kept_links)
        signature_links = signature_links.unionByName(settled_untouched.select("signature", "enterprise_id"))
    lap("ids")
    signature_count = all_rows.count()
    return Resolution(
        links=links,
        enterprises=build_enterprises(all_rows, signature_links),
        id_changes=id_changes.select(*ID_CHANGE_COLUMNS),
        dropped_keys=dropped_keys,
        iterations=iterations,
        signatures=signature_count,
        signatures_linked=rows.count() if incremental else signature_count,  # a full night: all
        seconds=seconds,
    )
