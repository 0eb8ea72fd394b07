"""The statement guard: a query runs only if it parses, in its engine's dialect, as one read-only query.

This is the first of the engine's defences (the others: read-only connections, per-query time limits, a cap on rows
fetched, see the backends). DataFlow's executor checks that a statement *starts* with SELECT, which lets
``WITH d AS (SELECT 1) DELETE FROM t`` through; here the whole tree is inspected (sqlglot, the parser
the project uses for dialect translation too):

- exactly one statement, whose root is a query (SELECT, a set operation, VALUES, a parenthesised query);
- no node anywhere that writes or changes state: DML and DDL (also inside a CTE, as PostgreSQL allows),
  ``SELECT ... INTO`` (a new table, a file, a variable), locking clauses, ``SET``, ``PRAGMA``, ``ATTACH``, ``COPY``,
  transaction control, statements sqlglot only knows as opaque commands (``VACUUM INTO``, ``ALTER SYSTEM``),
  variable assignment (``@a := 1``);
- functions from an allowlist: every function sqlglot recognises as a built-in (typed) is allowed except a few
  that read files or sequences; a function sqlglot does not recognise (parsed as "anonymous") must be on the
  dialect's list of known side-effect-free built-ins. So ``pg_sleep``, ``pg_read_file``, ``lo_export``,
  ``dblink``, ``set_config``, ``nextval``, ``query_to_xml``, ``SLEEP``, ``BENCHMARK``, ``LOAD_FILE``,
  ``GET_LOCK``, SQLite's ``load_extension`` and user-defined functions (which may write) are refused, as is
  anything new that nobody has vetted;
- recursive CTEs are refused unless allowed: whether one terminates cannot be told before it runs (the time limit
  then stops a runaway one on SQLite and PostgreSQL; MariaDB stops them itself after ``max_recursive_iterations``);
- text the engine would read differently from the parser: MySQL's executable comments ``/*! ... */`` and
  ``/*M! ... */`` (the server runs their content, a parser sees a comment), and nested block comments.

The guard is conservative: a valid query sqlglot cannot parse is refused as a syntax error, since it cannot be shown
to be safe. Verdicts are cached per (dialect, allow_recursive, text), so a query run on several variants, or
compared many times, is parsed once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from operators.database.protocol import Cause

_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)

_WRITING_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Copy,
    exp.LoadData,
    exp.Export,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Set,
    exp.SetItem,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Use,
    exp.Kill,
    exp.Execute,
    exp.ExecuteSql,
    exp.Declare,
    exp.Comment,
    exp.Install,
    exp.Into,
    exp.Lock,
    exp.LockingStatement,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.PropertyEQ,
    exp.Put,
    exp.Get,
    exp.StoredProcedure,
    exp.Block,
    exp.MultitableInserts,
    exp.UserDefinedFunction,
    exp.AlterSession,
)
"""Node types that change data, schema, settings, files or session state (or hide what they do)."""

_DENIED_TYPED = (exp.NextValueFor, exp.ReadCSV, exp.ReadParquet, exp.ToFile)
"""Functions sqlglot knows that read files or advance sequences."""

_SIDE_EFFECTS = {
    "pg_sleep": "sleeps",
    "pg_sleep_for": "sleeps",
    "pg_sleep_until": "sleeps",
    "sleep": "sleeps",
    "benchmark": "burns CPU on purpose",
    "pg_read_file": "reads a server file",
    "pg_read_binary_file": "reads a server file",
    "pg_ls_dir": "lists a server directory",
    "pg_stat_file": "reads server file metadata",
    "lo_import": "reads a server file",
    "lo_export": "writes a server file",
    "load_file": "reads a server file",
    "load_extension": "loads native code",
    "readfile": "reads a file",
    "writefile": "writes a file",
    "dblink": "opens another connection",
    "dblink_exec": "runs a statement on another connection",
    "set_config": "changes a setting",
    "nextval": "advances a sequence",
    "setval": "sets a sequence",
    "pg_terminate_backend": "stops another session",
    "pg_cancel_backend": "stops another query",
    "pg_reload_conf": "reloads the server's configuration",
    "query_to_xml": "runs a statement given as text",
    "get_lock": "takes a lock",
    "release_lock": "releases a lock",
    "pg_advisory_lock": "takes a lock",
    "pg_notify": "sends a notification",
    "last_insert_id": "sets the session's last insert id",
    "fts3_tokenizer": "registers native code",
}
"""Functions known to act outside the query: named in the refusal's reason (they are off every allowlist anyway)."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMMON = """
abs avg cast ceil ceiling char_length character_length coalesce concat concat_ws count cume_dist dense_rank exp
first_value floor greatest lag last_value lead least length ln log lower ltrim max min mod nth_value ntile nullif
percent_rank power rank replace reverse round row_number rtrim sign sqrt substr substring sum trim upper
acos asin atan atan2 cos cot sin tan degrees radians pi log10 log2 trunc
"""

_ALLOWED_ANONYMOUS: dict[str, frozenset[str]] = {
    "sqlite": _words(
        _COMMON
        + """
            changes char date datetime format glob hex ifnull iif instr julianday last_insert_rowid like likelihood
            likely lower ltrim octet_length printf quote random randomblob sqlite_version strftime time timediff total
            total_changes typeof unhex unicode unixepoch unlikely upper zeroblob group_concat string_agg median
            json json_array json_array_length json_extract json_group_array json_group_object json_insert
            json_object json_patch json_quote json_remove json_replace json_set json_type json_valid json_each
            json_tree acosh asinh atanh cosh sinh tanh pow
            """
    ),
    "postgres": _words(
        _COMMON
        + """
            age array_agg array_length array_position array_to_string array_upper array_lower bit_and bit_or
            bool_and bool_or btrim cardinality cbrt chr clock_timestamp corr covar_pop covar_samp current_date
            date_part date_trunc div every extract format generate_series initcap isfinite justify_days
            justify_hours justify_interval left lpad make_date make_interval make_time make_timestamp md5 mode
            now octet_length overlay percentile_cont percentile_disc pg_typeof position regexp_match
            regexp_matches regexp_replace regexp_split_to_array regexp_split_to_table repeat right rpad
            split_part starts_with stddev stddev_pop stddev_samp string_agg string_to_array strpos to_char
            to_date to_number to_timestamp translate unnest var_pop var_samp variance width_bucket ascii
            jsonb_array_length jsonb_extract_path jsonb_extract_path_text json_array_length
            json_extract_path json_extract_path_text jsonb_typeof json_typeof date_bin scale gcd lcm factorial
            statement_timestamp transaction_timestamp localtime localtimestamp current_time current_timestamp
            """
    ),
    "mysql": _words(
        _COMMON
        + """
            adddate addtime ascii bin bit_and bit_or bit_xor bit_count char conv convert curdate current_date
            current_time current_timestamp curtime date date_add date_format date_sub datediff day dayname
            dayofmonth dayofweek dayofyear elt field find_in_set format from_days from_unixtime group_concat hex
            hour if ifnull insert instr last_day lcase left locate lpad makedate maketime md5 microsecond mid
            minute month monthname now oct ord period_add period_diff position quarter rand regexp_instr
            regexp_like regexp_replace regexp_substr repeat right rpad sec_to_time second sha sha1 sha2 space
            std stddev stddev_pop stddev_samp str_to_date strcmp subdate substring_index subtime sysdate time
            time_format time_to_sec timediff timestamp timestampadd timestampdiff to_days to_seconds truncate
            ucase unhex unix_timestamp utc_date utc_time utc_timestamp var_pop var_samp variance week weekday
            weekofyear year yearweek json_extract json_unquote json_length json_contains json_keys json_object
            json_array json_arrayagg json_objectagg json_value isnull median
            """
    ),
}
"""Built-in functions without side effects that sqlglot parses as "anonymous" in each dialect. ``insert`` is
MySQL's string function ``INSERT(str, pos, len, newstr)``, a call, not the statement (which is a node of its own).
"""

_NESTED_COMMENT = re.compile(r"/\*(?:(?!\*/).)*?/\*", re.DOTALL)
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!")
_TOKEN = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: \d+, col: \d+, [^>]*>")
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*([A-Za-z]+)", re.DOTALL)
_STATEMENT_KEYWORDS = _words(
    """
    INSERT UPDATE DELETE MERGE REPLACE UPSERT CREATE DROP ALTER TRUNCATE RENAME GRANT REVOKE SET RESET LOAD COPY
    CALL EXEC EXECUTE DO HANDLER LOCK UNLOCK ATTACH DETACH VACUUM PRAGMA ANALYZE REINDEX OPTIMIZE REPAIR CHECKPOINT
    CLUSTER BEGIN START COMMIT ROLLBACK SAVEPOINT RELEASE USE SHOW DESCRIBE EXPLAIN KILL FLUSH INSTALL UNINSTALL
    COMMENT DECLARE LISTEN NOTIFY PREPARE DEALLOCATE REFRESH IMPORT SHUTDOWN PURGE
    """
)
"""First words of statements that are not queries: one that fails to parse is still refused as not read-only."""
_INTO_FILE = re.compile(r"\binto\s+(?:outfile|dumpfile)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """What the guard decided about one statement."""

    allowed: bool
    cause: Cause | None = None
    reason: str | None = None


def check(sql: str, dialect: str, *, allow_recursive: bool = False) -> Verdict:
    """The guard's verdict on ``sql`` in ``dialect`` (``sqlite``, ``postgres`` or ``mysql``)."""
    return _check(sql, dialect, allow_recursive)


