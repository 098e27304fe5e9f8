"""Entity resolution: link every mention to one enterprise with a stable id and evidence.

DataFrame → DataFrame functions built from Spark SQL functions only (Python UDFs are
reserved for fuzzy name scoring). ``resolve`` runs the steps in order:

1. edge rules (``EDGE_RULES``) emit bipartite edges mention — key ``(kind, value)``;
   a later rule (fuzzy name blocks) only has to emit more such edges;
2. ``guard_keys`` drops keys that would chain different enterprises together;
3. ``connected_components`` labels every mention with the smallest mention_id it reaches;
4. ``link_mentions`` attaches code-less mentions by exact normalised name and says which
   evidence linked each mention;
5. ``assign_enterprise_ids`` carries prior ids over and records merges and splits;
6. ``build_enterprises`` chooses the canonical name and codes of each enterprise.

Every choice is a minimum over a total order, so the result does not depend on
partitioning or task timing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

# Code kinds, strongest evidence first: the order names the rule of a link.
CODE_KINDS: tuple[str, ...] = ("uscc", "org", "regno", "taxno", "customs")
EdgeRule = Callable[[DataFrame], DataFrame]

DEFAULT_MAX_KEY_DEGREE = 5000
DEFAULT_MAX_ITERATIONS = 50
DEFAULT_CHECKPOINT_EVERY = 3
ID_PREFIX = "E"
ID_DIGITS = 10

MENTION_COLUMNS = (
    "mention_id", "agency", "feed", "record_id", "name", "name_norm", *CODE_KINDS,
    "is_branch", "source_rank",
)
LINK_COLUMNS = ("mention_id", "enterprise_id", "rule", "evidence")
ENTERPRISE_COLUMNS = (
    "enterprise_id", "canonical_name", *CODE_KINDS, "is_branch", "mention_count",
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


def format_enterprise_id(number: Column) -> Column:
    return F.concat(F.lit(ID_PREFIX), F.lpad(number.cast("string"), ID_DIGITS, "0"))


def conform_mentions(mentions: DataFrame) -> DataFrame:
    """Pin the types the loader may vary (int32/int64 ranks, null flags)."""
    return mentions.select(
        *(c for c in MENTION_COLUMNS if c not in ("is_branch", "source_rank")),
        F.coalesce(F.col("is_branch").cast("boolean"), F.lit(False)).alias("is_branch"),
        F.col("source_rank").cast("int").alias("source_rank"),
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
    stats = (
        edges.join(mentions.select("mention_id", "uscc", "regno"), "mention_id")
        .groupBy("kind", "value")
        .agg(
            F.count_distinct("mention_id").alias("mentions"),
            F.count_distinct("uscc").alias("usccs"),
            F.count_distinct("regno").alias("regnos"),
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
    judged = stats.withColumn("reason", reason)
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
) -> tuple[DataFrame, int]:
    """Label each mention of the graph mention — key with the smallest mention_id reachable.

    Min-label propagation on the bipartite graph: a key takes the smallest label of its
    mentions, a mention the smallest label of its keys. A mention belongs to its own keys,
    so labels only decrease; it stops when a round changes none. ``edges`` must be
    distinct (``rule_edges`` makes them so). Returns ``(mention_id, label)`` for the
    mentions with an edge, and the number of rounds.
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


def link_mentions(mentions: DataFrame, kept_edges: DataFrame, labels: DataFrame) -> DataFrame:
    """(mention_id, cluster, rule, evidence) for every mention; cluster = smallest mention_id.

    A mention without any valid code joins the one cluster whose coded mentions carry its
    normalised name and branch flag (never a head office to a branch by name); an
    ambiguous or unknown name leaves it a singleton, as does a mention whose keys were all
    dropped.
    """
    has_code = reduce(Column.__or__, (F.col(k).isNotNull() for k in CODE_KINDS))
    code_links = explain_code_links(kept_edges, labels)
    base = mentions.select("mention_id", "name_norm", "is_branch", has_code.alias("has_code"))
    base = base.join(code_links, "mention_id", "left").withColumn(
        "cluster", F.coalesce("cluster", "mention_id")
    )
    name_owners = (
        base.where(F.col("has_code") & F.col("name_norm").isNotNull())
        .groupBy("name_norm", "is_branch")
        .agg(F.count_distinct("cluster").alias("owners"), F.min("cluster").alias("owner"))
        .where(F.col("owners") == 1)
        .drop("owners")
    )
    named = base.join(name_owners, ["name_norm", "is_branch"], "left")
    by_name = ~F.col("has_code") & F.col("owner").isNotNull()
    name_evidence = F.to_json(F.create_map(F.lit("name_norm"), F.col("name_norm")))
    linked = named.select(
        "mention_id",
        F.when(by_name, F.col("owner")).otherwise(F.col("cluster")).alias("cluster"),
        F.when(by_name, F.lit("name_exact"))
        .otherwise(F.coalesce("rule", F.lit("singleton"))).alias("rule"),
        F.when(by_name, name_evidence)
        .otherwise(F.coalesce("evidence", F.lit("{}"))).alias("evidence"),
    )
    # A mention attached by name may sort before its cluster's label: relabel.
    smallest = F.min("mention_id").over(Window.partitionBy("cluster"))
    return linked.withColumn("cluster", smallest)


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


