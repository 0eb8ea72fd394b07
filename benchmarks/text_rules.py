"""Text rules benchmark: the ``rules`` stage of ``text_pretrain`` against datatrove's filters, in one run.

Both sides judge the same generated corpus of web-like documents (seeded; clean articles, pages with navigation,
cookie and share boilerplate, lists, teasers ending in ellipses, forum threads, tables, tag clouds, code, lorem
ipsum, keyword spam, pages with repeated lines or paragraphs, short snippets):

* ``ours``: the ``rules`` stage of :class:`~dataflow_assets.text.pretrain.TextPretrainPipeline` (a ``Sequential``
  of GopherQualityFilter, GopherRepetitionFilter, FineWebQualityFilter, C4LineCleanerRefiner and C4QualityFilter,
  consecutive row-local filters fused into one pass), ``.run([df])`` on a polars frame of ``_row_id`` and ``text``.
* ``ours_dataflow``: DataFlow's 19 pre-training rules (``operators/filter/dataflow/``, defaults) in one
  ``Sequential``: a second line of ours, with no datatrove counterpart.
* ``datatrove``: its ``GopherQualityFilter``, ``GopherRepetitionFilter``, ``FineWebQualityFilter`` and
  ``C4QualityFilter`` on the same documents as ``Document`` objects, ``filter(doc)`` called in the order of our
  stage, a document dropped by one filter not seen by the next (as its pipeline does), in one process.
  Parameters as ours: FineWeb's repeated-line threshold 0.1 (the paper's; datatrove's default is 0.01) and its
  punctuation ``. ' " ! ?`` (FineWeb's; the default is a wide Unicode set); C4's 3 sentences per page and 5 words
  per line (the paper's; datatrove's defaults are 5 and 3) and no long-word line rule (ours has none). Its
  English word and sentence splitter is its default, spaCy's blank English pipeline with the rule-based
  sentencizer: no model and no NLTK data to download.

Each run of each side is a fresh process, the sides interleaved over the repeats; ours runs with
``POLARS_MAX_THREADS=1`` (datatrove is single-threaded: CPU-seconds then compare the work, not a thread pool on a
busy machine). Timed: the filtering of the documents already in memory (reading the JSONL is timed apart and
reported); not timed: imports, building the filters and a warm-up of datatrove's tokenizer. Reported per side:
documents per CPU-second (user + sys; the median over the repeats), wall and CPU seconds, peak RSS, kept and
rejected documents per filter and per reason; the ratio ours/datatrove against the target of 20x; and the
agreement of ours and datatrove document by document (both keep, both drop, only one drops; the pairs of reasons
behind the disagreements, with example ids; whether the texts both keep are the same after C4's line cleaning).

The peers' venv is ``benchmarks/.peers/venv``, created by :func:`peers.peer_python` (``pip install datasketch
datatrove[processing] orjson``); this benchmark adds ``spacy`` to it, datatrove's English tokenizer. Only the
standard library is imported at the top: datatrove's worker runs this same file with the peers' interpreter.

Run: ``.venv/bin/python benchmarks/text_rules.py [--docs 20000] [--repeat 3]``; results go to
``benchmarks/results/text_rules.{json,md}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from peers import PROJECT_PYTHON, cpu_seconds, environment, peer_python, run_worker

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "text_rules"
SCRIPT = Path(__file__).resolve()
RESULTS = HERE / "results"
TARGET_SPEEDUP = 20.0
TOOLS = ("ours", "ours_dataflow", "datatrove")
LABELS = {
    "ours": "ours: `rules` stage (Gopher quality + repetition, FineWeb, C4 cleaner + C4)",
    "ours_dataflow": "ours: DataFlow's 19 rules, one Sequential",
    "datatrove": "datatrove: Gopher quality + repetition, FineWeb, C4",
}
PEER_EXTRA = "spacy"
"""datatrove's English word and sentence splitter (``SpaCyTokenizer("en")``, a blank pipeline: no model)."""

