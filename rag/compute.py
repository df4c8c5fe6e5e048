"""Figures computed from the statements: a metric the question defines ("defined as gross profit
divided by total revenue") or names (rag/metrics.toml), its operands looked up as table rows read
as facts (rag/facts.py), the arithmetic done, shown and checked again.

The pieces, in order:
- the formula language (`parse`): line items joined by + - * / (or "plus", "divided by", "as a
  percentage of", "multiplied by 365 days"), parentheses, "average X"; read left to right, as
  the questions write them ("A plus B, and divide it by C" is (A + B) / C);
- the plan (`plan`): what to compute for a question (its formula, the kind of result, rounding)
  and over which periods: one; a change between two ("by how many percentage points ... from
  FY2021 to FY2022"); growth over the year before ("year-over-year revenue growth"); an average
  over a range of years;
- the operands (`resolve`): for each line item and period, the one table row and cell that
  holds it, in one document, among the rows of the passages retrieved;
- the result (`Computation`): the figure rounded as asked, the arithmetic as an expression over
  the operands, each operand with its cell's exact text and its citation; `recheck` evaluates
  it again from the cited quotes, and an answer shows a computed figure only when it checks.

What it does not do: guess a missing operand, mix periods the question did not ask for, or take
a figure from a sentence (a narrative "gross margin was 46.0%" is the extractive answerer's).
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import functools
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rag.facts import _DASH, _SCALES, LINE_ITEMS, Cell, Row, _norm_item, parse_value, period_fit
from rag.framing import Period

# --- the formula language -----------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A line item a formula names: "accounts payable", with the statement it is to be read from
    where the definition says ("(from the cash flow statement)") and whether its average is meant."""

    phrase: str
    statement: str | None = None
    average: bool = False
    change: bool = False  # "change in inventory": its value at the period's end less a year before
    label: str | None = None  # a row label the definition quotes: "long-term 'Debt'" -> "Debt"


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Op:
    op: str  # + - * /
    left: object
    right: object


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}

_TOKEN = re.compile(
    r"(?P<lp>\()|(?P<rp>\))"
    r"|(?P<div>\bdivided\s+by\b|,?\s*(?:and\s+(?:then\s+)?)?divide\s+(?:it|that|this|them|the\s+(?:sum|result|total))\s+by\b"
    r"|\bas\s+an?\s+(?:percentage|percent|share|proportion|fraction)\s+of\b|\brelative\s+to\b|/|÷"
    # "dividends paid over net earnings"; not "over the prior year", "year-over-year", "over 2021"
    r"|(?<![\w-])over(?![\w-])(?!\s+(?:the\s+)?(?:prior|previous|last|same|past|next|first|second|third|fourth|"
    r"following|preceding|period|years?|quarters?|months?|fiscal|fy|calendar|time|an?)\b|\s+\d))"
    # "365 x (average accounts payable)": an x written as the sign, beside a number or parenthesis
    r"|(?P<mul>\bmultiplied\s+by\b|,?\s*(?:and\s+(?:then\s+)?)?multiply\s+(?:it|that|this|the\s+result)\s+by\b|\btimes\b|\*|×"
    r"|(?<=[\d)])\s*\bx\b(?=\s)|(?<=\s)x\b(?=\s*[\d(]))"
    r"|(?P<sub>\bminus\b|\bless\b|\s[-−–]\s)"
    r"|(?P<add>\bplus\b|\+)"
    r"|(?P<num>(?<![\w.,])\d+(?:\.\d+)?(?![\w,.]\d)(?:\s+days?\b)?)",
    re.I)
_SYMBOL = {"div": "/", "mul": "*", "sub": "-", "add": "+"}
# a parenthesis that says where or when, not what: "(balance sheet, August 28, 2022)", "(from the
# cash flow statement)", "(the average of the May 31, 2022 and May 31, 2021 balances)"
_STATEMENT_WORDS = (("cash_flow", re.compile(r"\bcash[\s-]flows?\b", re.I)),
                    ("balance", re.compile(r"\bbalance\s+sheets?\b|\bfinancial\s+position\b", re.I)),
                    ("income", re.compile(r"\bincome\s+statements?\b|\bstatements?\s+of\s+(?:operations|income|earnings)\b",
                                          re.I)))
_NOTE = re.compile(r"\b(?:19|20)\d\d\b|\bbalances?\b|\bnot\b|\bstatements?\b|\bsheets?\b|\bperiods?\b|\b(?:i\.e|e\.g)\b",
                   re.I)
_FROM_STATEMENT = re.compile(r",?\s*\b(?:both\s+|all\s+|each\s+)?(?:as\s+)?(?:reported\s+)?(?:from|in|on|per)\s+the\s+"
                             r"(?:consolidated\s+)?(?:condensed\s+)?(cash[\s-]flows?\s+statements?|statements?\s+of\s+cash\s+"
                             r"flows?|balance\s+sheets?|income\s+statements?|statements?\s+of\s+(?:operations|income|"
                             r"earnings))\b", re.I)
_FILLER = re.compile(r"^(?:(?:the|a|an|its|their|our|company'?s|each\s+(?:year|quarter)'?s|gaap|reported|ending|"
                     r"period[\s-]end|year[\s-]end|and|then|both|total\s+of|sum\s+of|the\s+sum\s+of)\b\s*)+", re.I)
_DEFINIENDUM = re.compile(r"^[\w\s'-]+?\s+(?:as|is|equals|means)\s+(.+)$", re.I)
_CHANGE_IN = re.compile(r"^(?:the\s+)?(?:change|increase|decrease|movement)\s+in\s+(?:the\s+)?", re.I)
# the periods a definition names inside it ("average inventory between FY2020 and FY2021", "FY2017
# COGS", "ending accounts payable (August 28, 2022)"): the plan's periods say when, not the words
_PERIOD_IN = re.compile(
    r"\b(?:between|from)\s+(?:the\s+)?(?:FY|fiscal\s+(?:year\s+)?)?\s?'?\d{2,4}\s+(?:and|to|through|-)\s+"
    r"(?:FY|fiscal\s+(?:year\s+)?)?\s?'?\d{2,4}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d\d\b"
    r"|(?:\b(?:in|for|at|as\s+of|during|of)\s+)?(?:the\s+)?\b(?:FY|fiscal\s+(?:year\s+)?)\s?'?\d{2,4}\b"
    r"|\b(?:19|20)\d\d\b|\b(?:year|period|quarter)[\s-]end\b"
    r"|\b(?:at|as\s+of)\s+(?:the\s+)?(?:end|close|beginning|start)\s+of\s+(?:the\s+)?(?:fiscal\s+)?(?:year|quarter|period)\b",
    re.I)
_AVERAGE = re.compile(r"^(?:the\s+)?(?:simple\s+)?average\s+(?:of\s+(?:the\s+)?)?", re.I)
# what an average is of, said again: "average of beginning and ending inventories", "opening and closing"
_ENDS = re.compile(r"^(?:the\s+)?(?:beginning|opening|start)(?:[\s-]of[\s-](?:the[\s-])?(?:fiscal[\s-])?(?:year|period))?"
                   r"\s+and\s+(?:ending|closing|end)(?:[\s-]of[\s-](?:the[\s-])?(?:fiscal[\s-])?(?:year|period))?\s+", re.I)


# a parenthesis that explains rather than narrows: "(including non-controlling interests)"
_ASIDE = re.compile(r"\s*(?:including|incl\.?|excluding|which|that|as|both|all|see|per|i\.e|e\.g|or|also|the)\b", re.I)
# a clause after an item that is not part of it: "..., change from fiscal 2022 to fiscal 2023"
_TAIL_CLAUSE = re.compile(r",?\s+(?:using|based\s+on|according\s+to|as\s+reported\s+in)\s+the\b.*$"
                          r"|,\s*(?:and\s+)?(?:change[sd]?|grow|grew|rise|rose|fall|fell|increase[sd]?|decrease[sd]?|"
                          r"decline[sd]?|improve[sd]?|weaken(?:ed)?|compared|versus|vs|higher|lower|greater|"
                          r"smaller|larger|more|less\s+than)\b.*$", re.I | re.S)
_LEFTOVER = re.compile(r"^[\s,]*(?:than|in|for|during|at|as\s+of|over|versus|vs|compared)\b", re.I)
# "long-term 'Debt'": the quoted word is the row's own label
_QUOTED = re.compile(r"['‘\"“]([^'’\"”]{2,60})['’\"”]")


def _statement_named(text: str) -> str | None:
    return next((k for k, pat in _STATEMENT_WORDS if pat.search(text)), None)


def _clean_phrase(text: str) -> str:
    text = re.sub(r"[\"“”‘]|(?<!s)'(?!s\b)", " ", text)
    text = " ".join(text.replace("’", "'").split()).strip(" ,.;:")
    text = _FILLER.sub("", text).strip(" ,.;:")
    return re.sub(r"(?:[\s,]+(?:and|or|then))+$", "", text, flags=re.I).strip(" ,.;:")


def parse(text: str):
    """A formula (a question's definition or the library's) as a tree of Op, Item and Num; None
    when it is not arithmetic over line items. Read left to right, parentheses first:
    "(A + B + C) divided by D", "A plus B plus C, and divide it by D", "A divided by B,
    multiplied by 365 days"."""
    tokens: list[tuple[str, object]] = []
    pos = 0
    depth = 0
    text = _PERIOD_IN.sub(" ", text)
    for m in _TOKEN.finditer(text):
        if m.start() < pos:
            continue  # inside a note already read
        _phrase_tokens(text[pos:m.start()], tokens)
        kind = m.lastgroup
        if kind == "lp":
            close = _matching(text, m.start())
            inner = text[m.end():close] if close is not None else ""
            after_item = not re.search(r"[-−–+*/×÷(]\s*$|\b(?:by|of|plus|minus|less|times|to)\s*$", text[:m.start()]) \
                and bool(tokens) and tokens[-1][0] == "item"
            if close is not None and not _has_operator(inner) and (after_item or not inner.strip()):
                # after an item, a note ("(balance sheet, August 28, 2022)") or a qualifier ("(current)");
                # after an operator, an operand: "/ (average PP&E)"
                _note(inner, tokens)
                pos = close + 1
                continue
            depth += 1
            tokens.append(("(", None))
        elif kind == "rp":
            if depth:
                depth -= 1
                tokens.append((")", None))
        elif kind == "num":
            tokens.append(("num", float(re.match(r"[\d.]+", m.group(0)).group(0))))
        else:
            tokens.append(("op", _SYMBOL[kind]))
        pos = max(pos, m.end())
    _phrase_tokens(text[pos:], tokens)
    tokens += [(")", None)] * depth
    tree, rest = _expr(tokens)
    if tree is None or rest or not isinstance(tree, Op) or not items_of(tree):
        return None
    return tree


def _matching(text: str, i: int) -> int | None:
    depth = 0
    for j in range(i, len(text)):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return j
    return None


def _has_operator(text: str) -> bool:
    return any(m.lastgroup not in ("num", "lp", "rp") for m in _TOKEN.finditer(text))