def assign_enterprise_ids(
    clustered: DataFrame, prior_links: DataFrame, next_id: int
) -> tuple[DataFrame, DataFrame]:
    """Give each cluster an enterprise id: ``(cluster, enterprise_id)`` and the id changes.

    A prior id stays with the cluster holding most of its mentions (ties: smallest
    cluster); the other clusters holding some get ``split_from`` records. A cluster keeps,
    of the prior ids it so holds, the one most of its mentions carried (ties: smallest id);
    the rest are ``merged_into`` it. Clusters without one get new ids from ``next_id`` in
    the order of their smallest mention_id.
    """
    held = (
        clustered.join(
            prior_links.select("mention_id", F.col("enterprise_id").alias("prior_id")),
            "mention_id",
        )
        .groupBy("cluster", "prior_id")
        .agg(F.count("*").alias("held"))
    )
    most_held_first = (-F.col("held")).alias("rank")
    keepers = held.groupBy("prior_id").agg(
        F.min(F.struct(most_held_first, "cluster"))["cluster"].alias("keeper")
    )
    held = held.join(keepers, "prior_id")
    claims = held.where(F.col("cluster") == F.col("keeper"))
    survivors = claims.groupBy("cluster").agg(
        F.min(F.struct(most_held_first, "prior_id"))["prior_id"].alias("enterprise_id")
    )
    without_id = clustered.select("cluster").distinct().join(survivors, "cluster", "left_anti")
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

def build_enterprises(mentions: DataFrame, links: DataFrame) -> DataFrame:
    """One row per enterprise: canonical name, most frequent code per kind, size.

    The canonical name is the name of the best-ranked source (ties: most frequent, then
    smallest); a code is the most frequent value of its kind (ties: smallest); is_branch
    comes from the best-ranked mention (ties: smallest mention_id).
    """
    members = links.select("mention_id", "enterprise_id").join(mentions, "mention_id")
    summary = members.groupBy("enterprise_id").agg(
        F.count("*").alias("mention_count"),
        F.min(F.struct("source_rank", "mention_id", "is_branch"))["is_branch"].alias("is_branch"),
    )
    names = (
        members.where(F.col("name").isNotNull())
        .groupBy("enterprise_id", "name")
        .agg(F.min("source_rank").alias("best_rank"), F.count("*").alias("freq"))
        .groupBy("enterprise_id")
        .agg(F.min(F.struct("best_rank", (-F.col("freq")).alias("f"), "name"))["name"]
             .alias("canonical_name"))
    )
    codes = (
        code_key_edges(members)
        .join(members.select("mention_id", "enterprise_id"), "mention_id")
        .groupBy("enterprise_id", "kind", "value")
        .agg(F.count("*").alias("freq"))
        .groupBy("enterprise_id", "kind")
        .agg(F.min(F.struct((-F.col("freq")).alias("f"), "value"))["value"].alias("value"))
        .groupBy("enterprise_id")
        .pivot("kind", list(CODE_KINDS))
        .agg(F.first("value"))
    )
    return (
        summary.join(names, "enterprise_id", "left")
        .join(codes, "enterprise_id", "left")
        .select(*ENTERPRISE_COLUMNS)
    )


# --- all steps -----------------------------------------------------------------------------

def resolve(
    mentions: DataFrame,
    prior_links: DataFrame,
    next_id: int,
    *,
    rules: Sequence[EdgeRule] = EDGE_RULES,
    max_key_degree: int = DEFAULT_MAX_KEY_DEGREE,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
) -> Resolution:
    """Run all steps: links, enterprises, id changes and dropped keys of one night."""
    # Materialised once: every step below reads them.
    mentions = conform_mentions(mentions).localCheckpoint()
    edges = rule_edges(mentions, rules)
    kept_edges, dropped_keys = guard_keys(mentions, edges, max_key_degree)
    kept_edges = kept_edges.localCheckpoint()
    labels, iterations = connected_components(kept_edges, max_iterations, checkpoint_every)
    clustered = link_mentions(mentions, kept_edges, labels).localCheckpoint()
    cluster_ids, id_changes = assign_enterprise_ids(clustered, prior_links, next_id)
    links = clustered.join(cluster_ids, "cluster").select(*LINK_COLUMNS).localCheckpoint()
    return Resolution(
        links=links,
        enterprises=build_enterprises(mentions, links),
        id_changes=id_changes.select(*ID_CHANGE_COLUMNS),
        dropped_keys=dropped_keys,
        iterations=iterations,
    )