DATATROVE_PARAMETERS: dict[str, dict[str, Any]] = {
    "gopher_quality": {},  # its defaults are Gopher's thresholds, as ours
    "gopher_repetition": {},  # likewise (Table A1)
    "fineweb_quality": {"char_duplicates_ratio": 0.1, "stop_chars": (".", "'", '"', "!", "?")},
    "c4_quality": {"min_num_sentences": 3, "min_words_per_line": 5, "max_word_length": -1},
}
"""datatrove's filters in the order of our stage, with the arguments that make them follow our parameters."""
DIFFERENCES = (
    "Repeated lines, paragraphs and 5- to 10-grams (Gopher repetition): ours counts every copy of a repeated line "
    "or n-gram, the first included (the paper's 'all duplicate n-grams'), over the page's word characters; datatrove "
    "counts only the copies after the first, over the whole text's length (spaces and newlines included), and scans "
    "n-grams greedily. For a line or sentence that occurs twice ours measures about twice as much: a page of four "
    "lines with one call to action twice scores 0.5 in ours (over 0.3) and 0.25 in datatrove. This is most of 'only "
    "ours drops' (`gopher_dup_line_fraction`, `gopher_dup_{5..10}gram`): menus repeated at the foot of a page, a "
    "quote or a call to action pasted twice.",
    "Words containing a letter (Gopher quality, 80%): datatrove divides by all its spaCy tokens, punctuation tokens "
    "included ('.', ',', '*', quotation marks have no letter), although its word count leaves them out; ours counts "
    "whitespace-separated words, punctuation attached. Pages with much punctuation per word (lists with `*` "
    "bullets, short lines each with a period, dialogue) fall under 0.8 in datatrove only: most of 'only datatrove "
    "drops' (`gopher_below_alpha_threshold`).",
    "Bullets (Gopher quality, 90% of lines): datatrove knows only `•` and `-`; ours also `*`, `‣`, `◦`, `▪`, `●`, "
    "`○`, `■`, `□`, `➢`, so a list in `*` bullets is caught by ours only (`gopher_bullet_lines`).",
    'Words in general: datatrove\'s are spaCy tokens (punctuation split off, "doesn\'t" -> "does", "n\'t"), ours '
    'whitespace-separated; its stop words are matched case-sensitively ("The" is not "the"), ours not. This moves '
    "pages near the 50-word, stop-word and n-gram thresholds either way.",
    "FineWeb: datatrove rejects at a punctuated-line share < 0.12, a short-line share > 0.67 and a repeated-line "
    "share > 0.1, ours at the published <= 0.12, >= 0.67 and >= 0.1; C4: datatrove also takes `'` as terminal "
    "punctuation, and counts sentences with spaCy's sentencizer where ours counts end marks. These rarely decide a "
    "page here; the cleaned texts of the pages both keep are compared above.",
)
"""The definitions behind the disagreements (see each filter's docstring), found by reading the examples."""

# --- the corpus ---


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOUNS = _words(
    "river valley city market water light stone bridge garden winter summer harvest village school letter road "
    "engine forest island mountain station library museum kitchen window morning evening history science music "
    "farmer teacher doctor sailor painter builder student traveller merchant neighbour family council child "
    "company report budget meeting project system network device battery screen camera signal pattern method "
    "problem answer question result study theory model sample table figure chapter story novel poem song film "
    "recipe flavour bread cheese coffee garden tomato pepper onion butter sauce oven plate season weather storm "
    "coast harbour ship cargo price customer service product market office worker manager team player coach game "
    "season match league trophy record crowd stadium ticket hotel beach trail cabin lake cloud planet star moon"
)
VERBS = (
    ("carry", "carries", "carried"),
    ("build", "builds", "built"),
    ("open", "opens", "opened"),
    ("follow", "follows", "followed"),
    ("change", "changes", "changed"),
    ("explain", "explains", "explained"),
    ("describe", "describes", "described"),
    ("measure", "measures", "measured"),
    ("protect", "protects", "protected"),
    ("cross", "crosses", "crossed"),
    ("watch", "watches", "watched"),
    ("find", "finds", "found"),
    ("need", "needs", "needed"),
    ("improve", "improves", "improved"),
    ("support", "supports", "supported"),
    ("replace", "replaces", "replaced"),
    ("reach", "reaches", "reached"),
    ("share", "shares", "shared"),
    ("test", "tests", "tested"),
    ("review", "reviews", "reviewed"),
    ("choose", "chooses", "chose"),
    ("keep", "keeps", "kept"),
    ("move", "moves", "moved"),
    ("serve", "serves", "served"),
)
ADJECTIVES = _words(
    "old new small large quiet busy bright dark cold warm heavy narrow ancient modern local distant simple "
    "careful strong early late common rare useful famous popular fresh private public central northern southern"
)
ADVERBS = _words("quickly slowly carefully often rarely always early later together again nearly clearly finally")
PREPOSITIONS = _words("in on near under behind across beyond through after before from during")
DETERMINERS = _words("the the the the a a this that every each another our their its")
NAV = _words("Home About Contact Blog Shop News Services Products FAQ Login Register Search Categories Archive")
BOILERPLATE = (
    "Copyright © {year} {site}. All rights reserved.",
    "Privacy Policy | Terms of Use | Cookie Policy",
    "This website uses cookies to ensure you get the best experience on our website.",
    "We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.",
    "Please enable JavaScript in your browser to view the comments.",
    "Share this: Facebook, Twitter, Email",
    "Posted in {category} | {count} Comments",
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "Subscribe to our newsletter",
    "Tags: {category}, {noun}, {noun}",
    "Skip to content",
)
KINDS = {
    "article": 38,
    "web_page": 20,
    "list_page": 8,
    "short": 8,
    "repeated": 6,
    "forum": 4,
    "teasers": 3,
    "code": 3,
    "keyword_spam": 3,
    "table": 2,
    "hashtags": 2,
    "long_article": 2,
    "lorem_ipsum": 1,
}
"""Document kinds and their weights: mostly prose, and every kind of page the filters exist for."""
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo "
    "consequat."
)


