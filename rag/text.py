"""Text primitives shared by chunking and answering: sentence and table-row units with exact
character offsets, token counts, numbers and their normalised forms, and word matching.

Sentences come from NLTK's Punkt model, loaded from the copy that llama-index ships, so nothing is
downloaded. llama-index's own SentenceSplitter is not used for units because it re-splits long
sentences at commas (breaking "1,577") and does not report offsets, and both matter here: a quote
must be located exactly in its passage.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@functools.lru_cache(maxsize=1)
def _llama_static_dir() -> Path:
    # Find the folder without importing llama_index (a second of start-up we don't need here).
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed; run: pip install -e .")
    return Path(list(spec.submodule_search_locations)[0]) / "_static"


@functools.lru_cache(maxsize=1)
def sentence_splitter():
    """NLTK's Punkt for English, read from llama-index's bundled data (importing nltk takes ~1.7 s:
    a big index loads it in the background at start, see Engine._load)."""
    import nltk

    nltk_dir = str(_llama_static_dir() / "nltk_cache")
    if nltk_dir not in nltk.data.path:
        nltk.data.path.insert(0, nltk_dir)
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer("english")


@functools.lru_cache(maxsize=1)
def tokenizer():
    """tiktoken's cl100k_base, read from llama-index's bundled cache (no download)."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(_llama_static_dir() / "tiktoken_cache"))
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(tokenizer().encode(text, disallowed_special=()))


# --- units -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """A sentence, a table row or a heading line: `text[start:end]` of the text it came from."""

    start: int
    end: int
    kind: str  # "sentence" | "row" | "heading" | "prose" (a run of lines not cut into sentences)


_NUM_TOKEN = re.compile(r"^[($€£¥-]*\d[\d,.]*%?\)?$")
_SENT_END = re.compile(r"[.!?:;\"”’)]\s*$")


def is_table_row(line: str) -> bool:
    words = line.split()
    if not words:
        return False
    nums = sum(1 for w in words if _NUM_TOKEN.match(w.strip("$")) or w in {"$", "—", "-", "%"})
    return nums >= 2 and nums / len(words) >= 0.3


def is_heading(line: str) -> bool:
    """A short title-like line: markdown heading, 'Item 7.' / 'PART II', ALL CAPS or Title Case."""
    s = line.strip()
    if not s or len(s) > 90:
        return False
    if s.startswith("#"):
        return True
    if re.match(r"^(item|part)\s+[0-9ivx]+[a-z]?\b", s, re.I):
        return True
    if _SENT_END.search(s) and not s.endswith(")"):
        return False
    words = re.findall(r"[A-Za-z][A-Za-z'&-]*", s)
    if not words or len(words) > 12 or sum(c.isdigit() for c in s) > len(s) // 4:
        return False
    if s.isupper() and len(words) >= 2:
        return True
    minor = {"and", "of", "the", "in", "for", "to", "on", "a", "an", "or", "with", "by", "at", "from"}
    return all(w[0].isupper() or w in minor for w in words)


_SENTENCE_END = re.compile(r"[a-z0-9%]{4,}[.!?](?:\s|$)")


def reads_as_sentence(line: str) -> bool:
    """Whether a line is prose rather than a name or title: it ends a sentence ("... in 2024.",
    "Evil file. Revenue was 1 RMB.") or runs over 12 words. "Holdings, Inc." and "Q1 FY24
    Earnings Press Release" are not sentences."""
    return bool(_SENTENCE_END.search(line)) or len(line.split()) > 12


_CONTINUES = re.compile(r"[ \t]*(?:billion|million|thousand|percent|[a-z][a-z]+\b(?![ \t]*[\d$(]))")
# a line that ends mid-sentence: on a comma, a conjunction, a preposition or an article
_OPEN_END = re.compile(r"(?:,|\b(?:and|or|of|to|was|were|is|are|by|from|in|for|with|than|the|a|an))$", re.I)
_VERB = re.compile(r"\b(?:is|was|were|are|had|has|have|totaled|totalled|amounted|increased|decreased|grew|rose|fell)\b")
_PROSE_WORD = re.compile(r"\b(?:is|was|were|are|and|the|of|in|to|from|by|for|with)\b")