def _note(inner: str, tokens: list) -> None:
    """A parenthesis without arithmetic: a statement it names goes to the item before it; words
    that narrow the item ("(current)", "(non-current)") join its phrase; dates and other notes
    are dropped (the question's periods are read elsewhere)."""
    last = next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i][0] == "item"), None)
    if last is None or tokens[-1][0] not in ("item",):
        return
    item = tokens[last][1]
    if st := _statement_named(inner):
        # "(from the cash flow statement)": the item before; "(both ...)": the two before; "(all ...)": every one
        many = 2 if re.search(r"\bboth\b", inner, re.I) else len(tokens) if re.search(r"\b(?:all|each)\b", inner, re.I) \
            else 1
        for i in range(len(tokens) - 1, -1, -1):
            if tokens[i][0] == "item" and many > 0:
                tokens[i] = ("item", dataclasses.replace(tokens[i][1], statement=st))
                many -= 1
        return
    if _NOTE.search(inner) or not re.search(r"[A-Za-z]", inner) or _ASIDE.match(inner):
        return
    words = _clean_phrase(inner)
    if words and len(words.split()) <= 2:
        tokens[last] = ("item", dataclasses.replace(item, phrase=f"{item.phrase}, {words}"))


def _phrase_tokens(chunk: str, tokens: list) -> None:
    """The words between two operators: an item (its statement named after it read off), or
    nothing."""
    statement = None
    both = False
    if m := _FROM_STATEMENT.search(chunk):
        statement = _statement_named(m.group(1))
        both = bool(re.search(r"\b(?:both|all|each)\b", m.group(0), re.I))
        chunk = chunk[:m.start()] + " " + chunk[m.end():]
    if _LEFTOVER.match(chunk):
        return  # "... than in the first nine months": the rest of a clause whose periods were read off
    chunk = _TAIL_CLAUSE.sub("", chunk)
    label = m.group(1) if (m := _QUOTED.search(chunk)) else None
    average = change = False
    words = _clean_phrase(chunk)
    if m := _AVERAGE.match(words):
        average = True
        words = _clean_phrase(words[m.end():])
        words = _clean_phrase(_ENDS.sub("", words))
    elif m := _CHANGE_IN.match(words):
        change = True
        words = _clean_phrase(words[m.end():])
    if not re.search(r"[A-Za-z]{2,}", words):
        if statement and tokens and tokens[-1][0] == "item":  # "... plus amortization, both from the cash flow statement"
            _note(f"from the {statement} statement" if not both else f"both from the {statement} statement", tokens)
        return
    if re.fullmatch(r"(?i)days?|times|percent|%|and|or", words):
        return
    if not any(t[0] == "item" for t in tokens) and (m := _DEFINIENDUM.match(words)):
        words = m.group(1)  # "total debt as commercial paper": what follows "as" is the item
    tokens.append(("item", Item(words, statement, average, change, label)))
    if both:
        _note("both from the cash flow statement" if statement == "cash_flow" else f"both from the {statement}", tokens)


def _expr(tokens: list):
    left, tokens = _term(tokens)
    while left is not None and tokens and tokens[0][0] == "op":
        op = tokens[0][1]
        right, rest = _term(tokens[1:])
        if right is None:
            return None, tokens
        left, tokens = Op(op, left, right), rest
    return left, tokens


def _term(tokens: list):
    if not tokens:
        return None, tokens
    kind, value = tokens[0]
    if kind == "(":
        inner, rest = _expr(tokens[1:])
        if inner is None:
            return None, tokens
        return inner, rest[1:] if rest and rest[0][0] == ")" else rest
    if kind == "item":
        if len(tokens) > 1 and tokens[1][0] == "(":
            # "total debt (short-term debt plus long-term debt)": the parenthesis says what the item is
            return _term(tokens[1:])
        if len(tokens) > 1 and tokens[1][0] == "item":  # two phrases without an operator: one name
            merged = Item(f"{value.phrase} {tokens[1][1].phrase}", value.statement or tokens[1][1].statement,
                          value.average, value.change, value.label or tokens[1][1].label)
            return _term([("item", merged)] + tokens[2:])
        return value, tokens[1:]
    if kind == "num":
        return Num(value), tokens[1:]
    return None, tokens


def items_of(node) -> list[Item]:
    if isinstance(node, Item):
        return [node]
    if isinstance(node, Op):
        return items_of(node.left) + items_of(node.right)
    return []


def render(node, top: bool = True) -> str:
    """The formula in words and symbols: "gross profit / total revenue"."""
    if isinstance(node, Item):
        return f"average {node.phrase}" if node.average else f"change in {node.phrase}" if node.change else node.phrase
    if isinstance(node, Num):
        return f"{node.value:g}"
    text = f"{render(node.left, False)} {node.op} {render(node.right, False)}"
    return text if top else f"({text})"


# --- the library ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    name: str
    names: tuple[str, ...]
    formula: object  # the parsed tree
    result: str  # percent | ratio | days | amount
    optional: tuple[str, ...] = ()  # items a company may not have (no short-term investments): left out when absent


@functools.cache
def library() -> tuple[Metric, ...]:
    """The metrics of rag/metrics.toml, each formula parsed (a formula that does not parse is a
    defect of the file: it fails here, and in its test)."""
    data = tomllib.loads(Path(__file__).with_name("metrics.toml").read_text(encoding="utf-8"))
    out = []
    for name, d in data["metrics"].items():
        tree = parse(d["formula"])
        if tree is None:
            raise ValueError(f"rag/metrics.toml: the formula of {name!r} does not parse: {d['formula']!r}")
        out.append(Metric(name, tuple(d.get("names", ())), tree, d["result"], tuple(d.get("optional", ()))))
    return tuple(out)


@functools.cache
def _line_items_toml() -> dict:
    return tomllib.loads(Path(__file__).with_name("line_items.toml").read_text(encoding="utf-8"))


@functools.cache
def _line_item_data() -> tuple[dict[str, str], frozenset[str]]:
    """The statement each line item's names are read from, and the names of outflow items."""
    data = _line_items_toml()
    statement_of: dict[str, str] = {}
    for st, keys in data.get("statements", {}).items():
        for key in keys:
            for n in _names(key):
                statement_of[n] = st
    outflows = frozenset(n for key in data.get("outflows", {}).get("items", []) for n in _names(key))
    return statement_of, outflows


@functools.cache
def _bare() -> dict[str, str]:
    data = tomllib.loads(Path(__file__).with_name("metrics.toml").read_text(encoding="utf-8"))
    return {_norm_item(k): _norm_item(v) for k, v in data.get("words", {}).items()}


@functools.lru_cache(maxsize=4096)
def _names(phrase: str) -> frozenset[str]:
    """Every name of the line item a phrase names (normalized), or the phrase alone; a formula's
    bare word is its total line ("revenue" in "FY2019 revenue / average PP&E": total revenues)."""
    n = _norm_item(phrase)
    n = _bare().get(n, n)
    for names in LINE_ITEMS:
        if n in names:
            return names
    return frozenset({n})


def metric_named(text: str) -> Metric | None:
    """The library's metric a question names, the longest name first: "What was Walmart's
    fixed asset turnover in FY2023?" -> fixed asset turnover (not asset turnover)."""
    text = re.sub(r"%\s+of\b", " percentage of", text).replace("%", " ")  # "capex as a % of revenue", "EBITDA % margin"
    q = f" {_norm_item(text)} "
    return next((m for n, m in _metric_names() if f" {n} " in q), None)


@functools.cache
def _metric_names() -> tuple[tuple[str, Metric], ...]:
    """Every name of every metric, normalized, the longest first."""
    return tuple(sorted(((_norm_item(n), m) for m in library() for n in (m.name, *m.names)), key=lambda x: -len(x[0])))


# --- the plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a question asks computed: the formula, over which periods and how combined."""

    metric: str  # the library's name, or what the question calls it
    formula: object
    result: str  # percent | ratio | days | amount
    mode: str  # level | change | growth | mean
    periods: tuple[Period, ...]  # level: one; change, growth: (earlier, later); mean: each
    decimals: int | None
    defined: bool  # the question spelled the formula out
    verdict: str | None = None  # a yes/no question's claim: positive | negative (a sign), up | down (a change),
    # covers | exceeds | versus (the formula's first side set against its second)
    share: bool = False  # a member's share of the whole ("what share of net sales came from the U.S."): the
    # whole is the consolidated figure, not the member's
    scale: float | None = None  # an amount asked in a unit ("answer in USD billions"): 1e9; else the operands'
    optional: frozenset[str] = frozenset()  # the library's items a company may not report, left out when absent
    dropped: tuple[str, ...] = ()  # those left out: the answer says so


_CHANGE = re.compile(r"\bpercentage\s+points?\b|\bbasis\s+points?\b|\bhow\s+(?:much|many)\b.*\b(?:change|expand|contract)",
                     re.I)
_GROWTH = re.compile(r"\b(?:growth|grow|grew|increase|increased|decrease|decreased|decline|declined|change|changed)\b",
                     re.I)
# "By what percentage did total net sales change from fiscal 2022 to fiscal 2023?": a change in
# percent between two years named asks the figure computed from their two rows, not a rounded one
_PERCENT_BETWEEN = re.compile(r"\b(?:percent(?:age)?|%)", re.I)
_MEAN = re.compile(r"\b(?:(?:two|three|four|five|\d)[\s-]years?\s+average|average\s+of\s+each\s+(?:year|quarter)|"
                   r"simple\s+average)\b", re.I)
_RATIO_OF = re.compile(r"^(?:what\s+(?:was|is|were|are)\s+)?(.+?)\s+as\s+an?\s+(?:percentage|percent|share|proportion)\s+of\s+"
                       r"(.+?)(?:\s+(?:in|for|during|as\s+of|at)\s+.*)?\??$", re.I)
# "What share of net sales came from the United States?": the member's part of the measure, over it
_SHARE_FROM = re.compile(r"^(?:what|which)\s+(?:share|percentage|percent|portion|proportion|fraction)\s+of\s+"
                         r"(?:(?:the|its|their|total)\s+)?(.+?)\s+(?:came|come|comes|was|were|is|are|did\s+\w+\s+get)\s+"
                         r"(?:from|generated\s+(?:in|by)|earned\s+in|from\s+within)\s+(?:the\s+)?(.+?)"
                         r"(?:\s+(?:in|for|during|as\s+of|at)\s+.*)?\??$", re.I)
# "... through dividends paid and purchases of Company stock combined?", "the sum of A and B": two
# line items added; the span holds both, split below at its "and"
_SUM_OF = re.compile(r"\b(?:(?:the\s+)?(?:sum|total)\s+of|combined)\s+(?:the\s+)?(?P<a>[^?;()]{7,120}?)"
                     r"(?=\s*(?:\?|\.|$|\s(?:in|for|during|as\s+of|at)\b))"
                     r"|\b(?:(?:through|via|from|in|as|were|was|are|is)\s+)+(?:the\s+)?(?P<b>[^?;()]{7,120}?)\s+(?:combined|together|taken\s+together)\b",
                     re.I)