def generate_corpus(path: Path, docs: int, seed: int) -> dict[str, int]:
    """Write ``docs`` documents as JSONL (``id``, ``kind``, ``text``); return how many of each kind."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=docs)
    with path.open("w", encoding="utf-8") as out:
        for doc_id, kind in enumerate(kinds):
            out.write(json.dumps({"id": doc_id, "kind": kind, "text": getattr(writer, kind)()}) + "\n")
    return dict(Counter(kinds).most_common())


class _Writer:
    """English-like prose from a small grammar, and the web pages built around it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        syllables = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
        self.names = ["".join(rng.choices(syllables, k=rng.randint(2, 3))).capitalize() for _ in range(400)]

    # -- prose --

    def noun_phrase(self) -> str:
        words = [self.rng.choice(DETERMINERS)]
        if self.rng.random() < 0.4:
            words.append(self.rng.choice(ADJECTIVES))
        words.append(self.rng.choice(NOUNS))
        if self.rng.random() < 0.2:
            words += ["of", "the", self.rng.choice(NOUNS)]
        if words[0] == "a" and words[1][0] in "aeiou":
            words[0] = "an"
        return " ".join(words)

    def clause(self) -> str:
        base, third, past = self.rng.choice(VERBS)
        subject, thing, r = self.noun_phrase(), self.noun_phrase(), self.rng.random()
        if r < 0.3:
            words = [subject, third, thing]
        elif r < 0.5:
            words = [subject, past, thing, self.rng.choice(ADVERBS)]
        elif r < 0.6:
            words = [subject, "has", "to", base, thing]
        elif r < 0.7:
            words = [self.rng.choice(self.names), "said", "that", subject, "would", base, thing]
        elif r < 0.8:
            words = [subject, "doesn't", base, thing, "with", self.noun_phrase()]
        elif r < 0.9:
            words = ["it", "is", "hard", "to", base, thing, "and", "be", self.rng.choice(ADJECTIVES)]
        else:
            words = ["there", "were", str(self.rng.randint(2, 2000)), _plural(self.rng.choice(NOUNS)), "in", thing]
        if self.rng.random() < 0.35:
            words += [self.rng.choice(PREPOSITIONS), self.noun_phrase()]
        return " ".join(words)

    def sentence(self) -> str:
        r = self.rng.random()
        text = self.clause()
        if r < 0.25:
            text += ", " + self.rng.choice(("and", "but", "while", "because", "so that")) + " " + self.clause()
        text = text[0].upper() + text[1:]
        if r > 0.95:
            return f'"{text}," {self.rng.choice(self.names)} said.'
        return text + self.rng.choice("........?!")

    def paragraph(self, low: int = 2, high: int = 6, citations: bool = False) -> str:
        sentences = [self.sentence() for _ in range(self.rng.randint(low, high))]
        if citations:
            sentences = [s + f"[{self.rng.randint(1, 40)}]" if self.rng.random() < 0.15 else s for s in sentences]
        return " ".join(sentences)

    def title(self) -> str:
        words = [self.rng.choice(ADJECTIVES), self.rng.choice(NOUNS), "and", "the", self.rng.choice(NOUNS)]
        return " ".join(w.capitalize() for w in words[: self.rng.randint(2, 5)])

    def prose(self, low: int, high: int) -> str:
        """Paragraphs, one per line, separated by blank lines or not (both occur in extracted web text)."""
        citations = self.rng.random() < 0.2
        separator = self.rng.choice(("\n\n", "\n"))
        return separator.join(self.paragraph(citations=citations) for _ in range(self.rng.randint(low, high)))

    # -- the kinds of document --

    def article(self) -> str:
        body = self.prose(2, 9)
        return self.title() + "\n\n" + body if self.rng.random() < 0.6 else body

    def long_article(self) -> str:
        return self.title() + "\n\n" + self.prose(30, 60)

    def short(self) -> str:
        if self.rng.random() < 0.5:
            return self.title() + "\n" + self.sentence()
        return " ".join(self.sentence() for _ in range(self.rng.randint(1, 3)))

    def web_page(self) -> str:
        site, nav = self.rng.choice(self.names) + ".com", " | ".join(self.rng.sample(NAV, self.rng.randint(4, 8)))
        top = [nav] if self.rng.random() < 0.5 else nav.split(" | ")
        footer = [self.boilerplate(line, site) for line in self.rng.sample(BOILERPLATE, self.rng.randint(3, 8))]
        related = ["Related Posts", *(self.title() for _ in range(self.rng.randint(0, 5)))]
        bottom = top if self.rng.random() < 0.3 else []  # the menu again at the foot of the page
        return "\n".join([*top, self.title(), self.prose(1, 6), *related, *footer, *bottom])

    def boilerplate(self, line: str, site: str) -> str:
        return line.format(
            year=self.rng.randint(2005, 2024),
            site=site,
            category=self.rng.choice(NOUNS).capitalize(),
            count=self.rng.randint(0, 40),
            noun=self.rng.choice(NOUNS),
        )

    def list_page(self) -> str:
        bullet = self.rng.choice(("- ", "• ", "* ", "· ", ""))
        items = [self.item() for _ in range(self.rng.randint(6, 40))]
        lines = [self.title(), self.sentence(), *(bullet + item for item in items)]
        if self.rng.random() < 0.5:
            lines.append(self.paragraph())
        return "\n".join(lines)

    def item(self) -> str:
        if self.rng.random() < 0.3:
            return self.sentence()
        return " ".join([self.rng.choice(ADJECTIVES), self.rng.choice(NOUNS)][: self.rng.randint(1, 2)]).capitalize()

    def repeated(self) -> str:
        paragraphs = [self.paragraph() for _ in range(self.rng.randint(2, 6))]
        r = self.rng.random()
        if r < 0.4:  # a paragraph pasted several times
            paragraphs += [self.rng.choice(paragraphs)] * self.rng.randint(1, 4)
            self.rng.shuffle(paragraphs)
        elif r < 0.7:  # a call to action after every paragraph
            cta = self.rng.choice(("Click here to subscribe!", "Call us today for a free quote.", "Read more"))
            paragraphs = [p + "\n" + cta for p in paragraphs]
        else:  # a sentence that keeps coming back
            sentence = self.sentence()
            paragraphs = [p + " " + sentence for p in paragraphs]
        return "\n\n".join(paragraphs)

    def forum(self) -> str:
        lines = [self.title()]
        for _ in range(self.rng.randint(2, 8)):
            user = self.rng.choice(self.names).lower() + str(self.rng.randint(1, 999))
            month = self.rng.choice(("March", "June", "October"))
            day = f"{month} {self.rng.randint(1, 28)}, {self.rng.randint(2010, 2024)}"
            comment = self.rng.choice((self.paragraph(1, 3), "Thanks!", "Great post.", "Same here", "+1"))
            lines += [f"Posted by {user} on {day}", comment, "Reply", "Quote"]
        return "\n".join(lines)

    def teasers(self) -> str:
        lines = ["Latest News"]
        for _ in range(self.rng.randint(3, 12)):
            teaser = self.paragraph(1, 2)
            lines += [
                self.title(),
                teaser[: self.rng.randint(40, max(41, len(teaser) - 1))].rstrip() + "...",
                "Read more",
            ]
        return "\n".join(lines)

    def code(self) -> str:
        name = self.rng.choice(NOUNS)
        block = [f"function update_{name}(value) {{", f"  var {name} = value * 2;", f"  return {name};", "}"]
        return "\n\n".join([self.title(), self.prose(1, 3), "\n".join(block), self.paragraph()])

    def keyword_spam(self) -> str:
        product = self.rng.choice(NOUNS)
        phrases = [f"cheap {product}", f"buy {product} online", f"best {product} price", f"{product} sale"]
        spam = " ".join(self.rng.choice(phrases) for _ in range(self.rng.randint(20, 80)))
        return self.title() + "\n" + self.paragraph(1, 2) + "\n" + spam

    def table(self) -> str:
        header = " ".join(w.capitalize() for w in ("year", *self.rng.sample(NOUNS, 4)))
        rows = [
            " ".join([str(self.rng.randint(1990, 2024)), *(str(self.rng.randint(0, 999)) for _ in range(4))])
            for _ in range(self.rng.randint(8, 30))
        ]
        return "\n".join([self.sentence(), header, *rows])

    def hashtags(self) -> str:
        tags = " ".join("#" + self.rng.choice(NOUNS + ADJECTIVES) for _ in range(self.rng.randint(15, 60)))
        return self.sentence() + "\n" + tags

    def lorem_ipsum(self) -> str:
        return "\n\n".join([self.title(), LOREM, self.prose(1, 4)])


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "sh", "ch", "x")) else "s")


