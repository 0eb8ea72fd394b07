"""Spider's hardness of a SQL query, from the components it uses (Yu et al. 2018, ``evaluation.py``).

Spider counts three things for the outermost query and buckets them into easy / medium / hard / extra:

- *component 1*: WHERE, GROUP BY, ORDER BY, LIMIT, each join (tables in FROM beyond the first), each OR and each
  LIKE in the WHERE and HAVING conditions;
- *component 2*: nested queries: sub-queries in WHERE, HAVING and join conditions, and a UNION / INTERSECT /
  EXCEPT (a sub-query in FROM is a table, not a nested query);
- *others*: one each for more than one aggregate (in SELECT, WHERE, GROUP BY, ORDER BY, HAVING), more than one
  selected column, more than one WHERE condition, more than one GROUP BY column.

Spider counts on its own parse of the query; here sqlglot's tree is walked, which also handles the syntax Spider's
parser does not (functions, CASE, window functions, any dialect). Two of Spider's quirks are not reproduced:
``count_agg`` over WHERE and HAVING counts NOT conditions and the strings "and"/"or" as aggregates, and an ORDER BY
after a set operation is attributed to its right-hand query; here aggregates are aggregate functions and a
set operation's ORDER BY is the outer query's.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

BUCKETS = ("easy", "medium", "hard", "extra")


@dataclass(frozen=True)
class Components:
    component1: int
    component2: int
    others: int

    @property
    def hardness(self) -> str:
        """The bucket, by the conditions of Spider's ``eval_hardness``."""
        c1, c2, others = self.component1, self.component2, self.others
        if c1 <= 1 and others == 0 and c2 == 0:
            return "easy"
        if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
            return "medium"
        if (
            (others > 2 and c1 <= 2 and c2 == 0)
            or (2 < c1 <= 3 and others <= 2 and c2 == 0)
            or (c1 <= 1 and others == 0 and c2 <= 1)
        ):
            return "hard"
        return "extra"


def components(sql: str, dialect: str | None = None) -> Components:
    """The component counts of a query; raises ``sqlglot.errors.SqlglotError`` when it does not parse (or
    ``ValueError`` when it is not a query)."""
    tree = sqlglot.parse_one(sql, read=dialect)
    while isinstance(tree, exp.Subquery | exp.Paren):
        tree = tree.this
    set_operation = isinstance(tree, exp.SetOperation)
    while isinstance(tree, exp.SetOperation | exp.Subquery | exp.Paren):
        tree = tree.this if not isinstance(tree, exp.SetOperation) else tree.left
    if not isinstance(tree, exp.Select):
        raise ValueError(f"not a query: {type(tree).__name__}")
    where, having, group = tree.args.get("where"), tree.args.get("having"), tree.args.get("group")
    order, limit, joins = tree.args.get("order"), tree.args.get("limit"), tree.args.get("joins") or []
    conditions = [c for c in (where, having) if c is not None]

    component1 = sum(clause is not None for clause in (where, group, order, limit)) + len(joins)
    component1 += sum(len(_own(c, exp.Or)) + len(_own(c, exp.Like)) for c in conditions)

    join_conditions = [j.args["on"] for j in joins if j.args.get("on") is not None]
    nested = sum(len(_own(c, exp.Select, include_subqueries=True)) for c in [*conditions, *join_conditions])
    component2 = nested + int(set_operation)

    aggregates = sum(
        len(_own(part, exp.AggFunc)) for part in [*tree.expressions, where, group, order, having] if part is not None
    )
    where_conditions = len(_predicates(where.this)) if where is not None else 0
    others = sum(
        (
            aggregates > 1,
            len(tree.expressions) > 1,
            where_conditions > 1,
            group is not None and len(group.expressions) > 1,
        )
    )
    return Components(component1, component2, others)


def hardness(sql: str, dialect: str | None = None) -> str | None:
    """Spider's bucket for ``sql``, or None when it does not parse as a query."""
    try:
        return components(sql, dialect).hardness
    except (SqlglotError, ValueError):
        return None


def _own(node: exp.Expression, kind: type[exp.Expression], *, include_subqueries: bool = False) -> list:
    """Nodes of ``kind`` under ``node`` that belong to this query level (not inside a sub-query); with
    ``include_subqueries``, the sub-queries directly at this level."""
    found = []
    for child in node.iter_expressions():
        if isinstance(child, exp.Select):
            if include_subqueries and kind is exp.Select:
                found.append(child)
            continue
        if isinstance(child, kind):
            found.append(child)
        found.extend(_own(child, kind, include_subqueries=include_subqueries))
    return found


def _predicates(condition: exp.Expression) -> list[exp.Expression]:
    """The conditions joined by AND / OR at the top of a WHERE clause."""
    if isinstance(condition, exp.And | exp.Or):
        return _predicates(condition.left) + _predicates(condition.right)
    if isinstance(condition, exp.Paren):
        return _predicates(condition.this)
    return [condition]