@functools.cache
def _bound_ands() -> frozenset[tuple[str, str]]:
    """The word pairs an "and" joins inside a line item's name ("research and development",
    "property, plant and equipment"): an "and" there is part of a name, not between two."""
    out = set()
    for key, names in _line_items_toml()["line_items"].items():
        for n in (key, *names):
            words = re.findall(r"[a-z&]+", n.lower())
            out |= {(words[i - 1], words[i + 1]) for i in range(1, len(words) - 1) if words[i] == "and"}
    return frozenset(out)


def summed_items(text: str, framing) -> tuple[str, str] | None:
    """The two line items a question asks added ("through dividends paid and purchases of Company
    stock combined", "the sum of research and development and selling, general and administrative
    expenses"), split at the one "and" that is not inside a line item's name; None when there is
    no such request, or not exactly one such "and"."""
    if framing is None or _YES_NO.match(text) or not (m := _SUM_OF.search(_drop_subject(text.split("?")[0], framing))) \
            or re.match(r"combined\s+(?:company|entity|business|group|firm)", m.group(0), re.I):
        return None  # "the combined company's revenue and net income": two figures of a merged company
    span = m.group("a") or m.group("b")
    splits = []
    for a in re.finditer(r",?\s+and\s+(?:the\s+)?", span):
        left, right = span[:a.start()], span[a.end():]
        lw, rw = re.findall(r"[a-z&]+", left.lower()), re.findall(r"[a-z&]+", right.lower())
        if lw and rw and (lw[-1], rw[0]) not in _bound_ands():
            splits.append((_bare_phrase(left), _bare_phrase(right)))
    if len(splits) != 1 or not all(splits[0]) or max(len(x.split()) for x in splits[0]) > 7:
        return None
    return splits[0]


# "the total debt to EBITDA ratio", "net debt-to-capital ratio": one line item over another
_TO_RATIO = re.compile(r"((?:[\w'&]+[\s-]+){0,3}?[\w'&]+)[\s-]+to[\s-]+((?:[\w'&]+[\s-]+){0,3}?[\w'&]+)[\s-]+ratio\b", re.I)
_NOT_RATIO = re.compile(r"\b(?:compared|relative|versus|vs|close|equal|similar|due|owed|paid)$", re.I)  # "X compared to the industry ratio"
_OPENER = re.compile(r"^(?:what\s+(?:was|is|were|are)|calculate|compute|find|determine)\s+(?:the\s+|its\s+)?", re.I)


# a preposition left at a phrase's end once its period was taken out: "revenue in (fiscal 2024)"
_TRAILING_PREP = re.compile(r"\s+(?:in|for|during|of|at)$", re.I)


def _bare_phrase(text: str) -> str:
    """An item's words as `_clean_phrase` gives them, less a preposition its period left behind."""
    return _TRAILING_PREP.sub("", _clean_phrase(text))
_PERCENT_WORDS = re.compile(r"\b(?:margin|rate|percent|percentage|return\s+on|yield|payout|share\s+of|growth)\b", re.I)


_WHICH_MOST = re.compile(r"^\s*which\b.*\b(?:fastest|slowest|highest|lowest|largest|smallest|biggest|most|least|best|"
                         r"worst|strongest|weakest)\b", re.I)
# a yes/no question, after a leading phrase of its own ("In Q1 FY2024, did ...")
_YES_NO = re.compile(r"^\s*(?:[^,?]{0,60},\s*)?(?:is|was|are|were|did|does|do|has|have|had)\b", re.I)
_THAN_ANOTHER = re.compile(r"\b(?:faster|slower|quicker|more|less|higher|lower|greater|smaller|larger)\s+than\s+"
                           r"(?!\$?\d|(?:a|one|the)\s+(?:year|quarter)\b|(?:the\s+)?(?:prior|previous|last)\b)", re.I)
# "Did Oracle have positive stockholders' equity as of FY2022": the sign of a figure
_SIGN = re.compile(r"\b(positive|negative)\s+(.+?)(?=\s+(?:as\s+of|at|in|for|during|on|and|or|by|based)\b|[?,;(]|$)",
                   re.I)