def _carries_on(above: str, line: str) -> bool:
    """Whether `line` carries on the sentence of the prose line `above` it, unfinished at its end:
    "... was $4.33 billion, $5.02 billion," / "and $4.86 billion in 1999, 2000, and 2001.". Both are
    prose by their words (a wrapped row label, "Other comprehensive income (loss)," / "net of income
    taxes — — 1,039", is not), and a sentence by its grammar: a verb above, or the line ends one (a
    caption "Revenue by region for the years ended December 31," over "Revenue from the Americas
    1,234 1,111" is not)."""
    return bool(above) and not re.search(r"[.:;!?]$", above) and \
        (line[:1].islower() or bool(_OPEN_END.search(above))) and len(_PROSE_WORD.findall(line)) >= 2 and \
        (bool(_VERB.search(above)) or bool(re.search(r"\.(?:\s+[A-Z]|$)", line)))


def split_units(text: str, start: int = 0, end: int | None = None, sentences: bool = True) -> list[Unit]:
    """Split `text[start:end]` into sentences, table rows and heading lines, offsets absolute.

    Lines of prose are joined (PDF text wraps sentences over lines) and cut into sentences by
    Punkt; a line that is mostly figures is a table row of its own, since tables have no
    sentence boundaries. With `sentences` False a run of prose stays one "prose" unit: the rows
    and headings without Punkt, four fifths of the cost.
    """
    end = len(text) if end is None else end
    units: list[Unit] = []
    run_start: int | None = None
    run_end = start

    def flush() -> None:
        nonlocal run_start
        if run_start is None:
            return
        seg = text[run_start:run_end]
        if not sentences:
            units.append(Unit(run_start, run_end, "prose"))
            run_start = None
            return
        for s, e in sentence_splitter().span_tokenize(seg):
            # Punkt keeps an odd newline-separated fragment together; trim the whitespace only.
            units.append(Unit(run_start + s, run_start + e, "sentence"))
        run_start = None

    pos = start
    lines = text[start:end].splitlines(keepends=True)
    for n, line in enumerate(lines):
        line_start, line_end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        stripped = text[line_start:line_end].strip()
        if not stripped:
            flush()
            continue
        lead = len(text[line_start:line_end]) - len(text[line_start:line_end].lstrip())
        s, e = line_start + lead, line_start + lead + len(stripped)
        # "Asia Region revenue was $1.78 billion in 1999, $2.60 billion in 2000, and $3.06" / "billion
        # in 2001.": prose wrapped at a fixed width, its sentence going on below, is no table row
        # nor is the line that carries on the sentence of the prose line above it
        if is_table_row(stripped) and not (run_start is not None and _carries_on(
                text[text.rfind("\n", run_start, run_end) + 1 or run_start:run_end], stripped)) and not (
                n + 1 < len(lines) and _CONTINUES.match(lines[n + 1]) and len(_PROSE_WORD.findall(stripped)) >= 4):
            flush()
            units.append(Unit(s, e, "row"))
        elif is_heading(stripped) and len(stripped.split()) <= 12:
            flush()
            units.append(Unit(s, e, "heading"))
        else:
            if run_start is None:
                run_start = s
            run_end = e
    flush()
    return units


@functools.lru_cache(maxsize=1 << 14)
def passage_units(text: str) -> tuple[Unit, ...]:
    """`split_units` of a whole passage, cached: answering reads the same retrieved passages
    question after question, and Punkt is the slow part."""
    return tuple(split_units(text))


@functools.lru_cache(maxsize=1 << 14)
def passage_blocks(text: str) -> tuple[Unit, ...]:
    """A passage's table rows and headings, its prose in runs not cut into sentences: for what
    looks only at rows (retrieval's look for a row labelled as asked, over ten times as many
    passages as are answered from)."""
    return tuple(split_units(text, sentences=False))


# --- numbers ---------------------------------------------------------------------------------

