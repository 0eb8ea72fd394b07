from __future__ import annotations

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register

_MARKDOWN_IMAGE = r"!\[[^\]\n]*\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"
"""``![alt](path "title")``: Markdown images, as PDF-to-Markdown converters write them (``![](images/3f2a.jpg)``);
one pair of parentheses may appear inside the path."""

_MARKDOWN_REFERENCE_IMAGE = r"!\[[^\]\n]*\]\[[^\]\n]*\]"
"""``![alt][label]``: a reference-style Markdown image."""

_HTML_IMAGE = r"(?is)<(?:img|image|figure|picture|svg)\b[^>]*/?>(?:.*?</(?:figure|picture|svg)\s*>)?"
"""An HTML ``<img>`` tag, or a ``<figure>``/``<picture>``/``<svg>`` element with its content."""

_WIKI_FILE = (
    r"(?i)\[\[\s*(?:file|image|datei|fichier|archivo|imagen|файл|文件|ファイル)\s*:(?:[^\[\]]|\[\[[^\[\]]*\]\])*\]\]"
)
"""``[[File:Map.png|thumb|A [[river]] map]]``: a wiki file link in the common languages' namespaces, with links
nested one level inside its caption."""


@register("remove_image_refs")
class RemoveImageRefsRefiner(Refiner):
    """Remove image references from text: Markdown images, HTML image and figure elements, wiki file links.

    Covers DataFlow's ``RemoveImageRefsRefiner``, which targets Markdown from PDF conversion
    (``![](images/....jpg)``) but with patterns that also delete any run of 7 or more letters and digits (so every
    long word), runs of 5 Chinese numerals and some Unicode escapes; this one removes what is an image reference by
    its syntax and nothing else. A removed Markdown image's alt text and a wiki link's caption go with it.
    Whitespace around a removal stays: follow with ``normalize_text`` to collapse it.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        text = pl.col(input_key)
        for pattern in (_WIKI_FILE, _HTML_IMAGE, _MARKDOWN_IMAGE, _MARKDOWN_REFERENCE_IMAGE):
            text = text.str.replace_all(pattern, "")
        return {output_key: text}