# the period after the second side of a comparison: "... in fiscal 2023", "... as of June 30"
_AT_PERIOD = (r"\s+(?:in|for|during|over|as\s+of|at)\s+(?:the\s+)?(?:fiscal|fy|year|quarter|q[1-4]|(?:19|20)\d\d|"
              r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\b.*")
# "Did cash generated by operating activities cover dividends plus share repurchases in fiscal
# 2023?", "Did free cash flow exceed net income?": one amount set against another
_COVERS = re.compile(r"^\s*(?:[^,?]{0,60},\s*)?(?:did|does|do|was|were|is|are|could|can|would)\s+(.+?)\s+"
                     r"(?:(?:fully|more\s+than|comfortably|still)\s+)?(cover|exceed|surpass|outpace|fund|pay\s+for)\s+"
                     rf"(?:both\s+)?(.+?)(?:{_AT_PERIOD})?$", re.I)
_EXCEED = ("exceed", "surpass", "outpace")
# "Was Apple's effective tax rate above or below the statutory federal rate", "Is A higher or lower than B"
_VERSUS = re.compile(r"^\s*(?:[^,?]{0,60},\s*)?(?:was|were|is|are)\s+(.+?)\s+(above\s+or\s+below|below\s+or\s+above|"
                     r"higher\s+or\s+lower\s+than|lower\s+or\s+higher\s+than|greater\s+or\s+(?:less|smaller)\s+than|"
                     r"above|below|higher\s+than|lower\s+than)\s+(?:that\s+of\s+)?(.+?)"
                     rf"(?:,?\s+and\s+(?:why|what)\b.*|{_AT_PERIOD})?$", re.I)


def _two_sides(m: re.Match, framing) -> tuple | None:
    """The two amounts a "did A cover B" question sets against each other: A a line item, B one or
    the sum of a few ("dividends plus share repurchases", "dividends and buybacks")."""
    left = _bare_phrase(_drop_subject(m.group(1), framing))
    body = m.group(3)
    right = parse(body)
    if right is None and re.search(r"\s+and\s+", body):
        parts = summed_items(f"the sum of {body}", framing)
        right = Op("+", Item(parts[0]), Item(parts[1])) if parts else None
    if right is None and re.search(r"[A-Za-z]{3,}", body) and not _has_operator(body):
        right = Item(_bare_phrase(body))
    if not left or right is None or not re.search(r"[A-Za-z]{3,}", left) or _has_operator(left):
        return None
    return Item(left), right


# "Did Walmart's total debt increase in FY2023?": the direction of a change
_DIRECTION = re.compile(r"\b(increase[ds]?|rise|rose|grow|grew|improve[ds]?|improving|strengthen(?:ed)?|expand(?:ed)?|"
                        r"higher|greater|larger|decrease[ds]?|decline[ds]?|fall|fell|drop(?:ped)?|shrink|shrank|"
                        r"weaken(?:ed)?|deteriorat\w*|worsen(?:ed)?|contract(?:ed)?|lower|smaller)\b", re.I)
_UP = ("increase", "rise", "rose", "grow", "grew", "improv", "strengthen", "expand", "higher", "greater", "larger")
# "Support your answer with capital expenditure as a percentage of net revenue": the figure a
# verdict rests on, spelled out in an instruction
_SUPPORT = re.compile(r"\b(?:with|using|by\s+computing|compute|calculate|from)\s+(.+?)[.?]?$", re.I)


def plan(query) -> Plan | None:
    """What to compute for a question, or None when it asks no computation we can do: the
    question's own definition first, then a library metric it names, then "A as a percentage
    of B", then the growth of a line item; with the periods its words give. A yes/no question
    is computed only for the sign of a figure ("positive working capital?"), the direction of a
    change ("did debt increase?") or the figure its instructions ask to support it with."""
    framing = query.framing
    if framing is None or framing.period is None:
        return None
    text = framing.question
    full = " ".join([query.text, *framing.instructions])  # "Give the year-over-year change as a percentage."
    if _WHICH_MOST.match(text):
        return None  # "which segment grew fastest": a ranking (rag/compare.py), not one figure
    if _THAN_ANOTHER.search(text):
        return None  # "did operating expenses grow faster than revenues": two figures compared, not one
    metric, result, verdict, share = None, None, None, False
    yes_no = bool(_YES_NO.match(text))
    tree = _defined(query)
    defined = tree is not None
    named = metric_named(text)
    if named is None and tree is None:  # "Compute X's operating margin for ... By how many points did it move?"
        named = next((m for i in framing.instructions if _COMPUTE_ASK.match(i) and (m := metric_named(i))), None)
    asked = (query.asked or text).split("?")[0]  # the question's own sentence, its definition in it
    if yes_no and tree is not None and (d := _direction(asked)):
        verdict = "up" if d.group(1).lower().startswith(_UP) else "down"
        metric = (named.name if named else None) or _metric_words(text[:d.start()], framing)
    elif yes_no and tree is None:
        named = None
        if (m := _VERSUS.match(text.split("?")[0])) and (sides := _two_sides(m, framing)):
            # "Was the effective tax rate above or below the statutory federal rate?": the first less
            # the second, the answer which side it fell on, both shown
            tree, metric, result, verdict = Op("-", *sides), f"{render(sides[0])} against {render(sides[1])}", \
                "amount", "versus"
        elif (m := _COVERS.match(text.split("?")[0])) and (sides := _two_sides(m, framing)):
            # "Did cash generated by operating activities cover dividends plus share repurchases?": the
            # first less the second, its sign the verdict, both sides shown
            tree, metric, result = Op("-", *sides), f"{render(sides[0])} against {render(sides[1])}", "amount"
            verdict = "exceeds" if m.group(2).lower().startswith(_EXCEED) else "covers"
        elif m := _SIGN.search(text):
            verdict, phrase = m.group(1).lower(), _clean_phrase(m.group(2))
            own = metric_named(phrase)
            tree, metric, result = (own.formula, own.name, own.result) if own else (Item(phrase), phrase, "amount")
        elif d := _DIRECTION.search(text):
            subject = metric_named(text[:d.start()])
            items = asked_items_in(text[:d.start()])
            if subject is not None:
                tree, metric, result = subject.formula, subject.name, subject.result
            elif len(items) == 1:
                tree, metric, result = Item(items[0]), items[0], "amount"
            verdict = "up" if d.group(1).lower().startswith(_UP) else "down"
        else:
            for instruction in framing.instructions:
                if (m := _SUPPORT.search(instruction)) and (tree := parse(m.group(1))) is not None:
                    metric = _clean_phrase(re.sub(r"\([^)]*\)", " ", m.group(1)))
                    break
    if tree is None and not yes_no and (m := _TO_RATIO.match(_CHANGE_IN.sub("", _OPENER.sub(
            "", _drop_subject(text.split("?")[0], framing))))) and not _NOT_RATIO.search(m.group(1)) and \
            not (named is not None and _norm_item(m.group(0)) in {_norm_item(n) for n in (named.name, *named.names)}):
        # "total debt to EBITDA ratio": the first over the second, though the library names only the
        # second (EBITDA), which would otherwise answer alone
        a, b = _clean_phrase(m.group(1)), _clean_phrase(m.group(2))
        if a and b:
            tree, result, metric, named = Op("/", Item(a), Item(b)), "ratio", f"{a} to {b} ratio", None
    if tree is None and named is not None:
        tree, metric, result = named.formula, named.name, named.result
    if tree is None and not yes_no and (m := _RATIO_OF.match(_drop_subject(text, framing))):
        a, b = _clean_phrase(m.group(1)), _clean_phrase(m.group(2))
        if a and b:
            tree, result = Op("/", Item(a), Item(b)), "percent"
            metric = f"{a} as a percentage of {b}"
    if tree is None and not yes_no and (m := _SHARE_FROM.match(_drop_subject(text.split("?")[0], framing))):
        whole = _bare_phrase(m.group(1))
        part = _bare_phrase(re.sub(r"\([^)]*\)", " ", m.group(2)))
        part = re.sub(r"\s+(?:(?:reportable|operating|geographic)\s+)?(?:segment|region|division|unit|business)$", "",
                      part, flags=re.I)  # "the Services segment", "the widgets business"
        if whole and part:
            tree, result = Op("/", Item(f"{part} {whole}"), Item(whole)), "percent"
            metric, share = f"share of {whole} from {part}", True
    if tree is None and not yes_no and (parts := summed_items(text, framing)):
        a, b = parts
        tree, result, metric = Op("+", Item(a), Item(b)), "amount", f"{a} and {b} combined"
    if tree is None and not yes_no and (framing.decimals is not None or framing.statement or percent_between(query)) \
            and _GROWTH.search(full) \
            and (phrase := _grown_item(text, framing, query.entities)):
        # "year-over-year total revenue growth", rounded: the growth of a line item
        tree, metric, result = Item(phrase), f"{phrase} growth", "amount"
    if tree is None:
        return None
    if not yes_no and not (isinstance(tree, Op) and tree.op == "/") and \
            (m := _RATIO_OF.match(_drop_subject(text, framing))) and (b := _clean_phrase(m.group(2))):
        # "free cash flow as a percentage of net sales? Use net cash provided by operations minus
        # capital expenditures": the definition (or the metric named) is the share's numerator
        tree, result = Op("/", tree, Item(b)), "percent"
        metric = f"{metric or (named.name if named else None) or _clean_phrase(m.group(1))} as a percentage of {b}"
        defined, named = False, None
    tree = _assigned(tree, query.asked or query.text)
    if verdict != "versus":  # (two rates set side by side are read as printed: "Effective tax rate 14.7 %")
        tree = _expand(tree)
    if named is not None and metric is None:
        metric = named.name
    metric = metric or _metric_words(text, framing) or render(tree)
    result = _result_kind(tree, framing, full, result if not defined else (named.result if named else None))
    if isinstance(tree, Item):
        result = "amount"  # a line item's level; "in percent" is its growth's unit
    if verdict in ("up", "down"):
        mode, periods = "change", _two_periods(framing.period)
    elif verdict:
        mode, periods = "level", (framing.period,)
    else:
        mode, periods = _periods(framing, full, result)
    if not periods or (isinstance(tree, Item) and mode == "level" and not verdict):
        return None  # a line item's own figure is quoted, not computed; its growth needs two periods
    if result == "percent" and mode in ("level", "mean") and not (isinstance(tree, Op) and tree.op == "/"):
        return None  # an amount is no percentage ("free cash flow in percent" names no base)
    scale = _SCALES.get(framing.unit) if result == "amount" else None
    optional = frozenset(named.optional) if named is not None and not defined else frozenset()
    return Plan(metric, tree, result, mode, periods, framing.decimals, defined, verdict, share, scale, optional)


# "DPO is defined as: 365 * (average accounts payable ...) / (COGS + change in inventory)": a
# definition written as its own sentence, which the framing may read only in part
_COMPUTE_ASK = re.compile(r"^\W*(?:(?:please|kindly)\s+)?(?:calculate|compute|find|determine|work\s+out)\b", re.I)
_DEFINED_AS = re.compile(r"\b(?:defined|calculated|computed|measured|derived)\s+(?:as|by)\s*:?\s+(.+?)(?=\.\s+[A-Z]|\.?\s*$|\?)",
                         re.I)


def percent_between(query) -> bool:
    """Whether the question asks a change in percent between two years it names ("By what percentage
    did total net sales change from fiscal 2022 to fiscal 2023?")."""
    framing = query.framing
    return framing is not None and framing.period is not None and \
        bool(_PERCENT_BETWEEN.search(" ".join([query.text, *framing.instructions]))) and \
        len(set(re.findall(r"(?:19|20)\d\d", framing.period.text))) == 2


def _defined(query):
    """The formula the question spells out, read from the framing's definition or from a
    "defined as: ..." sentence of the question (the one naming more items), its items that name
    a library metric ("DIO + DSO - DPO") replaced by that metric's formula; None when none."""
    framing = query.framing
    texts = [framing.definition] if framing.definition else []
    texts += [m.group(1) for m in _DEFINED_AS.finditer(query.asked or query.text)]
    best = None
    for t in texts:
        tree = parse(_strip_mean(t))
        if tree is not None and (best is None or len(items_of(tree)) > len(items_of(best))):
            best = tree
    return _expand(best) if best is not None else None


def _expand(node, depth: int = 0):
    """Items that name a library metric, as its formula: "DIO + DSO - DPO"."""
    if isinstance(node, Op):
        if node.op == "/":
            return Op("/", _amount_of(node.left, depth), _amount_of(node.right, depth))
        return Op(node.op, _expand(node.left, depth), _expand(node.right, depth))
    if isinstance(node, Item) and depth < 2 and not node.average and not node.change:
        m = metric_named(node.phrase)
        if m is not None and _norm_item(node.phrase) in {_norm_item(n) for n in (m.name, *m.names)}:
            return _expand(m.formula, depth + 1)
    return node


def _amount_of(node, depth: int):
    """An operand of a division: a margin named there is the amount it is a share of ("gross margin
    divided by total net sales": the row "Gross margin", gross profit), not the margin again; other
    operands are expanded as anywhere."""
    if isinstance(node, Item) and not node.label and (m := metric_named(node.phrase)) is not None and \
            m.result == "percent" and isinstance(m.formula, Op) and m.formula.op == "/" and \
            isinstance(m.formula.left, Item) and _norm_item(node.phrase) in {_norm_item(n) for n in (m.name, *m.names)}:
        return dataclasses.replace(m.formula.left, label=node.phrase, average=node.average, change=node.change)
    return _expand(node, depth)


def _direction(sentence: str):
    """The direction a yes/no question asks about, as a verb or comparative ("weaken", "higher
    ... than"), not a noun of a definition ("the increase in inventory")."""
    return next((m for m in _DIRECTION.finditer(sentence)
                 if not re.search(r"\b(?:the|an?|of|in)\s+$", sentence[:m.start()], re.I)), None)


def asked_items_in(text: str) -> list[str]:
    from rag.facts import asked_items

    return [it.phrase for it in asked_items(text)]


_GROWTH_WORDS = re.compile(r"\b(?:year[\s-]over[\s-]year|yoy|y/y|growth|grow|grew|increase[ds]?|decrease[ds]?|"
                           r"decline[ds]?|change[ds]?|rate|percentage|percent|by\s+what|how\s+much|did)\b", re.I)


_GROWTH_OF = re.compile(r"\b(?:growth|change|increase|decrease|decline)\s+(?:rate\s+)?(?:in|of)\s+(?:the\s+)?(.+?)"
                        r"(?=\s+(?:from|between|for|in|during|over|compared|versus|vs|year)\b|[?,.(]|$)", re.I)


def _grown_item(text: str, framing, entities=()) -> str | None:
    """The line item whose growth is asked: "What was Salesforce's year-over-year total revenue
    growth in Q1 FY2024?" -> "total revenue"; with the member named before it ("Mac net sales")."""
    from rag.facts import asked_items

    m = _GROWTH_OF.search(_drop_subject(text, framing))  # "the year-over-year change in revenue from FY2015"
    if m and re.search(r"[A-Za-z]{2,}", m.group(1)):
        return _clean_phrase(m.group(1))
    items = asked_items(text)
    if len(items) == 1:
        return _with_member(_drop_subject(text, framing), items[0].phrase, entities)
    words = _metric_words(_GROWTH_WORDS.sub(" ", text), framing)
    return words if words and len(words.split()) <= 5 else None


def _with_member(text: str, phrase: str, entities) -> str:
    """The line item with the segment, product or region the question names right before it, in
    capitals ("Mac net sales", "Greater China revenues"): the member's row, not the total. Only a
    name the question reads as an entity (the company is dropped before)."""
    from rag.text import stem

    m = re.search(rf"\b{re.escape(phrase)}\b", text, re.I)
    if not m or not entities:
        return phrase
    names = set().union(*entities)
    before = text[:m.start()].split()
    run: list[str] = []
    while before and len(run) < 3 and before[-1][:1].isupper() and before[-1].isalpha() and \
            len(before) > 1:  # the question's first word ("How", "What") is no member
        run.insert(0, before.pop())
    if run and any(stem(w.lower()) in names for w in run):
        return f"{' '.join(run)} {m.group(0)}"
    return phrase


# "debt to equity, where debt = commercial paper + term debt and equity = total shareholders' equity":
# the question says what a term of the formula stands for, each "name = formula"
_ASSIGNMENTS = re.compile(r"\b(?:where|with|using)\s+(.+?)(?=\.\s|\.?\s*$|\?)", re.I | re.S)
_ASSIGN = re.compile(r"^\s*(?:the\s+)?([A-Za-z][\w'’&-]*(?:\s+[\w'’&-]+){0,4}?)\s*(?:=|:=|\bis\b|\bmeans\b)\s*(.+)$", re.S)


def _assigned(tree, text: str):
    """The formula with the terms the question defines ("where debt = A + B + C") put in: an item
    whose name holds the term's words ("total debt" for "debt") becomes the term's formula (an
    average of the item, its formula averaged)."""
    subs: list[tuple[frozenset[str], object]] = []
    for m in _ASSIGNMENTS.finditer(text):
        for part in re.split(r"\s*(?:,|;)?\s+and\s+(?=[A-Za-z][\w'’ -]{0,40}?\s*(?:=|:=))|;\s*", m.group(1)):
            if (a := _ASSIGN.match(part)) and "=" in part:
                name, body = a.group(1), a.group(2).strip().rstrip(".,;")
                value = parse(body) or (Item(_clean_phrase(body)) if re.search(r"[A-Za-z]{2,}", body) and
                                        not _has_operator(body) else None)
                if value is not None:
                    subs.append((frozenset(_norm_item(name).split()), value))
    if not subs:
        return tree

    def put(node):
        if isinstance(node, Op):
            return Op(node.op, put(node.left), put(node.right))
        if isinstance(node, Item):
            words = set(_norm_item(node.phrase).split())
            for name, value in subs:
                if name and name <= words:
                    return _averaged(value) if node.average else value
        return node
    return put(tree)


def _averaged(node):
    if isinstance(node, Op):
        return Op(node.op, _averaged(node.left), _averaged(node.right))
    return dataclasses.replace(node, average=True) if isinstance(node, Item) else node


# ", where FY2023 is the fiscal year ended January 31, 2023": a clause that says what a term of the
# formula means, not a term of it
_WHERE = re.compile(r",\s+where\b.*$", re.I | re.S)


def _strip_mean(definition: str) -> str:
    """A definition's formula without what only explains it: ", where FY2023 is ..." and a leading
    "the average of each year's"."""
    definition = _WHERE.sub("", definition)
    return re.sub(r"^(?:the\s+)?(?:simple\s+)?average\s+of\s+(?:each|the)\s+(?:year|quarter|period)'?s?\s+", "",
                  definition, flags=re.I)


def _drop_subject(text: str, framing) -> str:
    """The question without its company and period: "What was Oracle's FY2022 capital
    expenditure as a percentage of total revenues?" -> "What was capital expenditure as ..."."""
    if framing.company:
        text = re.sub(rf"\b{re.escape(framing.company)}(?:['’]s)?\s*", "", text, flags=re.I)
    if framing.period and framing.period.text:
        text = text.replace(framing.period.text, " ")
    text = re.sub(r"\b(?:FY|fiscal\s+(?:year\s+)?)'?\d{2,4}\b|\b(?:19|20)\d\d\b", " ", text, flags=re.I)
    return " ".join(text.split())


def _metric_words(text: str, framing) -> str | None:
    """What the question calls the figure: "What was Adobe's FY2022 gross margin?" -> "gross margin"."""
    t = _drop_subject(text, framing)
    t = re.sub(r"^(?:what\s+(?:was|is|were|are)|calculate|compute|by\s+how\s+many\s+percentage\s+points\s+did|"
               r"by\s+what\s+percentage\s+did)\s+", "", t, flags=re.I)
    t = re.sub(r"\s+(?:change|grow|in|for|from|as\s+of|at|during|between)\b.*$", "", t, flags=re.I)
    t = _clean_phrase(t.rstrip("?"))
    return t if 0 < len(t.split()) <= 6 else None


def _result_kind(tree, framing, text: str, library_kind: str | None) -> str:
    if library_kind and framing.unit == "ratio":
        return library_kind  # "payout ratio" names the metric; the library says how it is shown
    if framing.unit == "percent":
        return "percent"
    if framing.unit == "days" or (isinstance(tree, Op) and tree.op == "*" and isinstance(tree.right, Num)
                                  and tree.right.value in (360, 365, 366)):
        return "days"
    if framing.unit == "ratio":
        return "ratio"
    if framing.unit in ("millions", "billions", "thousands", "trillions"):
        return "amount"
    if library_kind:
        return library_kind
    if isinstance(tree, Op) and tree.op in "+-":
        return "amount"
    return "percent" if _PERCENT_WORDS.search(text) else "ratio"


def _periods(framing, text: str, result: str) -> tuple[str, tuple[Period, ...]]:
    """The mode and the periods: a range "from FY2021 to FY2022" gives a change (or, for an
    average, every year of it); growth compares the period with the same span a year before."""
    p = framing.period
    if len(dated := _dated(p)) == 2 and (_GROWTH.search(text) or _CHANGE.search(text)):
        # "between January 31, 2023 and April 30, 2023": the two dates named
        mode = "change" if _CHANGE.search(text) or result in ("ratio", "days") else "growth"
        return mode, dated
    span = _range(p)
    if _MEAN.search(text) and span:
        return "mean", tuple(_year(p, y) for y in range(span[0], span[1] + 1))
    if span and (_CHANGE.search(text) or _GROWTH.search(text)):
        # a margin or ratio changes by a difference (percentage points); an amount grows by a rate
        mode = "change" if _CHANGE.search(text) or result != "amount" else "growth"
        return mode, (_year(p, span[0]), _year(p, span[1]))
    if _CHANGE.search(text) and re.search(r"\bchange|expand|contract|improve|decline|widen|narrow|"
                                          r"\b(?:percentage|basis)\s+points?\b", text, re.I):
        return "change", (shift(p, -1), p)  # "by how many percentage points did it move": a difference
    if re.search(r"\b(?:year[\s-]over[\s-]year|yoy|y/y|growth)\b|\bcompar\w*\b.*\b(?:a\s+year\s+(?:earlier|ago|before)|"
                 r"(?:the\s+)?(?:prior|previous|last)\s+year)\b", text, re.I) or \
            re.search(r"\bby\s+what\s+percentage\b", text, re.I):
        return "growth", (shift(p, -1), p)
    return "level", (p,)


def _two_periods(p: Period) -> tuple[Period, Period]:
    """The two periods a change is over, earlier first: two dates named, a range of years, or the
    period and the same span a year before."""
    if len(dated := _dated(p)) == 2:
        return dated
    if span := _range(p):
        return _year(p, span[0]), _year(p, span[1])
    return shift(p, -1), p


def _year(p: Period, year: int) -> Period:
    """Fiscal year `year` of a range: named by its year alone, as a statement's columns are (the
    range's words do not say which end date each year has)."""
    return Period(year=year, quarter=p.quarter, months=p.months or (None if p.instant else 12), instant=p.instant,
                  text=f"FY{year}")


def _range(p: Period) -> tuple[int, int] | None:
    """The first and last fiscal years of a range the period's words name: "from FY2018 to
    FY2020" -> (2018, 2020)."""
    years = [int(y) if len(y) == 4 else 2000 + int(y)
             for y in re.findall(r"(?:\bFY\s?'?|\bfiscal\s+(?:year\s+)?|\b)((?:19|20)\d\d|(?<=FY)\d\d)\b", p.text, re.I)]
    years = sorted(set(years))
    if len(years) >= 2 and p.year and re.search(r"\b(?:from|between|to|through|versus|vs|and|compared)\b|\s[-–—]\s|\d[-–—]",
                                                p.text, re.I) and not _DATE.search(p.text.split("(")[0]):
        return years[0], years[-1]
    return None


_DATE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+((?:19|20)\d\d)\b", re.I)
_MONTH_NUMBER = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def _dated(p: Period) -> tuple[Period, ...]:
    """The two dates a period's words name, earlier first, each the end of the period's span (or
    a balance date): "three months ended April 30, 2023 versus April 30, 2022"; () otherwise."""
    dates = sorted({datetime.date(int(y), _MONTH_NUMBER[m.lower()[:3]], int(d)) for m, d, y in _DATE.findall(p.text)})
    if len(dates) != 2:
        return ()
    return tuple(Period(year=d.year, months=p.months, end=d, instant=p.months is None, text=d.strftime("%B %-d, %Y"))
                 for d in dates)


def shift(p: Period, years: int) -> Period:
    """The same span `years` later (earlier when negative): FY2022 -> FY2021; the balance at May
    31, 2022 -> May 31, 2021."""
    if years == 0:
        return p
    end = None
    if p.end is not None:
        try:
            end = p.end.replace(year=p.end.year + years)
        except ValueError:  # February 29
            end = p.end.replace(year=p.end.year + years, day=28)
    return Period(year=p.year + years if p.year else None, quarter=p.quarter, months=p.months, end=end,
                  instant=p.instant, text=_period_name(p, years))


def _period_name(p: Period, years: int) -> str:
    if p.end is not None and p.instant:
        end = p.end.replace(year=p.end.year + years) if years else p.end
        return end.strftime("%B %-d, %Y")
    if p.quarter and p.year:
        return f"Q{p.quarter} FY{p.year + years}"
    if p.end is not None and not p.instant and p.months in _SPANS:
        return f"{_SPANS[p.months]} ended {(p.end.replace(year=p.end.year + years) if years else p.end).strftime('%B %-d, %Y')}"
    if p.year:
        return f"FY{p.year + years}"
    return p.text


# --- the operands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    label: str  # the row's label: "Total net sales"
    item: str  # what the formula calls it: "total net sales"
    value: float  # the cell's value, its sign as the formula takes it (an outflow as a positive amount)
    text: str  # the cell as printed: "394,328", "(3,891)"
    period: str  # the column's period: "Year Ended September 24, 2022"
    source: str
    page: int | None
    row: Row = field(repr=False, compare=False)
    cell: Cell = field(repr=False, compare=False)
    citation: int = 0

    def to_dict(self) -> dict:
        return {"label": self.label, "item": self.item, "value": self.value, "text": self.text,
                "period": self.period, "source": self.source, "page": self.page, "citation": self.citation,
                "scale": self.row.scale or 1.0}


@dataclass(frozen=True)
class Missing:
    item: str
    period: str
    why: str  # "no table row" | "no column for the period" | "two rows"


def _statement_of(item: Item) -> str | None:
    statement_of, _ = _line_item_data()
    return item.statement or next((statement_of[n] for n in _names(item.phrase) if n in statement_of), None)


# a cash flow statement's payments, printed in parentheses: "Payments for acquisition of property,
# plant and equipment (8,796)", "Purchases of ...", "Repurchases of common stock", "Dividends paid"
_PAYMENT = re.compile(r"^(?:less:?\s+)?(?:payments?|purchases?|additions?|acquisitions?|repurchases?|capital\s+expenditures?|"
                      r"(?:cash\s+)?dividends\s+paid)\b", re.I)


@functools.cache
def _expense_names() -> frozenset[str]:
    data = _line_items_toml()
    return frozenset(n for key in data.get("expenses", {}).get("items", []) for n in _names(key))


def _is_deducted_expense(item: Item, row: Row) -> bool:
    """An expense the income statement prints as a deduction in every column ("(19,087)")."""
    return row.statement != "cash_flow" and bool(_names(item.phrase) & _expense_names()) and \
        all(c.value is not None and c.value < 0 for c in row.cells if not c.percent)


def _is_outflow(item: Item, row: Row) -> bool:
    """A payment that a formula takes as an amount: free cash flow is operating cash flow minus
    capital expenditures, 7,392 - 3,891, though the statement prints "(3,891)"; so does a
    reconciliation's "Less: Purchases of property and equipment (111)" (a table of no statement)."""
    _, outflows = _line_item_data()
    return (row.statement == "cash_flow" or (row.statement == "other" and bool(re.match(r"(?i)less\b", row.label)))) \
        and bool(_names(item.phrase) & outflows or _norm_item(row.label) in outflows or _PAYMENT.match(row.label))


@functools.lru_cache(maxsize=1 << 14)
def _stems(text: str) -> frozenset[str]:
    """A name's words, stemmed whole: "non-current" stays one word (it is not "current")."""
    from rag.text import stem

    text = re.sub(r"\bnon-", "non", text.lower())  # "non-current" is one word, not "current"
    return frozenset(stem(w) for w in re.findall(r"[a-z0-9&]+", text) if w not in _NAME_STOP)


_NAME_STOP = frozenset("of and the for to in from by on at a an".split())


@functools.lru_cache(maxsize=1 << 14)
def _headless(text: str) -> str:
    """A name as written, "Total", footnote marks and an allowance's note dropped: "Total
    non-current liabilities (1)", "Trade receivables, net of allowances for doubtful accounts of
    $16 and $14, respectively" -> "Trade receivables, net"."""
    text = _ALLOWANCE.sub(r"\1", text.replace("’", "'"))
    return _TOTAL_MARKS.sub(" ", text).strip()


_ALLOWANCE = re.compile(r"(,?\s+net)\s+of\b.*$|\s*\((?:net\s+of|less)\b[^)]*\)", re.I)
_TOTAL_MARKS = re.compile(r"^\s*total\s+|\(\d\)|\(\w\)$", re.I)


@functools.lru_cache(maxsize=1 << 14)
def _label(text: str) -> str:
    return _norm_item(text)


@functools.lru_cache(maxsize=1 << 12)
def _other_item(label: str, names: frozenset[str]) -> bool:
    """Whether a row's label is the name of another line item than the one asked: "Income before
    income taxes" is not the provision for income taxes, though it holds every word of "income
    taxes"."""
    return any(label in other for other in LINE_ITEMS if other != names)


@functools.lru_cache(maxsize=1 << 12)
def _row_names(names: frozenset[str]) -> frozenset[str]:
    """What a row may be labelled for the line item of `names` besides them (line_items.toml's
    row_names): a row in dollars, not the ratio a question's same words ask."""
    data = _line_items_toml()
    return frozenset(_norm_item(n) for key, extra in data.get("row_names", {}).items() if _norm_item(key) in names
                     for n in extra)


@functools.lru_cache(maxsize=1 << 12)
def _name_stems(names: frozenset[str]) -> frozenset[frozenset[str]]:
    return frozenset(_stems(n) for n in names)


def _member_of_measure(want: frozenset[str], own: frozenset[str], heading: frozenset[str]) -> bool:
    """Whether a phrase is a member and a measure ("Mac net sales", "Greater China revenues") that a
    row gives as its label (the member, all of it) under a heading or caption naming the measure
    (all the rest, and a line item's whole name)."""
    rest = want - own
    return bool(own) and own < want and rest <= heading and rest in _MEASURE_STEMS


def _measure_stems() -> frozenset[frozenset[str]]:
    return frozenset(_stems(n) for names in LINE_ITEMS for n in names if n)


_MEASURE_STEMS = _measure_stems()


def label_score(item: Item, row: Row) -> float:
    """How well a row's label names a formula's item: 1 when it is the phrase asked, 0.95 when it
    is another name of the item ("Cost of sales" for "cost of goods sold"); less when the label
    holds every word of one of its names among others ("Provision for (benefit from) income
    taxes"), less for each word more and more again for each word only its parents give
    ("Current liabilities" > "Term debt" for "current term debt"); 0 when a word is missing, or
    when the label is another line item's name."""
    if (m := _TO_PARENT.search(row.label)) and not _TO_PARENT.search(item.phrase):
        # "Net earnings attributable to Clorox" is the company's net earnings: the figure its
        # payout, return on equity and per-share figures rest on, before the consolidated row that
        # holds the noncontrolling interests' share too
        own = _label_score(item, row, row.label[:m.start()])
        if own >= 0.95:
            return own + 0.02
    return _label_score(item, row, row.label)


def _label_score(item: Item, row: Row, row_label: str) -> float:
    names = _names(item.phrase)
    label = _label(_headless(row_label))
    if label == _label(item.phrase) or (item.label and label == _label(item.label)):
        return 1.0
    if label in names or label in _row_names(names):
        return 0.95
    own = _stems(_headless(row_label))
    if own == _stems(_headless(item.phrase)) or own in _name_stems(names):
        return 0.95  # "Total revenue" for "total revenues", or for "net revenues" (a name in the plural)
    if _other_item(label, names):
        return 0.0
    # the words of the row's own heading ("Current liabilities" > "Term debt"), not of the
    # headings above it: a statement's sections nest, and its far headings qualify every row
    parents = _stems(_headless(row.path[-2])) if len(row.path) > 1 else frozenset()
    if _member_of_measure(_stems(_headless(item.phrase)), own, parents | _stems(getattr(row, "caption", "") or "")):
        return 0.8  # "Mac net sales": the row "Mac" of a table headed "Net sales by category"
    best = 0.0
    for name in names | {_headless(item.phrase)}:
        want = _stems(name)
        if len(want) < 2 or not want & own or not want <= own | parents:
            continue  # one word ("debt", "revenue") is matched whole: "Long-term debt" is not total debt
        best = max(best, 0.9 - 0.1 * len(own - want) - 0.15 * len(want - own))
    return max(best, 0.0)


# "... attributable to Clorox", "... attributable to common stockholders": the parent's share
_TO_PARENT = re.compile(r"\s+attributable\s+to\s+(?!non[\s-]?controlling|minority|redeemable|participating)"
                        r"[\w\s.,&'’-]{2,60}$", re.I)
_MAIN = ("income", "balance", "cash_flow")
# a row's label names the item: every word of a name, at most two words more ("Operating income
# (loss)"); three more is another line ("Net income attributable to noncontrolling interests")
MIN_LABEL = 0.7


def candidates(item: Item, rows, period: Period, statement: str | None = None, n: int = 2,
               segment: str | None = None, rates: bool = False) -> list[tuple[float, Row, Cell]]:
    """The rows that could hold `item` for `period`, best first, each with its cell for the period:
    the label's fit, then the statement the item is read from (the definition's, else the line
    item's, else the question's), then a statement over another table, then the period's fit. A
    segment asked: its row of a table whose columns are segments ("Net sales" > "International")
    names the item by its measure."""
    # an average is of balances ("average trade receivables"): the balance sheet's row, not the cash
    # flow statement's change in it
    want = _statement_of(item) or ("balance" if item.average else None) or statement
    out = []
    for r in rows:
        if r.unit not in ("USD", "USD/share", "", *(("%",) if rates else ())) or not r.cells:
            continue  # (a rate row, "Effective tax rate 14.7 %", only where two rates are set side by side)
        if item.statement and r.statement != item.statement and r.statement in _MAIN:
            continue  # the definition names the statement: "trade receivables (balance sheet)", not the cash flows'
        # change in them (a table whose title was not read, "other", may still be that statement)
        if want == "balance" and r.statement == "cash_flow" and not item.change:
            continue  # a balance ("inventories", an average of one) is never the cash flow statement's change in it
        s = label_score(item, r)
        if segment and len(r.path) > 1 and _stems(segment) == _stems(r.label):
            s = max(s, label_score(item, dataclasses.replace(r, path=r.path[:-1])))
        if s < MIN_LABEL:
            continue
        cell, fit = _cell(r, period)
        if cell is None:
            continue
        # two names of the item, one the total ("Net sales" and "Total revenues" for net revenues):
        # the total is the measure, the other its part
        score = s + 0.3 * (want is not None and r.statement == want) + 0.1 * (r.statement in _MAIN) \
            + 0.1 * (r.unit == "USD") + 0.2 * fit + 0.01 * bool(re.match(r"\s*total\b", r.label, re.I))
        out.append((score, r, cell))
    out.sort(key=lambda x: (-x[0], x[1].source, x[1].page or 0, x[1].start))
    return out[:n]


def _cell(row: Row, period: Period) -> tuple[Cell | None, float]:
    """The row's cell for the period: the best fit, when one value has it."""
    # a column dated the day asked fits better than one named by its year alone
    # a quarter is not computed from a column whose span is unknown: a 10-K's "2019" is the year
    fits = [(period_fit(c.period, period) + 0.01 * _same_day(c.period, period), c) for c in row.cells
            if (c.value is not None or _DASH.match(c.text)) and (not c.percent or row.unit == "%") and
            not (period.quarter and not c.period.months and not c.period.instant)]
    top = max((f for f, _ in fits), default=0.0)
    if top <= 0.2:
        return None, 0.0
    top_fit = min(top, 1.0)
    best = [c for f, c in fits if f == top]
    if len({c.value for c in best}) > 1:
        return None, 0.0  # two columns fit alike (a quarter and nine months ending the same day)
    return best[0], top_fit


def _same_day(column, asked: Period) -> bool:
    return bool(column.end and asked.end and column.end == asked.end.isoformat())


def resolve(p: Plan, rows, statement: str | None = None, segment: str | None = None) -> tuple[dict, list[Missing]]:
    """Each (item, period) of the plan's formula -> its Operand, from one document: the one whose
    rows name every item best. ({}, what is missing) when no document holds them all. A segment
    asked: only rows naming it, where there are any."""
    wanted = needs(p)
    rows = segment_rows(rows, segment)
    by_source: dict[str, list[Row]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(r)
    best: tuple[float, dict] | None = None
    missing: list[Missing] = []
    for own in by_source.values():
        got, total, lacking = {}, 0.0, []
        for item, period in wanted:
            found = candidates(item, own, period, statement, segment=segment, rates=p.verdict == "versus")
            if not found:
                lacking.append(Missing(item.phrase, period.text or "", "no table row with a figure for the period"))
                continue
            if len(found) > 1 and found[1][0] >= found[0][0] - 1e-9 and found[1][2].value != found[0][2].value:
                lacking.append(Missing(item.phrase, period.text or "", f"two rows fit alike ({found[0][1].label!r} "
                                                                       f"and {found[1][1].label!r})"))
                continue
            score, row, cell = found[0]
            as_amount = _is_outflow(item, row) or _is_deducted_expense(item, row)
            value = 0.0 if cell.value is None else abs(cell.value) if as_amount else cell.value  # "—": nil
            got[(item, period)] = Operand(row.label, item.phrase, value * (row.scale or 1), cell.text,
                                          cell.period.label, row.source, row.page, row, cell)
            total += score
        if lacking:
            if not missing or len(lacking) < len(missing):
                missing = lacking
            continue
        if best is None or total > best[0]:
            best = (total, got)
    return (best[1], []) if best else ({}, missing)


def _without(node, phrases: set[str]):
    """A formula with the items named in `phrases` left out of its sums; None when one is not a
    term of a sum (a divisor, a factor) or nothing would be left."""
    if isinstance(node, Item):
        return None if node.phrase in phrases else node
    if not isinstance(node, Op):
        return node
    left, right = _without(node.left, phrases), _without(node.right, phrases)
    if left is not None and right is not None:
        return Op(node.op, left, right)
    if node.op == "+" and (left or right) is not None:
        return left if left is not None else right
    return None


def needs(p: Plan) -> list[tuple[Item, Period]]:
    out = []
    for period in p.periods:
        for item in items_of(p.formula):
            out.append((item, period))
            if item.average or item.change:
                out.append((item, shift(period, -1)))
    return list(dict.fromkeys(out))


# --- the result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computation:
    """A figure computed from cited cells: `expression` is the arithmetic over the operands
    (o1, o2, ... in order), `shown` the result as the answer writes it; `steps` the figures
    between (each period's ratio, for a change or an average), also shown and checked."""

    metric: str
    formula: str  # in words: "gross profit / total revenue"
    expression: str  # over the operands: "o1 / o2 * 100"
    result: float
    shown: str  # "87.70%"
    rounding: int
    unit: str  # "%", "pp", "x", "days", "USD"
    operands: tuple[Operand, ...]
    steps: tuple[tuple[str, str], ...] = ()  # (expression, shown)
    checked: bool = False
    mode: str = "level"
    periods: tuple[str, ...] = ()  # as the answer names them: "FY2022", "the balance at May 31, 2022"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "formula": self.formula, "expression": self.expression, "result": self.result,
                "shown": self.shown, "rounding": self.rounding, "unit": self.unit, "mode": self.mode,
                "operands": [o.to_dict() for o in self.operands],
                "steps": [{"expression": e, "shown": s} for e, s in self.steps], "checked": self.checked,
                "periods": list(self.periods)}


def _expression(node, period: Period, names: list) -> str:
    """The formula for one period, over operand names o1, o2, ... (appended to `names` as met)."""
    if isinstance(node, Num):
        return f"{node.value:g}"
    if isinstance(node, Item):
        def var(per):
            key = (node, per)
            if key not in names:
                names.append(key)
            return f"o{names.index(key) + 1}"
        if node.average:
            return f"(({var(period)} + {var(shift(period, -1))}) / 2)"
        if node.change:
            return f"({var(period)} - {var(shift(period, -1))})"
        return var(period)
    return f"({_expression(node.left, period, names)} {node.op} {_expression(node.right, period, names)})"


def evaluate(expression: str, values: list[float]) -> float:
    """An expression over o1..on, + - * / and numbers only (parsed, never eval'd)."""
    env = {f"o{i}": v for i, v in enumerate(values, 1)}

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.BinOp) and type(n.op) in _AST_OPS:
            return _AST_OPS[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.Name) and n.id in env:
            return env[n.id]
        raise ValueError(f"not arithmetic over the operands: {ast.dump(n)[:80]}")

    return ev(ast.parse(expression, mode="eval"))


