"""Final answers of math solutions: find the answer in a whole solution, then write it one way.

``extract_answer`` finds the final answer's text in a solution (or takes a bare answer as it is), in this order:
the last ``\\boxed{}``/``\\fbox{}`` (nested braces balanced, adjacent boxes joined), the last answer marker
("Final Answer: ...", "the final answer is ...", "The answer is ...", "Answer: ...", GSM8K's ``####``), a short bare
answer, and at last the last expression (the last math span or number). ``normalize_answer`` rewrites it without
changing its value: math delimiters, ``\\left``/``\\right``, ``\\dfrac``/``\\tfrac``, spacing commands, degrees,
units and currency, ``\\text{}``, thousands separators, scientific notation, unicode symbols.

Why hand-written when math-verify's ``parse`` also finds answers: ``parse`` returns sympy objects, not the answer's
text, and it scans a whole solution with a dozen regexes per call. The text is what a user reads in a reject
detail, what answers are voted on and what lets two answers written alike be matched without sympy; this module is
pure Python (no sympy) so that it runs cheaply in the calling process, and math-verify then parses the short
normalized answer in a worker (``operators.math.verify_pool``). Patterns follow the answer formats of the MATH
dataset (Hendrycks et al. 2021), Minerva's "Final Answer: The final answer is ... I hope it is correct." and GSM8K.
"""

from __future__ import annotations

import re
from decimal import Decimal

_BOX = re.compile(r"\\(?:boxed|fbox|framebox)\s*")
_BOX_JOIN = re.compile(r"^[\s$,;]*(?:(?:and|or|\\text\{\s*(?:and|or)\s*\})[\s$,;]*)?$")
_MARKER = re.compile(
    r"(?:final\s+answer\s*(?:is|:)?|the\s+answer\s+is|\banswer\s*(?:is|:|=)|(?:option|choice)\s+is|####)\s*:?",
    re.IGNORECASE,
)
_AFTERTHOUGHT = re.compile(r",\s+(?=[A-Za-z]{2})|\s+(?:but|because|since|which|as|so|if)\b")
_HOPE = re.compile(r"\s*I hope it is correct\.?.*$", re.IGNORECASE | re.DOTALL)
_MATH_SPAN = re.compile(
    r"\$\$(?P<a>.+?)\$\$|(?<!\\)\$(?P<b>(?:\\\$|[^$])+?)(?<!\\)\$|\\\[(?P<c>.+?)\\\]|\\\((?P<d>.+?)\\\)",
    re.DOTALL,
)
_NUMBER = re.compile(r"-?\$?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*\\?%)?|-?\.\d+")
_SENTENCE_END = re.compile(r"\.(?!\d)")
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "is the so we thus therefore hence then get have has of to that this it which are was be can find gives "
        "equals answer since because you he she they not sure know think",
    )
)