@lru_cache(maxsize=8192)
def _check(sql: str, dialect: str, allow_recursive: bool) -> Verdict:
    if not sql or not sql.strip():
        return Verdict(False, Cause.SYNTAX_ERROR, "empty statement")
    if dialect == "mysql" and _EXECUTABLE_COMMENT.search(sql):
        return _refuse("an executable comment (/*! ... */): MySQL and MariaDB run what it holds")
    if dialect == "mysql" and _INTO_FILE.search(sql):
        return _refuse("SELECT ... INTO OUTFILE/DUMPFILE writes a server file")
    if _NESTED_COMMENT.search(sql):
        return _refuse("a nested block comment: engines and parsers disagree on where it ends")
    try:
        statements = [s for s in _parse(sql, dialect) if s is not None]
    except SqlglotError as error:
        first = _FIRST_WORD.match(sql)
        keyword = first.group(1).upper() if first else ""
        if keyword in _STATEMENT_KEYWORDS:
            return _refuse(f"a {keyword} statement, not a query")
        return Verdict(False, Cause.SYNTAX_ERROR, _first_line(str(error)))
    if len(statements) != 1:
        return (
            _refuse(f"{len(statements)} statements; exactly one query is run")
            if statements
            else Verdict(False, Cause.SYNTAX_ERROR, "no statement")
        )
    (tree,) = statements
    if not isinstance(tree, _QUERY_ROOTS):
        return _refuse(f"{_kind(tree)} is not a query")
    for node in tree.walk():
        problem = _problem(node, dialect, allow_recursive)
        if problem:
            return _refuse(problem)
    return Verdict(True)