_AST_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def compute(p: Plan, operands: dict) -> Computation | None:
    """The plan's figure from its resolved operands; None when the arithmetic cannot be done (a
    division by zero)."""
    names: list = []
    raw = [_expression(p.formula, period, names) for period in p.periods]
    ops = [operands[k] for k in names]
    values = [o.value for o in ops]
    kind = p.result
    per = [f"{e} * 100" for e in raw] if kind == "percent" else raw
    decimals = p.decimals if p.decimals is not None or kind == "amount" else 2
    unit = {"percent": "%", "ratio": "x", "days": "days", "amount": "USD"}[kind]
    steps: tuple = ()
    if p.mode == "level":
        expression = per[0]
        if p.verdict in ("covers", "exceeds", "versus"):  # each side shown: "110,543 against 92,575"
            steps = tuple(_expression(side, p.periods[0], names) for side in (p.formula.left, p.formula.right))
    elif p.mode == "change":
        expression = f"{per[1]} - {per[0]}"
        steps = tuple(per)
        unit = "pp" if kind == "percent" else unit
    elif p.mode == "growth":
        expression = f"({raw[1]} - {raw[0]}) / {raw[0]} * 100"
        kind, unit = "percent", "%"
        decimals = 2 if p.decimals is None else p.decimals
    else:  # mean
        expression = "(" + " + ".join(per) + f") / {len(per)}"
        steps = tuple(per)
    rates = bool(ops) and all(o.row.unit == "%" for o in ops)
    if rates:  # two rates set side by side: each as printed, their gap in percentage points
        step_kind, kind, unit = "percent", "percent", "pp"
        decimals = _amount_decimals(ops)
    else:
        step_kind = p.result
    try:
        result = evaluate(expression, values)
        shown_steps = tuple((e, _show(evaluate(e, values), step_kind, decimals, ops, scale=p.scale)) for e in steps)
    except ZeroDivisionError:
        return None
    shown = _show(result, kind, decimals, ops, pp=unit == "pp", scale=p.scale)
    return Computation(p.metric, render(p.formula), expression, result, shown,
                       decimals if decimals is not None else _amount_decimals(ops), unit, tuple(ops), shown_steps,
                       mode=p.mode, periods=tuple(_period_label(x) for x in p.periods))