_UNITS = (
    "cm|mm|km|meters?|metres?|centimeters?|millimeters?|kilometers?|inch(?:es)?|in|ft|feet|foot|yards?|yd|miles?|"
    "mi|kg|grams?|kilograms?|mg|lbs?|pounds?|ounces?|oz|tons?|liters?|litres?|ml|gallons?|gal|sec|seconds?|"
    "min|minutes?|hr|hrs|hours?|days?|weeks?|months?|years?|mph|km/h|units?|square\\s+\\w+|sq\\s*\\w+|cubic\\s+\\w+|"
    "dollars?|cents?|euros?|rs|rupees?|degrees?|points?|people|persons?|students?|apples?|books?|coins?|marbles?|"
    "cookies?|ways?|times?"
)
_UNIT_AFTER_NUMBER = re.compile(
    rf"(?<=[\d}}).])(?:\s*\\(?:text|mathrm|mbox|textrm)\s*\{{\s*~?[A-Za-z][A-Za-z ./]*\}}|\s*(?:{_UNITS})\b)"
    r"(?:\s*\^\s*\{?[23]\}?)?\s*$",
    re.IGNORECASE,
)
_ONE_LETTER_UNIT = re.compile(r"^(-?[\d.,]+)\s+[mglsh](?:\s*\^\s*\{?[23]\}?)?$")
"""A one-letter unit only after a bare number and a space: in "2m" or "\\pi r^2 h" the letter is a variable."""
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree|\\circ(?![a-zA-Z])")
_TRIG_DEGREES = re.compile(
    r"(\\(?:sin|cos|tan|cot|sec|csc))\s*\(?\s*(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|\u00b0)\s*\)?"
)
"""``\\sin 30^\\circ``: an angle in degrees inside a trigonometric function, read in radians by sympy."""
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*")
_SPACING = re.compile(r"(?<!\\)\\[,!;: ]|\\q?quad(?![a-zA-Z])|~")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_THOUSANDS_SPACED = re.compile(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?")
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*[eE]\s*([+-]?\d+)(?![\w.])")
_SCIENTIFIC_TIMES = re.compile(
    r"(?<![\w.^{])(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d+))"
)
_REPEATING = re.compile(r"(-?)(\d*)\.(\d*)\\overline\{(\d+)\}")
_ALL_REALS = re.compile(r"(?i)\s*(?:all\s+real\s+numbers|\\mathbb\s*\{?R\}?|\\R)\s*")
_ASSIGNMENT = re.compile(r"([A-Za-z])\s*=\s*([^=<>]+)")
_EMPTY_SET = re.compile(r"^(?:\\varnothing|\\emptyset|\\\{\s*\\\}|\{\s*\})$")
_CHOICE = re.compile(
    r"^(?:(?i:option|choice|answer)\s*)?\(?([A-E])\)?[.:]?$|^\(([A-Ea-e])\)(?:\s.*)?$|^([A-E])[).:]\s+.+$", re.DOTALL
)
_UNICODE = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash
    "\u00d7": "\\times ",
    "\u00f7": "\\div ",
    "\u00b7": "\\cdot ",
    "\u03c0": "\\pi ",
    "\u221e": "\\infty ",
    "\u221a": "\\sqrt",
    "\u2264": "\\le ",
    "\u2265": "\\ge ",
    "\u2260": "\\ne ",
    "\u222a": "\\cup ",
    "\u2009": " ",
    "\u00a0": " ",
    **{
        fraction: f"\\frac{{{n}}}{{{d}}}"
        for fraction, (n, d) in {
            "\u00bd": (1, 2),
            "\u2153": (1, 3),
            "\u2154": (2, 3),
            "\u00bc": (1, 4),
            "\u00be": (3, 4),
            "\u2155": (1, 5),
            "\u2159": (1, 6),
            "\u215b": (1, 8),
        }.items()
    },
}
_SUPERSCRIPTS = str.maketrans("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b", "0123456789-")
_SUPERSCRIPT_RUN = re.compile("[\u2070\u00b9\u00b2\u00b3\u2074-\u2079\u207b]+")


def _closing_brace(text: str, opening: int) -> int | None:
    """Index just past the brace that closes the one at ``opening``, skipping escaped ``\\{`` and ``\\}``."""
    depth, i = 0, opening
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def boxed_answers(text: str) -> list[tuple[int, int, str]]:
    """Every ``\\boxed{...}`` (also ``\\fbox``, ``\\framebox``, ``\\boxed 5``) as (start, end, content)."""
    found: list[tuple[int, int, str]] = []
    for match in _BOX.finditer(text):
        start, i = match.start(), match.end()
        if found and start < found[-1][1]:
            continue  # a box inside a box: the outer one is the answer
        if i < len(text) and text[i] == "{":
            end = _closing_brace(text, i)
            if end is not None:
                found.append((start, end, text[i + 1 : end - 1]))
        elif match.group().endswith(" ") or match.group().endswith("\t"):
            token = re.match(r"[^\s$]+", text[i:])
            if token:
                found.append((start, i + token.end(), token.group().rstrip(".,;")))
    return found


def _last_boxed(text: str) -> str | None:
    boxes = boxed_answers(text)
    if not boxes:
        return None
    chosen = [boxes[-1]]
    for box in reversed(boxes[:-1]):  # "\boxed{2} and \boxed{3}": one answer written in two boxes
        if not _BOX_JOIN.match(text[box[1] : chosen[0][0]]):
            break
        chosen.insert(0, box)
    return ", ".join(content.strip() for _, _, content in chosen)


def _after_marker(text: str) -> str | None:
    matches = list(_MARKER.finditer(text))
    if not matches:
        return None
    rest = _HOPE.sub("", text[matches[-1].end() :]).strip().strip("*").strip()
    rest = rest.split("\n", 1)[0].strip()
    spans = list(_MATH_SPAN.finditer(rest))
    if spans:
        return _joined(spans[: 1 + _following(rest, spans)])
    end = _SENTENCE_END.search(rest)
    answer = (rest[: end.start()] if end else rest).strip().rstrip(".,;").strip("*").strip()
    if answer and not _is_bare(answer):  # "7, but I am not sure": the answer, not the comment after it
        answer = _AFTERTHOUGHT.split(answer, 1)[0].strip()
    return answer or None