# --- the workers: one side, one process ---


class Worker(NamedTuple):
    load: Callable[[], Any]
    """The corpus in memory, as the side takes it (timed apart)."""
    run: Callable[[Any], Any]
    """The filtering (timed)."""
    decisions: Callable[[Any], dict[str, Any]]
    """Per document: ``rejected`` id -> [filter, reason], or ``kept`` id -> digest of its (cleaned) text."""


def work_ours(corpus: Path, tool: str) -> Worker:
    import polars as pl

    from operators import Filter, Sequential
    from operators.columns import REJECT_RULE, ROW_ID

    if tool == "ours":
        from dataflow_assets.text.pretrain import TextPretrainPipeline

        stage = TextPretrainPipeline().trace().nodes["rules"].step
    else:
        import operators.text.filter.dataflow as dataflow

        stage = Sequential(*(getattr(dataflow, name)() for name in dataflow.RELEASE_RULES))
    owner = {reason: step.op.name for step in stage.steps if isinstance(step.op, Filter) for reason in step.op.rules()}

    def load() -> pl.DataFrame:
        return pl.read_ndjson(corpus).select(pl.col("id").cast(pl.String).alias(ROW_ID), "text")

    def decisions(result: Any) -> dict[str, Any]:
        rejected = result.rejected.select(ROW_ID, REJECT_RULE).rows()
        return {
            "rejected": {doc_id: [owner[reason], reason] for doc_id, reason in rejected},
            "kept": {doc_id: _digest(text) for doc_id, text in result.kept.select(ROW_ID, "text").rows()},
        }

    return Worker(load, lambda df: stage.run([df]), decisions)