def _amount_decimals(ops) -> int:
    """The most decimals an operand is printed with: "1,234.5" -> 1, "14.7 %" -> 1, "(758)" -> 0."""
    return max((len(m.group(1)) if (m := re.search(r"\.(\d+)", o.text)) else 0 for o in ops), default=0)


_SCALE_WORD = {1e3: "thousand", 1e6: "million", 1e9: "billion"}


def _show(value: float, kind: str, decimals: int | None, ops, pp: bool = False, scale: float | None = None) -> str:
    if kind == "percent":
        return f"{value:,.{2 if decimals is None else decimals}f}" + (" percentage points" if pp else "%")
    if kind == "ratio":
        return f"{value:,.{2 if decimals is None else decimals}f}"
    if kind == "days":
        return f"{value:,.{2 if decimals is None else decimals}f} days"
    printed = min((o.row.scale for o in ops if o.row.scale), default=1.0)
    d = _amount_decimals(ops) if decimals is None else decimals
    if scale and scale > printed and decimals is None:
        d = 2  # millions asked in billions: the digits kept
    scale = scale or printed
    amount = f"{abs(value) / scale:,.{d}f}"
    word = _SCALE_WORD.get(scale)
    return f"{'-' if value < 0 else ''}${amount}" + (f" {word}" if word else "")