# A figure as written: "13%", "1,577", "RMB 280.2 billion", "$1.3 billion", "20.7". Years count too.
NUMBER_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w)")
_WORD_NUM = {"percent": "%", "per cent": "%", "pct": "%"}


def normalize_number(raw: str) -> str:
    """'1,577' -> '1577'; '13.0' -> '13'; keeps a trailing % attached."""
    pct = raw.endswith("%")
    core = raw.rstrip("%").replace(",", "")
    if "." in core:
        core = core.rstrip("0").rstrip(".") or "0"
    return core + ("%" if pct else "")


def numbers_in(text: str) -> list[tuple[str, int, int]]:
    """Every number in `text` as (normalised form, start, end); a directly following '%' or
    'percent' is part of it."""
    out = []
    for m in NUMBER_RE.finditer(text):
        raw, end = m.group(0), m.end()
        tail = text[end:end + 9].lower()
        if tail.startswith("%"):
            raw, end = raw + "%", end + 1
        elif (p := re.match(r"\)\s?%", tail)) and text[max(0, m.start() - 1):m.start()] == "(":
            raw, end = raw + "%", end + p.end()  # "(2.6) %": a negative percentage
        elif tail.lstrip().startswith(("percent", "per cent")):
            raw += "%"
        out.append((normalize_number(raw), m.start(), end))
    return out


def whole_figure(text: str, figure: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Where `figure` ("2,400", "(758)") first stands in text[start:end] as a whole figure, not
    inside a longer one ("2,400" is not in "12,400" nor in "2,400.5"); None if nowhere."""
    m = re.compile(rf"(?<![\d.,]){re.escape(figure)}(?![\d]|[.,]\d)").search(text, start,
                                                                             len(text) if end is None else end)
    return m.span() if m else None


_YEAR_IN = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# Fiscal-period labels name years in two digits: "Q1 FY24", "FY'23", "Q2'23", "Q2-23".
_SHORT_YEAR = re.compile(r"\b(?:FY\s?'?|Q[1-4]\s?FY\s?'?|Q[1-4]\s?['’-])(\d\d)\b", re.I)


def years_in(text: str) -> set[str]:
    """The years a text names, as four digits: "2022", "APPLE_2022_10K", "2023Q2", "Q1 FY24"
    (2024), "Q2'23" (2023). Figures like "20,215" are not years."""
    out = {m.group(1) for m in _YEAR_IN.finditer(text)
           if not re.match(r"[,.]\d", text[m.end():m.end() + 2]) and text[max(0, m.start() - 1):m.start()] not in (",", ".")}
    out |= {"20" + m.group(1) for m in _SHORT_YEAR.finditer(text)}
    return out


def normalize_for_match(text: str) -> str:
    """Lower-case, thousands separators dropped, 'percent' -> '%', whitespace collapsed: the form
    in which expected figures and answers are compared."""
    t = text.lower().replace("\u00a0", " ")
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)
    for word, sym in _WORD_NUM.items():
        t = re.sub(rf"(?<=\d)\s*{word}\b", sym, t)
    return re.sub(r"\s+", " ", t).strip()


# --- financial measures ----------------------------------------------------------------------

# The names of financial measures, one vocabulary for the three places that read them, each of
# which adds its own words: rag.question's classifier (which also takes "amount", "billion":
# words that make "what was ..." ask for a figure) and its measure check (which also takes
# accounting nouns: "inventory", "tax"), and rag.followup (which also takes the modifiers and
# verbs a follow-up swaps: "adjusted", "grew"). General vocabulary, no company's names.
MEASURES = (r"revenues?|sales|income|profits?|(?:net|operating|pre-?tax|gross)\s+loss(?:es)?|earnings|ebitda|ebita|ebit|eps|margins?|capex|expenses?|costs?|"
            "buybacks?|repurchases?|dividends?|debt|gmv|members|users|customers|employees|headcount")
# ... and those the classifier and the measure check share (a follow-up does not swap them)
BALANCE_MEASURES = ("assets|liabilities|equity|proceeds|valuation|arr|backlog|bookings|obligations?|rpo|crpo|"
                    "daus?|maus?|inventor(?:y|ies)|receivables?|payables?|goodwill|deposits|borrowings")


# --- words -----------------------------------------------------------------------------------

WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.-]*[A-Za-z0-9%]|[A-Za-z0-9]%?")

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves tell give say said please much many company s
""".split())