def _following(text: str, spans: list[re.Match[str]]) -> int:
    """How many spans after the first continue it ("$x = 1$ and $x = 2$": one answer in two spans)."""
    count = 0
    while count + 1 < len(spans) and _BOX_JOIN.match(text[spans[count].end() : spans[count + 1].start()]):
        count += 1
    return count


def _joined(spans: list[re.Match[str]]) -> str:
    return ", ".join(_span_content(span) for span in spans)


def _span_content(span: re.Match[str]) -> str:
    return next(group for group in span.groups() if group is not None).strip()


def _is_bare(text: str) -> bool:
    """A short text with no sentence in it: the answer itself (``3/4``, ``x = 3``, ``\\text{Monday}``, ``5 cm``)."""
    if "\n" in text or len(text) > 120:
        return False
    words = re.findall(r"[A-Za-z]{2,}", _TEXT_COMMAND.sub(" ", re.sub(r"\\[A-Za-z]+", " ", text)))
    if any(word.lower() in _FUNCTION_WORDS for word in words) or re.search(r"\bI\b", text):
        return False
    return len(words) <= 4


def _last_expression(text: str) -> str | None:
    """The last math span or number; a number after the last span wins only past the end of its sentence, so that
    "$x = 5$ apples." gives ``x = 5`` and "$a = 2$. Then 3 more." gives ``3``."""
    spans = list(_MATH_SPAN.finditer(text))
    numbers = list(_NUMBER.finditer(_MATH_SPAN.sub(lambda span: " " * len(span.group()), text)))
    span = spans[-1] if spans else None
    number = numbers[-1] if numbers else None
    if number is not None and (
        span is None or (number.start() > span.end() and _SENTENCE_END.search(text, span.end(), number.start()))
    ):
        return number.group()
    if span is None:
        return None
    first = len(spans) - 1
    while first > 0 and _BOX_JOIN.match(text[spans[first - 1].end() : spans[first].start()]):
        first -= 1
    if first < len(spans) - 1:
        return _joined(spans[first:])
    return _last_equation_side(_span_content(span))


def _last_equation_side(expression: str) -> str:
    """``2 + 3 = 5`` -> ``5``; a single assignment (``x = 5``) is kept whole for the checker to unwrap."""
    parts = re.split(r"(?<![<>!\\])=", expression)
    if len(parts) == 2 and re.fullmatch(r"\s*(?:[A-Za-z]|\\[A-Za-z]+)\s*", parts[0]):
        return expression
    return parts[-1].strip() if len(parts) > 1 else expression