# --- checking --------------------------------------------------------------------------------------

def _shown_value(shown: str) -> tuple[float, int] | None:
    """A shown figure's value (in units: "$3,501 million" -> 3.501e9) and its decimals."""
    m = re.search(r"(-)?\$?([\d,]+(?:\.(\d+))?)(?:\s+(thousand|million|billion))?", shown)
    if not m:
        return None
    v = float(m.group(2).replace(",", "")) * (-1 if m.group(1) else 1)
    scale = {"thousand": 1e3, "million": 1e6, "billion": 1e9}.get(m.group(4) or "", 1.0)
    return v * scale, len(m.group(3) or "")


def recheck(c: dict, quotes: dict[int, str]) -> bool:
    """Whether a computation (as `Computation.to_dict` gives it) holds when done again from the
    answer's own citations: each operand's printed cell is in the quote it cites and reads as
    its value; the expression over those values, rounded as shown, gives the result and each
    step shown."""
    values = []
    for o in c["operands"]:
        quote = quotes.get(o["citation"], "")
        if not o["citation"] or not re.search(rf"(?<![\d,.]){re.escape(o['text'])}(?![\d,])", quote):
            return False
        v = 0.0 if _DASH.match(o["text"]) else parse_value(o["text"].replace("$", ""))
        if v is None or abs(abs(v) * o["scale"] - abs(o["value"])) > 1e-6 * max(1.0, abs(o["value"])):
            return False
        values.append(o["value"])
    try:
        for expression, shown in [(c["expression"], c["shown"])] + [(s["expression"], s["shown"]) for s in c["steps"]]:
            got = evaluate(expression, values)
            want = _shown_value(shown)
            if want is None:
                return False
            value, decimals = want
            unit = value / float(re.search(r"[\d,]+(?:\.\d+)?", shown).group(0).replace(",", "") or 1) \
                if value else 1.0
            if abs(got - value) > 0.5 * 10 ** -decimals * abs(unit) + 1e-9 * max(1.0, abs(got)):
                return False
    except (ValueError, ZeroDivisionError, KeyError):
        return False
    return True


def derived_numbers(c: dict) -> set[str]:
    """The figures an answer may state beside its quotes' because the computation produced them:
    the result, each step, the formula's constants ("/ 2", "* 365") and the periods it names."""
    from rag.cite import figures

    out = set()
    for text in [c["shown"], *(s["shown"] for s in c["steps"]), *c.get("periods", ())]:
        out |= figures(text)
    out |= figures(" ".join(re.findall(r"(?<![o\d.])\d+(?:\.\d+)?", c["expression"])))
    return out


# --- the answer ------------------------------------------------------------------------------------

def rows_of(hits) -> list[Row]:
    """The table rows of the retrieved passages, each once, in the passages' order."""
    seen, out = set(), []
    for h in hits:
        for r in h.rows:
            key = (r.source, r.page, r.start, r.path)  # a member table's rows share their span
            if key not in seen:
                seen.add(key)
                out.append(r)
    return out


def answer(query, hits):
    """The computed answer to a question that asks a metric: the result first, then the arithmetic
    with each operand cited by its row; or, when an operand is missing or could be either of two
    rows, an abstention that says which; None when the question asks no computation.

    "Fixed asset turnover, FY2023: 6.26 = total revenues 611,289 [1] / average property and
    equipment, net (100,760 + 94,515) / 2 [2]"."""
    from rag.answerers import abstain
    from rag.cite import Answer

    p = plan(query)
    if p is None:
        return None
    company = set((company_of(query) or "").lower().split())
    unknown = [n for n in query.unknown_names if set(n.lower().split()) & company]
    if unknown:  # the company asked about is in no document ("DSO", "COGS" unknown are the metric's words)
        return dataclasses.replace(abstain(query.text), text=f"The documents don't say: none of them names "
                                   f"{', '.join(unknown)}, so {p.metric} is not computed.")
    named = _naming_sources(query, hits)
    segment = segment_of(p, query)
    rows = [r for r in rows_of(hits) if r.source in named]
    operands, missing = resolve(p, rows, query.statement, segment)
    if not operands and missing and p.optional and {m.item for m in missing} <= p.optional and \
            (lean := _without(p.formula, {m.item for m in missing})) is not None:
        # "(cash + short-term investments + receivables) / current liabilities" of a company with no
        # short-term investments: the formula without them, the answer saying so
        p = dataclasses.replace(p, formula=lean, dropped=tuple(dict.fromkeys(m.item for m in missing)))
        operands, missing = resolve(p, rows, query.statement, segment)
    if not operands:
        return _missing_answer(query, p, missing)
    if segment and not all(_names_segment(o.row, segment) for o in operands.values()):
        # "the International segment's pre-tax margin": the consolidated rows are not the segment's
        return dataclasses.replace(abstain(query.text), text=f"The documents don't say: no figures of the {segment} "
                                   f"segment were found to compute its {p.metric} from.")
    c = compute(p, operands)
    if c is None:
        return dataclasses.replace(abstain(query.text), notice=f"{_title(p.metric)} cannot be computed: a divisor is zero")
    c, citations = cite_and_check(c, hits)
    if not c.checked:
        return dataclasses.replace(abstain(query.text), notice=f"{_title(p.metric)} was computed but did not check "
                                                               "against its cited figures, so it is not shown")
    return Answer(query.text, _text(p, c), tuple(citations), abstained=False, computation=c.to_dict())


