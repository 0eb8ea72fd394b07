"""Language names for code rows: one spelling per language, from a language column or a file extension, and the
code block extracted from an LLM's Markdown answer.

Names are tree-sitter-language-pack's (``python``, ``javascript``, ``cpp``, ``csharp``...), so the syntax filter
can hand them to its parser directly; common aliases (``py``, ``js``, ``c++``, ``C#``) map onto them.
"""

from __future__ import annotations

import re

import polars as pl

ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "ts": "typescript",
    "c++": "cpp",
    "cxx": "cpp",
    "cc": "cpp",
    "c#": "csharp",
    "cs": "csharp",
    "sh": "bash",
    "shell": "bash",
    "rb": "ruby",
    "rs": "rust",
    "golang": "go",
    "kt": "kotlin",
    "yml": "yaml",
    "md": "markdown",
    "htm": "html",
    "plain text": "text",
}

EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".go": "go",
    ".rs": "rust",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".sh": "bash",
    ".sql": "sql",
    ".lua": "lua",
    ".r": "r",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".xml": "xml",
    ".csv": "csv",
    ".md": "markdown",
    ".txt": "text",
}


def normalize(name: str | None) -> str | None:
    """``"Python"``, ``"py"`` -> ``"python"``; None stays None."""
    if name is None:
        return None
    key = name.strip().lower()
    return ALIASES.get(key, key) or None


def language_expr(language: pl.Expr | None, path: pl.Expr | None, default: str | None) -> pl.Expr:
    """A polars expression for each row's language: the language column (normalized), else the path's extension,
    else ``default``."""
    candidates: list[pl.Expr] = []
    if language is not None:
        lowered = language.str.strip_chars().str.to_lowercase()
        candidates.append(lowered.replace(ALIASES))
    if path is not None:
        extension = path.str.to_lowercase().str.extract(r"(\.[a-z0-9+]+)$")
        candidates.append(extension.replace_strict(EXTENSIONS, default=None, return_dtype=pl.String))
    candidates.append(pl.lit(default, pl.String))
    return pl.coalesce(candidates)


LANGUAGE = "__code_language"
"""The helper column filters add (``with_language``) and drop again: each row's language or null."""


def with_language(df: pl.DataFrame, keys: dict[str, str], default: str | None) -> pl.DataFrame:
    """``df`` with :data:`LANGUAGE`: from the language column, else the path column's extension, else ``default``.

    Both columns are optional (a frame may have neither): filters over code list only the code column in
    ``reads()`` and look these up here."""
    language = pl.col(keys["input_language_key"]) if keys["input_language_key"] in df.columns else None
    path = pl.col(keys["input_path_key"]) if keys["input_path_key"] in df.columns else None
    return df.with_columns(language_expr(language, path, default).alias(LANGUAGE))


_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code(answer: str, language: str | None = None) -> str:
    """The code in an LLM answer: the first fenced block in ``language`` (or the first fenced block at all), else
    the whole answer stripped. Models wrap code in Markdown fences even when told not to."""
    blocks = [(normalize(tag) or "", body) for tag, body in _FENCE.findall(answer)]
    wanted = normalize(language)
    for tag, body in blocks:
        if wanted is None or tag in (wanted, ""):
            return body.strip("\n")
    return (blocks[0][1] if blocks else answer).strip()
