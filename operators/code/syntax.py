"""Syntax checks: Python with ``ast`` (the interpreter's own parser), other languages with tree-sitter.

The grammars come inside ``tree-sitter-language-pack`` 0.13 (the 1.x line downloads them at run time, which this
project does not allow). Nothing is executed: parsing untrusted code is safe, and bounded by ``max_chars``.
"""

from __future__ import annotations

import ast
import typing
import warnings
from functools import cache

import tree_sitter_language_pack

SUPPORTED = frozenset(typing.get_args(tree_sitter_language_pack.SupportedLanguage))
MAX_ERROR_SEARCH = 100_000
"""Nodes visited at most to locate the first error in a tree-sitter tree."""


@cache
def _parser(language: str):
    return tree_sitter_language_pack.get_parser(language)


def check(code: str | None, language: str | None, max_chars: int) -> tuple[str, str]:
    """``(status, detail)``: status ``ok``, ``error``, ``unknown_language``, ``too_long`` or ``no_code``."""
    if code is None:
        return "no_code", "the code is null"
    if len(code) > max_chars:
        return "too_long", f"{len(code)} characters, more than max_chars={max_chars}"
    if language == "python":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes: still valid code
                ast.parse(code)
        except SyntaxError as error:
            return "error", f"line {error.lineno}: {error.msg}"
        except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
            return "error", f"{type(error).__name__}: {error}"
        return "ok", ""
    if language not in SUPPORTED:
        return "unknown_language", f"no grammar for language {language!r}"
    root = _parser(language).parse(code.encode("utf-8", "surrogatepass")).root_node
    if not root.has_error:
        return "ok", ""
    return "error", _first_error(root)


def _first_error(root) -> str:
    stack, visited = [root], 0
    while stack and visited < MAX_ERROR_SEARCH:
        node = stack.pop()
        visited += 1
        if node.is_error or node.is_missing:
            what = f"missing {node.type}" if node.is_missing else "unexpected input"
            return f"line {node.start_point[0] + 1}: {what}"
        stack.extend(reversed([child for child in node.children if child.has_error or child.is_missing]))
    return "a syntax error"