class _QuietFallback(logging.Filter):
    """Drops sqlglot's warning that it parsed a statement as an opaque Command: the guard refuses those anyway, and
    LLM-written SQL would fill the logs with it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_QuietFallback())


def _parse(sql: str, dialect: str) -> list[exp.Expression | None]:
    return sqlglot.parse(sql, read=dialect)


def _problem(node: exp.Expression, dialect: str, allow_recursive: bool) -> str | None:
    if isinstance(node, _WRITING_NODES):
        return f"it contains {_kind(node)}"
    if isinstance(node, exp.With) and node.args.get("recursive") and not allow_recursive:
        return "a recursive CTE (its termination cannot be checked before it runs; allow_recursive enables them)"
    if isinstance(node, exp.Func):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in _SIDE_EFFECTS:
                return f"{name}() {_SIDE_EFFECTS[name]}"
            if name not in _ALLOWED_ANONYMOUS.get(dialect, frozenset()):
                return f"{name}() is not a known side-effect-free built-in of {dialect}"
        elif isinstance(node, _DENIED_TYPED):
            return f"{node.sql_name()}() reads files or advances a sequence"
        elif node.sql_name().lower() in _SIDE_EFFECTS:
            return f"{node.sql_name().lower()}() {_SIDE_EFFECTS[node.sql_name().lower()]}"
    return None


def _refuse(reason: str) -> Verdict:
    return Verdict(False, Cause.NOT_READ_ONLY, reason)


def _kind(node: exp.Expression) -> str:
    names = {
        exp.Into: "SELECT ... INTO",
        exp.Lock: "a locking clause (FOR UPDATE / FOR SHARE)",
        exp.PropertyEQ: "a variable assignment (:=)",
        exp.Command: f"{str(node.this).upper()} (a command the parser cannot inspect)",
    }
    return names.get(type(node), type(node).__name__.upper())


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "does not parse"
    return _TOKEN.sub(lambda m: repr(m.group(1)) if m.group(1) != "SENTINEL" else "the end", line)