def extract_answer(text: str | None) -> str | None:
    """The final answer's text in ``text`` (a whole solution or a bare answer), or None when there is none."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    boxed = _last_boxed(text)
    if boxed:
        # A box around a whole sentence ("\\boxed{The answer is 42.}"): the answer inside it.
        return boxed if _is_bare(boxed) else (extract_answer(boxed) or boxed)
    answer = _after_marker(text)
    if answer:
        return answer
    if _is_bare(text):
        return text.rstrip(".").strip() or None
    return _last_expression(text)


def _strip_delimiters(text: str) -> str:
    while True:
        stripped = text.strip()
        for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if stripped.startswith(opening) and stripped.endswith(closing) and len(stripped) > 2 * len(opening):
                stripped = stripped[len(opening) : -len(closing)]
                break
        if stripped.strip() == text.strip():
            return stripped.strip()
        text = stripped


def _unwrap_box(text: str) -> str:
    boxes = boxed_answers(text)
    if len(boxes) == 1 and boxes[0][0] == 0 and boxes[0][1] == len(text):
        return boxes[0][2].strip()
    return text


def normalize_answer(answer: str | None) -> str | None:
    """``answer`` written one way, with the same value; None for an empty answer."""
    if answer is None:
        return None
    text = answer.strip()
    for symbol, latex in _UNICODE.items():
        text = text.replace(symbol, latex)
    text = _SUPERSCRIPT_RUN.sub(lambda run: f"^{{{run.group().translate(_SUPERSCRIPTS)}}}", text)
    text = _unwrap_box(_strip_delimiters(text))
    text = _strip_delimiters(text)
    text = text.replace("\\displaystyle", "").replace("\\!", "")
    text = re.sub(r"\\left\.|\\right\.", "", text)
    text = _SIZING.sub("", text)
    text = re.sub(r"\\[dt]frac(?![a-zA-Z])", r"\\frac", text)
    text = text.replace("{,}", "")
    text = _SPACING.sub(" ", text)
    text = _TRIG_DEGREES.sub(r"\1(\\frac{\2\\pi}{180})", text)
    text = _DEGREES.sub("", text)
    text = re.sub(r"(?<!\\)%", r"\\%", text)
    text = re.sub(r"\s*\b(?:percent|percentage|pct)\b\.?", r"\\%", text, flags=re.IGNORECASE)
    text = re.sub(r"\\\$|^\$|(?<=\s)\$(?=\d)|\bUSD\b|€|£|¥", "", text).strip()
    for _ in range(2):
        text = _UNIT_AFTER_NUMBER.sub("", text).strip()
    text = _ONE_LETTER_UNIT.sub(r"\1", text)
    whole_text = re.fullmatch(r"\s*" + _TEXT_COMMAND.pattern + r"\s*", text)
    if whole_text:
        text = whole_text.group(1).strip()
    text = text.strip().rstrip(".;,").strip()
    text = re.sub(r"\s*(?:\\text\{\s*(?:and|or)\s*\}|,?\s+(?:and|or)\s+)\s*", ", ", text)
    if re.fullmatch(r"[A-Za-z]\s*\\in\s*.+", text):
        text = re.sub(r"^[A-Za-z]\s*\\in\s*", "", text)
    assignments = [_ASSIGNMENT.fullmatch(part.strip()) for part in text.split(",")] if "," in text else []
    if assignments and all(assignments) and len({a.group(1) for a in assignments}) == len(assignments):
        text = "(" + ", ".join(a.group(2).strip() for a in assignments) + ")"  # "x = 2, y = 3": the pair (2, 3)
    if _THOUSANDS.fullmatch(text) or _THOUSANDS_SPACED.fullmatch(text):
        text = re.sub(r"[, ]", "", text)
    text = _SCIENTIFIC.sub(_plain_decimal, text)
    text = _SCIENTIFIC_TIMES.sub(_plain_decimal, text)
    text = _REPEATING.sub(_repeating_decimal, text)
    text = re.sub(r"\binfinity\b", r"\\infty", text)
    if _ALL_REALS.fullmatch(text):
        text = "(-\\infty, \\infty)"
    text = re.sub(r"\s+", " ", text).strip()
    if _EMPTY_SET.match(text):
        text = "\\emptyset"
    return text or None


def _plain_decimal(match: re.Match[str]) -> str:
    """``9.8 \\times 10^2`` and ``9.8e2`` -> ``980``: exact, where sympy would multiply floats (979.9999...)."""
    mantissa, exponent = match.group(1), int(next(group for group in match.groups()[1:] if group))
    if abs(exponent) > 60:
        return f"{mantissa}\\times 10^{{{exponent}}}"
    return format(Decimal(mantissa).scaleb(exponent).normalize(), "f")


def _repeating_decimal(match: re.Match[str]) -> str:
    """``0.1\\overline{6}`` -> ``\\frac{1}{6}``: the exact fraction a repeating decimal stands for."""
    sign, whole, fixed, period = match.groups()
    numerator = int(f"{whole or 0}{fixed}{period}") - int(f"{whole or 0}{fixed}")
    denominator = (10 ** len(period) - 1) * 10 ** len(fixed)
    return f"{sign}\\frac{{{numerator}}}{{{denominator}}}"


def choice_letter(answer: str | None) -> str | None:
    """The option letter when ``answer`` is a multiple-choice answer (``B``, ``(B)``, ``(b)``, ``B) 12``)."""
    if answer is None:
        return None
    text = _TEXT_COMMAND.sub(r"\1", answer).replace("\\ ", " ").strip()
    match = _CHOICE.match(text)
    if not match:
        return None
    return next(group for group in match.groups() if group).upper()


def text_answer(answer: str | None) -> str | None:
    """A word answer (``Monday``, ``\\text{yes}``) in lower case with single spaces, or None for a math answer.

    Words are compared as words: sympy would read ``listen`` and ``silent`` as the same product of six symbols.
    Names sympy knows (``pi``, ``sin``, ``infty``) and runs of one or two letters (``ab``) stay math.
    """
    if answer is None:
        return None
    words = re.sub(r"[\s,]+(?:and|or)?\s*", " ", answer).strip()
    words = words[1:-1].strip() if words.startswith("(") and words.endswith(")") else words
    if not re.fullmatch(r"[A-Za-z][A-Za-z' -]*", words):
        return None
    letters = [word for word in re.split(r"[\s-]+", words) if word]
    if all(len(word) <= 2 or word.lower() in _MATH_NAMES for word in letters):
        return None
    return " ".join(word.lower() for word in letters)


_MATH_NAMES = frozenset(
    re.findall(r"\w+", "pi sin cos tan cot sec csc log ln exp sqrt infty inf arcsin arccos arctan sinh cosh")
)
