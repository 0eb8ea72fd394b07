from __future__ import annotations

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register

_PICTOGRAPH = (
    r"[\p{Emoji_Presentation}"
    r"\x{2600}-\x{27BF}"  # Miscellaneous Symbols, Dingbats: ☀ ☎ ♻ ⚽ ✂ ✈ ✔ ❤
    r"\x{1F000}-\x{1FAFF}]"  # plane 1's symbol blocks, every emoji block among them: 🀄 🅰 🈁 🌍 😀 🚀 🟠 🤖 🫠
)
"""A character that is a pictograph on its own. ``\\p{Emoji_Presentation}`` adds the few shown as emoji by default
outside those blocks (⌚ ⏰ ⬛ ⭐ ⭕). The plane-1 range also covers code points not yet assigned, so emoji of
later Unicode versions are removed too, as well as the regional indicators (flags are pairs of them: 🇫🇷) and
the skin-tone modifiers 🏻-🏿."""

_TEXT_SYMBOL_AS_EMOJI = r"\p{Emoji}\x{FE0F}"
"""A character drawn as text by default, followed by variation selector 16 (emoji presentation): ©️ ™️ ↔️.
Without the selector these stay (© 2024), and ``\\p{Emoji}`` also holds the digits, which stay too."""

_KEYCAP = r"[0-9#*]\x{FE0F}?\x{20E3}"
"""Keycaps: a digit, ``#`` or ``*``, optionally the emoji selector, and the combining enclosing keycap: 1️⃣."""

_EMOJI_PART = rf"(?:{_KEYCAP}|{_TEXT_SYMBOL_AS_EMOJI}|{_PICTOGRAPH})"
_MODIFIER = r"[\x{FE0E}\x{FE0F}\x{1F3FB}-\x{1F3FF}\x{E0020}-\x{E007F}]"
"""What may follow an emoji inside its sequence: variation selectors, skin tones, and the tag characters of
subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿)."""

_EMOJI = rf"{_EMOJI_PART}(?:{_MODIFIER}|\x{{200D}}{_EMOJI_PART})*"
"""One emoji with its modifiers, and ZWJ sequences (👩‍💻, 👨‍👩‍👧) as one match. A zero-width joiner or a variation
selector elsewhere is left alone: Indic and Persian text needs its joiners, CJK text its variation selectors."""


@register("remove_emoji")
class RemoveEmojiRefiner(Refiner):
    """Remove emoji and pictographic symbols from text, with their modifiers and joiners.

    Removed: every character of the Miscellaneous Symbols and Dingbats blocks (U+2600-U+27BF) and of plane 1's
    symbol blocks (U+1F000-U+1FAFF: emoticons, pictographs, transport, flags, ...), the other characters shown as
    emoji by default (``\\p{Emoji_Presentation}``), text symbols turned into emoji by U+FE0F (©️, ™️), keycaps (1️⃣),
    and whatever joins them into one emoji: variation selectors, skin tones, zero-width joiners between emoji,
    regional-indicator pairs (flags) and tag sequences (subdivision flags). Kept: © ® ™ and arrows without the
    emoji selector, and joiners or selectors that are not part of an emoji. Whitespace around a removed emoji is
    left as it is: follow with ``normalize_text`` to collapse it.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: pl.col(input_key).str.replace_all(_EMOJI, "")}