def cite_and_check(c: Computation, hits) -> tuple[Computation, list]:
    """The computation with each operand numbered by the row it was read from (one citation per
    row, quoting the row), and checked again from those quotes."""
    from rag.cite import Citation

    citations: list[Citation] = []
    numbered: dict[tuple, int] = {}
    ops = []
    for o in c.operands:
        key = (o.row.source, o.row.page, o.row.start)
        if key not in numbered:
            hit = _hit_of(hits, o.row)
            chunk = hit.chunk
            numbered[key] = len(citations) + 1
            citations.append(Citation.of_chunk(numbered[key], chunk, o.row.start - chunk.start, o.row.end - chunk.start,
                                               hit.score))
        ops.append(dataclasses.replace(o, citation=numbered[key]))
    c = dataclasses.replace(c, operands=tuple(ops))
    return dataclasses.replace(c, checked=recheck(c.to_dict(), {ct.n: ct.quote for ct in citations})), citations


# "the International segment's", "Amazon's AWS reportable segment": the segment a question is about
_SEGMENT = re.compile(r"\b((?:[A-Z][\w&'’.-]*\s+){0,3}[A-Z][\w&'’.-]*)\s+(?:(?:reportable|operating|business)\s+)?"
                      r"segment\b")


def segment_asked(text: str) -> str | None:
    """The segment the question names ("International" of "the International segment's pre-tax
    margin"), without a company's possessive before it; None when it names none."""
    m = _SEGMENT.search(text)
    if not m:
        return None
    name = re.split(r"['’]s\s+", m.group(1))[-1].strip()
    name = re.sub(r"^(?:The|Its|Their|Each|Which|What|Our)\s+", "", name)
    return name if name and name[0].isupper() and name.lower() not in ("the", "each", "which", "what") else None


def segment_of(p: Plan, query) -> str | None:
    """The segment whose figures the plan is computed from ("the International segment's margin");
    None for a share of a whole, whose numerator is the segment's part and denominator the whole."""
    return None if p.share else segment_asked(query.text)


def segment_rows(rows: list[Row], segment: str | None) -> list[Row]:
    """The rows that name the segment asked, where there are any (else all: the answer then says
    no figures of the segment were found)."""
    own = [r for r in rows if _names_segment(r, segment)] if segment else []
    return own or rows


def _names_segment(row: Row, segment: str) -> bool:
    """Whether a row is the segment's: its label, its parents, its table's caption name it."""
    from rag.extractive.terms import stems_of

    want = set(stems_of(segment))
    return want <= set(stems_of(" ".join([*row.path, row.caption or ""])))


_POSSESSIVE = re.compile(r"\b([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})['’]s\b")


def company_of(query) -> str | None:
    """The company the question is about: as the framing reads it, else the first name with a
    possessive in the question as asked ("Using Intel's consolidated balance sheet, ...")."""
    if query.framing is not None and query.framing.company:
        return query.framing.company
    m = _POSSESSIVE.search(query.asked or query.text)
    return m.group(1) if m else None


def _naming_sources(query, hits) -> set[str]:
    """The documents among the passages that name the company the question asks about, in their
    file name, title or retrieved text: a metric of Tesla is not computed from Adobe's
    statements. (The company only: the other names a question holds are often the metric's own,
    "DPO", "COGS".)"""
    from rag.extractive.terms import file_stems, stems_of

    company = company_of(query)
    want = set(stems_of(company)) if company else set()
    words: dict[str, set[str]] = {}
    for h in hits:
        # "Home Depot" names HOMEDEPOT_FY2019_10K.htm, "Coca-Cola" COCACOLA_2022_10K.pdf: a company's
        # words a file name writes as one, as the answerer reads them (file_stems)
        own = words.setdefault(h.chunk.source, set(file_stems(company or "", h.chunk.file_name)) |
                               set(stems_of(h.chunk.title)))
        own |= set(stems_of(h.chunk.text))
    return {s for s, own in words.items() if not want or want & own}


def _hit_of(hits, row: Row):
    return next(h for h in hits if h.chunk.source == row.source and (h.chunk.page or 0) == (row.page or 0)
                and h.chunk.start <= row.start and row.end <= h.chunk.end)


def _title(metric: str) -> str:
    return metric[:1].upper() + metric[1:]


def _missing_answer(query, p: Plan, missing: list[Missing]):
    from rag.answerers import abstain

    parts = "; ".join(f"{m.item} ({m.period}): {m.why}" for m in missing[:3]) or "no statement figures were found"
    return dataclasses.replace(abstain(query.text), text=f"The documents don't give every figure needed to compute "
                               f"{p.metric} ({render(p.formula)}), so it is not computed. Missing: {parts}.")


def _operand_text(node, period: Period, index: dict) -> str:
    if isinstance(node, Num):
        return f"{node.value:g}"
    if isinstance(node, Item):
        o = index[(node, period)]
        if node.average or node.change:
            prior = index[(node, shift(period, -1))]
            marks = "".join(f"[{n}]" for n in dict.fromkeys([o.citation, prior.citation]))
            if node.change:
                return f"change in {node.phrase} ({o.text} - {prior.text}) {marks}"
            return f"average {node.phrase} ({o.text} + {prior.text}) / 2 {marks}"
        return f"{node.phrase} {o.text} [{o.citation}]"
    left, right = _operand_text(node.left, period, index), _operand_text(node.right, period, index)
    if node.op in "*/":  # "(short-term debt 4,367 [1] + debt 37,684 [2]) / equity ...": the sum first
        left = f"({left})" if isinstance(node.left, Op) and node.left.op in "+-" else left
        right = f"({right})" if isinstance(node.right, Op) else right
    elif node.op == "-" and isinstance(node.right, Op) and node.right.op in "+-":
        right = f"({right})"
    return f"{left} {node.op} {right}"


def _text(p: Plan, c: Computation) -> str:
    """The answer: the result first ("Gross margin, FY2022: 87.70%"), then the arithmetic of each
    period with every operand cited."""
    names: list = []
    for period in p.periods:
        _expression(p.formula, period, names)
    index = dict(zip(names, c.operands))

    def arithmetic(period):
        return _operand_text(p.formula, period, index)

    def each_period():  # the later period's arithmetic, then the earlier's, one line each
        return "\n".join(f"{_period_label(per)}: {arithmetic(per)}" for per in reversed(p.periods))

    title = _title(p.metric)
    if p.verdict == "versus":
        first, second = render(p.formula.left), render(p.formula.right)
        side = "above" if c.result > 0 else "below" if c.result < 0 else "level with"
        (_, a), (_, b) = c.steps
        at = p.periods[0]
        gap = f", by {c.shown.lstrip('-')}" if c.result else ""
        return (f"{side.capitalize()}: {first} ({a}) was {side} {second} ({b}) in {_period_label(at)}{gap}.\n"
                f"{_title(first)}: {_operand_text(p.formula.left, at, index)}\n"
                f"{_title(second)}: {_operand_text(p.formula.right, at, index)}")
    if p.verdict in ("covers", "exceeds"):
        holds = c.result >= 0 if p.verdict == "covers" else c.result > 0
        first, second = render(p.formula.left), render(p.formula.right)
        verb = ("covered" if holds else "did not cover") if p.verdict == "covers" else \
            ("exceeded" if holds else "did not exceed")
        (_, a), (_, b) = c.steps
        margin = f"a surplus of {c.shown.lstrip('-')}" if c.result >= 0 else f"a shortfall of {c.shown.lstrip('-')}"
        at = p.periods[0]
        return (f"{'Yes' if holds else 'No'}: {first} ({a}) {verb} {second} ({b}) in {_period_label(at)}, {margin}.\n"
                f"{_title(first)}: {_operand_text(p.formula.left, at, index)}\n"
                f"{_title(second)}: {_operand_text(p.formula.right, at, index)}")
    if p.verdict in ("positive", "negative"):
        holds = c.result > 0 if p.verdict == "positive" else c.result < 0
        sign = "positive" if c.result > 0 else "negative (a deficit)" if c.result < 0 else "zero"
        return (f"{'Yes' if holds else 'No'}: {p.metric} was {sign}. {title}, {_period_label(p.periods[0])}: "
                f"{c.shown} = {arithmetic(p.periods[0])}")
    if p.verdict in ("up", "down"):
        holds = c.result > 0 if p.verdict == "up" else c.result < 0
        moved = "rose" if c.result > 0 else "fell" if c.result < 0 else "did not change"
        before, after = (s for _, s in c.steps)
        return (f"{'Yes' if holds else 'No'}: {p.metric} {moved} by {c.shown.lstrip('-')}, from {before} in "
                f"{_period_label(p.periods[0])} to {after} in {_period_label(p.periods[1])}.\n{each_period()}")
    if p.mode == "level":
        absent = f" ({', '.join(p.dropped)}: none in the statements)" if p.dropped else ""
        return f"{title}, {_period_label(p.periods[0])}: {c.shown} = {arithmetic(p.periods[0])}{absent}"
    if p.mode == "growth":
        direction = "up" if c.result >= 0 else "down"
        return (f"{title}, {_period_label(p.periods[1])} over {_period_label(p.periods[0])}: {c.shown} ({direction}): "
                f"{_period_label(p.periods[1])}: {arithmetic(p.periods[1])}; "
                f"{_period_label(p.periods[0])}: {arithmetic(p.periods[0])}")
    if p.mode == "change":
        direction = "an increase" if c.result > 0 else "a decrease" if c.result < 0 else "no change"
        before, after = (s for _, s in c.steps)
        return (f"{title} changed by {c.shown} ({direction}) from {_period_label(p.periods[0])} to "
                f"{_period_label(p.periods[1])}: {before} to {after}.\n{each_period()}")
    lines = [f"{title}, average of {_period_label(p.periods[0])} to {_period_label(p.periods[-1])}: {c.shown} "
             f"(the mean of {', '.join(s for _, s in c.steps)})."]
    lines += [f"{_period_label(per)}: {arithmetic(per)}" for per in p.periods]
    return "\n".join(lines)


def _period_label(p: Period) -> str:
    if p.quarter and p.year:
        return f"Q{p.quarter} FY{p.year}"
    if p.instant and p.end is not None:
        return f"the balance at {p.end.strftime('%B %-d, %Y')}"
    if (span := _span_ended(p)) is not None:
        return span
    if p.year:
        return f"FY{p.year}"
    return p.text


_SPANS = {3: "the quarter", 6: "the six months", 9: "the nine months"}


def _span_ended(p: Period) -> str | None:
    """A span shorter than a year named by its end: "the quarter ended March 31, 2022" (not "FY2022",
    which is a year)."""
    if p.end is None or p.instant or p.months not in _SPANS:
        return None
    return f"{_SPANS[p.months]} ended {p.end.strftime('%B %-d, %Y')}"