# Words that shape a question but name nothing to look for ("what happened to...", "according to").
QUESTION_FILLER = frozenset("""
happen happened happening get gets getting got use used using doesn't don't didn't isn't aren't wasn't
anything something everything include includes including compare compared comparison help helps
keep keeps say says mention mentioned describe described description explain explained talk talked
discuss discussed list show shows know known look looks like mean means want wants need needs way ways
kind kinds type types thing things also still currently approximately roughly around exactly
according figure figures number amount detail details overview summary happen
million millions billion billions thousand thousands approximately approx
""".split())

_POSSESSIVE = re.compile(r"(?:'s|’s|s'|’)$")


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def fold_accents(text: str) -> str:
    """"Zürich" -> "Zurich", "Nestlé" -> "Nestle": users type names without their accents. One
    character for one, so offsets into the folded text are offsets into the original."""
    if text.isascii():
        return text
    return "".join(_fold_char(c) if ord(c) > 127 else c for c in text)


def words(text: str) -> list[str]:
    """Lower-cased words, accents folded, possessives dropped ("Alibaba's" -> "alibaba")."""
    out = []
    for w in WORD_RE.findall(fold_accents(text).replace("’", "'")):
        w = w.lower().strip(".'")
        out.append(w[:-2].rstrip(".") if len(w) > 3 and w.endswith("'s") else w)
    return out


_PREFIX = re.compile(r"^(non|un|ex|pre|post|sub|anti|co|multi|semi|mid|over|under)-(?=\w)")


def split_compound(word: str) -> list[str]:
    """'december-quarter' -> ['december', 'quarter']; a prefix stays attached: 'non-gaap' ->
    ['nongaap'], since non-GAAP is not GAAP."""
    word = _PREFIX.sub(r"\1", word)
    return [p for p in word.split("-") if p] if "-" in word else [word]


def content_words(text: str) -> list[str]:
    """Words worth matching: stopwords and bare numbers dropped, hyphenated compounds split
    ("December-quarter" -> "december", "quarter")."""
    out = []
    for w in words(text):
        for part in split_compound(w):
            if len(part) > 1 and part not in STOPWORDS and stem(part) not in STOPWORDS and \
                    not NUMBER_RE.fullmatch(part.rstrip("%")):
                out.append(part)
    return out


# Snowball leaves irregular past tenses alone; financial prose is full of them.
_IRREGULAR = {"grew": "grow", "grown": "grow", "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall",
              "paid": "pay", "spent": "spend", "bought": "buy", "sold": "sell", "made": "make", "held": "hold",
              "led": "lead", "drove": "drive", "driven": "drive", "won": "win", "took": "take", "taken": "take",
              "gave": "give", "given": "give", "began": "begin", "begun": "begin", "became": "become",
              "saw": "see", "seen": "see", "brought": "bring", "built": "build", "kept": "keep", "left": "leave",
              "met": "meet", "ran": "run", "went": "go", "gone": "go", "wrote": "write", "written": "write"}


# Direction words are interchangeable in financial prose: "grew 13%" answers "how much did it
# increase?". Each family is folded to one stem.
_DIRECTION = {w: "grow" for w in (
    "grow grows grew grown growing growth increase increases increased increasing rise rises rose risen "
    "rising gain gains gained climb climbed climbs jump jumped jumps expand expanded expands accelerate "
    "accelerated accelerating").split()}
_DIRECTION.update({w: "declin" for w in (
    "decline declines declined declining decrease decreases decreased decreasing fall falls fell fallen "
    "falling drop drops dropped dropping shrink shrank shrunk shrinking contract contracted").split()})


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem (PyStemmer, which bm25s uses too), irregular verbs first mapped to their
    base form so 'grew' matches 'growth'."""
    if word in _DIRECTION:
        return _DIRECTION[word]
    return _stemmer().stemWord(_IRREGULAR.get(word, word))


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")