def work_datatrove(corpus: Path, tool: str) -> Worker:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.filters.base_filter import get_filter_result
    from datatrove.utils.text import split_into_sentences, split_into_words

    classes = {
        "gopher_quality": GopherQualityFilter,
        "gopher_repetition": GopherRepetitionFilter,
        "fineweb_quality": FineWebQualityFilter,
        "c4_quality": C4QualityFilter,
    }
    chain = [(name, classes[name](**arguments)) for name, arguments in DATATROVE_PARAMETERS.items()]
    split_into_words("Loads the tokenizer.")  # spaCy's import and blank pipeline: setup, not timed
    split_into_sentences("Loads the sentencizer. It is part of the pipeline.")

    def load() -> list[Document]:
        with corpus.open(encoding="utf-8") as lines:
            return [Document(text=r["text"], id=str(r["id"])) for r in map(json.loads, lines)]

    def run(docs: list[Document]) -> tuple[list[Document], dict[str, list[str]]]:
        rejected: dict[str, list[str]] = {}
        for doc in docs:
            for name, step in chain:  # as its pipeline: a dropped document goes no further
                keep, reason = get_filter_result(step.filter(doc))
                if not keep:
                    rejected[doc.id] = [name, reason or name]
                    break
        return docs, rejected

    def decisions(result: tuple[list[Document], dict[str, list[str]]]) -> dict[str, Any]:
        docs, rejected = result
        return {"rejected": rejected, "kept": {d.id: _digest(d.text) for d in docs if d.id not in rejected}}

    return Worker(load, run, decisions)


WORKERS: dict[str, Callable[[Path, str], Worker]] = {
    "ours": work_ours,
    "ours_dataflow": work_ours,
    "datatrove": work_datatrove,
}


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def measure(tool: str, corpus: Path, result: Path) -> None:
    """Run one side once in this process; write its timings and decisions to ``result``."""
    worker = WORKERS[tool](corpus, tool)  # imports and setup: not timed
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    data = worker.load()
    read_cpu_s, read_wall_s = cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    output = worker.run(data)
    cpu_s, wall_s = cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "tool": tool,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "read_wall_s": read_wall_s,
        "read_cpu_s": read_cpu_s,
        "peak_rss_mib": peak_mib,
        **worker.decisions(output),
    }
    result.write_text(json.dumps(report))


# --- the parent: repeats, agreement, report ---


def summarize(runs: list[dict[str, Any]], docs: int) -> dict[str, dict[str, Any]]:
    """Per side: median timings over the repeats, and the rejections by filter and by reason, which must be the
    same in every repeat."""
    summary = {}
    for tool in TOOLS:
        mine = [r for r in runs if r["tool"] == tool]
        if len({json.dumps([r["rejected"], r["kept"]], sort_keys=True) for r in mine}) != 1:
            raise SystemExit(f"{tool} decided differently in different runs")
        timings = ("wall_s", "cpu_s", "read_wall_s", "read_cpu_s", "peak_rss_mib")
        figures: dict[str, Any] = {key: statistics.median(r[key] for r in mine) for key in timings}
        figures["docs_per_cpu_s"] = docs / figures["cpu_s"]
        figures["docs_per_wall_s"] = docs / figures["wall_s"]
        figures["cpu_s_runs"] = [r["cpu_s"] for r in mine]
        rejected = mine[0]["rejected"].values()
        figures["kept"] = len(mine[0]["kept"])
        figures["rejected"] = len(mine[0]["rejected"])
        figures["rejected_by_filter"] = dict(Counter(f for f, _ in rejected).most_common())
        figures["rejected_by_reason"] = dict(Counter(r for _, r in rejected).most_common())
        summary[tool] = figures
    return summary


def agreement(ours: dict[str, Any], peer: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """Document by document: who keeps what, the reason pairs behind disagreements, agreement per kind."""
    ids = kinds.keys()
    our_reason = {i: ours["rejected"][i][1] if i in ours["rejected"] else "kept" for i in ids}
    peer_reason = {i: peer["rejected"][i][1] if i in peer["rejected"] else "kept" for i in ids}
    both_keep = [i for i in ids if our_reason[i] == peer_reason[i] == "kept"]
    disagree = [i for i in ids if (our_reason[i] == "kept") != (peer_reason[i] == "kept")]
    pairs: dict[tuple[str, str], list[str]] = {}
    for i in disagree:
        pairs.setdefault((our_reason[i], peer_reason[i]), []).append(i)
    by_kind: dict[str, dict[str, int]] = {}
    for i, kind in kinds.items():
        tally = by_kind.setdefault(kind, Counter())
        tally["docs"] += 1
        tally["ours_kept"] += our_reason[i] == "kept"
        tally["datatrove_kept"] += peer_reason[i] == "kept"
        tally["disagree"] += (our_reason[i] == "kept") != (peer_reason[i] == "kept")
    return {
        "both_keep": len(both_keep),
        "both_drop": sum(our_reason[i] != "kept" and peer_reason[i] != "kept" for i in ids),
        "only_datatrove_drops": sum(our_reason[i] == "kept" and peer_reason[i] != "kept" for i in ids),
        "only_ours_drops": sum(our_reason[i] != "kept" and peer_reason[i] == "kept" for i in ids),
        "both_keep_same_text": sum(ours["kept"][i] == peer["kept"][i] for i in both_keep),
        "disagreement_pairs": [
            {"ours": pair[0], "datatrove": pair[1], "docs": len(members), "examples": members[:3]}
            for pair, members in sorted(pairs.items(), key=lambda item: -len(item[1]))
        ],
        "by_kind": {kind: dict(tally) for kind, tally in sorted(by_kind.items(), key=lambda kv: -kv[1]["docs"])},
    }


def verdicts(summary: dict[str, dict[str, Any]]) -> dict[str, Any]:
    base = summary["datatrove"]
    speedup = summary["ours"]["docs_per_cpu_s"] / base["docs_per_cpu_s"]
    return {
        "ours/datatrove docs per CPU-s": speedup,
        "ours/datatrove docs per wall-s": summary["ours"]["docs_per_wall_s"] / base["docs_per_wall_s"],
        "ours_dataflow/datatrove docs per CPU-s": summary["ours_dataflow"]["docs_per_cpu_s"] / base["docs_per_cpu_s"],
        f"ours >= {TARGET_SPEEDUP:g}x datatrove": "PASS" if speedup >= TARGET_SPEEDUP else "MISS",
    }


def corpus_kinds(corpus: Path) -> dict[str, str]:
    with corpus.open(encoding="utf-8") as lines:
        return {str(r["id"]): r["kind"] for r in map(json.loads, lines)}


def markdown(report: dict[str, Any]) -> str:
    params, env, summary, agree = report["parameters"], report["environment"], report["summary"], report["agreement"]
    lines = [
        "# Text rules benchmark: the `rules` stage against datatrove",
        "",
        f"{params['docs']:,} generated web-like documents (seed {params['seed']}, {params['corpus_mib']:.1f} MiB "
        f"JSONL, {params['mean_words']:.0f} words on average), the same file for every side. Median of "
        f"{params['repeat']} runs, each side in a fresh process, one thread each (ours with "
        "`POLARS_MAX_THREADS=1`); timed: the filtering of documents already in memory; CPU = user + sys.",
        "",
        "| side | docs / CPU-s | CPU s | wall s | read s (not in CPU s) | peak RSS MiB | kept | rejected |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        f = summary[tool]
        lines.append(
            f"| {LABELS[tool]} | {f['docs_per_cpu_s']:,.0f} | {f['cpu_s']:.2f} | {f['wall_s']:.2f} "
            f"| {f['read_wall_s']:.2f} | {f['peak_rss_mib']:.0f} | {f['kept']:,} | {f['rejected']:,} |"
        )
    arguments = "; ".join(
        f"`{name}` " + (", ".join(f"{k}={v!r}" for k, v in given.items()) or "defaults")
        for name, given in params["datatrove_filters"].items()
    )
    lines += [
        "",
        f"datatrove's arguments, set to our parameters: {arguments}. Its tokenizer: {params['datatrove_tokenizer']}.",
        "",
        f"Target: ours >= {TARGET_SPEEDUP:g}x datatrove in documents per CPU-second.",
        "",
    ]
    for name, value in report["verdicts"].items():
        lines.append(f"- {name}: **{value:.1f}x**" if isinstance(value, float) else f"- {name}: **{value}**")
    lines += _rejections(summary) + _agreement(agree, params["docs"]) + _notes()
    peers = ", ".join(f"{name} {version}" for name, version in env["peers"].items())
    ours = ", ".join(f"{name} {version}" for name, version in env["ours"].items())
    lines += [
        "",
        f"Python {env['python']}; ours: {ours}; peers' venv: {peers}; {env['nproc']} CPUs ({env['cpu_model']}), "
        f"load average {env['load_average_1_5_15_min'][0]:.1f} at the start; {env['date']}.",
        "",
        f"Re-run: `.venv/bin/python benchmarks/text_rules.py --docs {params['docs']} --repeat {params['repeat']}`",
        "",
    ]
    return "\n".join(lines)


def _rejections(summary: dict[str, dict[str, Any]]) -> list[str]:
    ours, peer = summary["ours"], summary["datatrove"]
    lines = [
        "",
        "## Rejections by filter",
        "",
        "The first filter that rejects a document; both sides apply them in the stage's order (Gopher quality, Gopher "
        "repetition, FineWeb, then C4 on the cleaned lines).",
        "",
        "| filter | ours | datatrove |",
        "|---|---:|---:|",
    ]
    for name in DATATROVE_PARAMETERS:
        lines.append(
            f"| {name} | {ours['rejected_by_filter'].get(name, 0):,} | {peer['rejected_by_filter'].get(name, 0):,} |"
        )
    lines.append(f"| kept | {ours['kept']:,} | {peer['kept']:,} |")
    for tool in ("ours", "datatrove", "ours_dataflow"):
        reasons = ", ".join(f"{r} {n:,}" for r, n in summary[tool]["rejected_by_reason"].items())
        lines += ["", f"By reason, {LABELS[tool]}: {reasons}."]
    return lines


def _agreement(agree: dict[str, Any], docs: int) -> list[str]:
    lines = [
        "",
        "## Agreement, ours (`rules` stage) and datatrove",
        "",
        f"- both keep: {agree['both_keep']:,} (of which {agree['both_keep_same_text']:,} with the same text after "
        "C4's line cleaning)",
        f"- both drop: {agree['both_drop']:,}",
        f"- only datatrove drops: {agree['only_datatrove_drops']:,}",
        f"- only ours drops: {agree['only_ours_drops']:,}",
        f"- agreement: {(agree['both_keep'] + agree['both_drop']) / docs:.1%} of documents",
        "",
        "| kind of document | docs | ours keeps | datatrove keeps | disagree |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, t in agree["by_kind"].items():
        lines.append(f"| {kind} | {t['docs']:,} | {t['ours_kept']:,} | {t['datatrove_kept']:,} | {t['disagree']:,} |")
    lines += [
        "",
        "Disagreements by (our reason, datatrove's reason), the most frequent first; examples are corpus ids:",
        "",
        "| ours | datatrove | docs | examples |",
        "|---|---|---:|---|",
    ]
    for pair in agree["disagreement_pairs"][:15]:
        lines.append(f"| {pair['ours']} | {pair['datatrove']} | {pair['docs']:,} | {', '.join(pair['examples'])} |")
    return lines


def _notes() -> list[str]:
    return ["", "## Why they disagree", "", *(f"- {note}" for note in DIFFERENCES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000, help="documents to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the median is reported")
    parser.add_argument("--seed", type=int, default=1, help="seed of the corpus generator")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        measure(args.worker, args.corpus, args.result)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    python = peer_python(PEER_EXTRA)
    env = environment(python, ours=("polars", "pydantic"), peers=("datatrove", "spacy", "nltk", "numpy", "regex"))
    corpus = WORK / f"corpus-{args.docs}-{args.seed}.jsonl"
    kind_counts = generate_corpus(corpus, args.docs, args.seed)
    kinds = corpus_kinds(corpus)
    runs = []
    for repeat in range(args.repeat):
        for tool in TOOLS:  # interleaved, so that a busy spell on the machine hits every side alike
            runs.append(run_worker(SCRIPT, WORK, tool, corpus, python if tool == "datatrove" else PROJECT_PYTHON))
            print(f"run {repeat + 1}/{args.repeat} {tool}: {runs[-1]['cpu_s']:.2f} CPU s", file=sys.stderr)
    summary = summarize(runs, args.docs)
    first = {tool: next(r for r in runs if r["tool"] == tool) for tool in TOOLS}
    report = {
        "parameters": {
            "docs": args.docs,
            "repeat": args.repeat,
            "seed": args.seed,
            "corpus_mib": corpus.stat().st_size / 2**20,
            "mean_words": _mean_words(corpus),
            "kinds": kind_counts,
            "target_speedup": TARGET_SPEEDUP,
            "datatrove_filters": DATATROVE_PARAMETERS,
            "datatrove_tokenizer": "SpaCyTokenizer('en') (its English default: spacy.blank('en') + sentencizer)",
            "polars_max_threads": 1,
        },
        "environment": env,
        "summary": summary,
        "verdicts": verdicts(summary),
        "agreement": agreement(first["ours"], first["datatrove"], kinds),
        "runs": [{k: v for k, v in r.items() if k not in ("rejected", "kept")} for r in runs],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "text_rules.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "text_rules.md").write_text(markdown(report))
    print(markdown(report))


def _mean_words(corpus: Path) -> float:
    with corpus.open(encoding="utf-8") as lines:
        return statistics.fmean(len(json.loads(line)["text"].split()) for line in lines)


if __name__ == "__main__":
    main()
