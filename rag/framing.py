"""How a question is framed, read out of it: the statement to use, the unit and rounding wanted,
the period asked about, a definition of the measure and the company, with the question itself
left over. Analysts wrap a question in boilerplate ("Assume that you are a public equities
analyst. Answer the following question by primarily using information that is shown in the cash
flow statement. ... Round your answer to two decimal places."): those words dilute retrieval (a
passage is scored on "analyst", "answer", "decimal") and answer scoring, yet they carry what the
answer must look like. `frame` separates the two, by grammar (imperative sentences, unit and
rounding clauses, parenthetical restatements of the period), not by lists of known phrasings.
Deterministic, pure Python, no model."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass


def _lowered(pattern: str, flags: int = 0) -> re.Pattern:
    """`pattern` compiled to match lower-cased text (see `_lower`): its letters lower-cased and no
    IGNORECASE, which makes the expressions that scan whole sentences about twice as fast."""
    if re.search(r"\\[A-Z]", pattern):
        raise ValueError("an upper-case escape (\\S, \\W...) would change its meaning once lower-cased")
    return re.compile(pattern.lower().replace("(?p<", "(?P<"), flags & ~re.I)


def _lower(text: str) -> str:
    """`text` lower-cased letter by letter, so that offsets in it are offsets in `text`."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


@dataclass(frozen=True)
class Period:
    year: int | None = None  # the fiscal year ("FY23" -> 2023), else the end date's year
    quarter: int | None = None
    months: int | None = None  # the length: 3 for a quarter, 12 for a fiscal year; None for a balance date
    end: datetime.date | None = None
    instant: bool = False  # a balance date: "as of May 31, 2022", "at the end of FY2022"
    text: str = ""  # the words it was read from, as typed


@dataclass(frozen=True)
class Framing:
    question: str  # the question itself, preambles and answer instructions removed
    instructions: tuple[str, ...] = ()  # what was removed, as typed, in order
    statement: str | None = None  # income | balance | cash_flow | equity | segment | comprehensive
    unit: str | None = None  # millions | billions | thousands | trillions | percent | ratio | days | per_share
    currency: str | None = None  # USD, RMB, EUR ...
    decimals: int | None = None
    period: Period | None = None
    definition: str | None = None  # "gross profit divided by total revenue"
    company: str | None = None


# --- sentences and their roles ----------------------------------------------------------------

# A full stop ends a sentence unless it ends an abbreviation ("U.S.", "i.e.", "Inc.") or the next
# word is in lower case; "?" and "!" always end one.
_SENT_BREAK = re.compile(r"[.?!][.?!]*[\"'’”)\]]*\s+")
_ABBREV = re.compile(r"(?:^|[\s(])(?:(?:[A-Za-z]\.)+[A-Za-z]?|inc|corp|co|ltd|llc|no|nos|vs|mr|mrs|ms|dr|st|jr|sr|"
                     r"approx|fig|e\.g|i\.e|cf|al|dept|intl)\.$", re.I)
# Verbs that tell the answerer how to answer ("Answer using...", "Round to...", "Use the balance
# sheet.", "Please express it as..."): a sentence opening with one, not itself asked, is an instruction
_HOW = (r"assume|answer|use|utili[sz]e|address|express|round|give|provide|report|base|refer|rely|consider|show|"
        r"state|respond|reply|define|support|format|include|exclude|ignore|note|cite|keep|limit|treat|take|"
        r"focus|be|only|ensure|make\s+sure|imagine|pretend|act|write|draw|look|specify|quote|do\s+not|"
        r"don['’]t|never|avoid|let['’]s|let\s+us|think|restrict|stick|work\s+from")
_INSTRUCTION = re.compile(rf"^\W*(?:(?:please|kindly)\s+)?(?:{_HOW})(?![\w-])", re.I)
# A sentence that only says the answer's form: "Two decimals.", "USD millions."
_FORM_ONLY = re.compile(r"^\W*(?:(?:in|to)\s+)?(?:(?:one|two|three|four|\d)[\s-]+decimals?(?:\s+places?)?|"
                        r"(?:usd|us\$|\$)\s*(?:millions?|billions?|thousands?|mm|m|bn|b)|(?:millions?|billions?)\s+of\s+"
                        r"(?:usd|dollars))\W*$", re.I)
# "Calculate X." asks for X unless another sentence asks the question: then it says how
_ASK_VERBS = r"calculate|compute|find|determine|derive|estimate|work\s+out|figure\s+out|identify|list|tell\s+me"
_ASK = re.compile(rf"^\W*(?:(?:please|kindly)\s+)?(?:{_ASK_VERBS})\b", re.I)
# The verbs of an instruction that is a request for the figure ("Report X's revenue."): the
# question when no sentence asks one
_REQUEST = re.compile(r"^\W*(?:(?:please|kindly)\s+)?(?:give|provide|report|state|show|specify|quote)\b", re.I)
_ROLES = (r"analysts?|investors?|experts?|advis[eo]rs?|accountants?|bankers?|researchers?|professionals?|managers?|"
          r"consultants?|auditors?|assistants?|economists?|strategists?|traders?|specialists?|associates?|"
          r"cfas?|cpas?|officers?|controllers?|underwriters?")
# "You are an analyst.", "I am a portfolio manager at a hedge fund."
_ROLE_SENTENCE = re.compile(rf"^\W*(?:you\s+are|you['’]re|(?:i\s+am|i['’]m)\s+an?\s+(?:[\w&'’-]+\s+){{0,4}}?(?:{_ROLES})\b)",
                            re.I)


def _sentences(text: str) -> list[tuple[int, str]]:
    """The text's sentences, each with its offset."""
    out, start = [], 0
    for m in _SENT_BREAK.finditer(text):
        nxt = text[m.end():m.end() + 1]
        if "?" not in m.group(0) and "!" not in m.group(0):
            if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘(") or \
                    _ABBREV.search(text[max(start, m.start() - 12):m.start() + 1]):
                continue
        out.append((start, text[start:m.end()].rstrip()))
        start = m.end()
    if start < len(text):
        out.append((start, text[start:]))
    return out


def _roles(sents: list[tuple[int, str]]) -> list[bool]:
    """For each sentence, whether it is an instruction (True) or part of the question."""
    asked = any(s.rstrip().endswith("?") for _, s in sents)
    roles = []
    for _, s in sents:
        if s.rstrip().endswith("?"):
            roles.append(False)
        else:
            roles.append(bool(_INSTRUCTION.match(s) or _ROLE_SENTENCE.match(s) or (asked and _ASK.match(s))
                              or _FORM_ONLY.match(s)))
    if roles and all(roles):  # every sentence instructs: the last request (else the last sentence) asks
        pick = max((i for i, (_, s) in enumerate(sents) if _REQUEST.match(s) or _ASK.match(s)), default=len(sents) - 1)
        roles[pick] = False
    return roles


# --- clauses removed from the question ---------------------------------------------------------

# The documents an answer is to come from: "the income statement", "the 10-K", "the MD&A"; after
# "from", "in" or "per" only the unambiguous ones ("proceeds from the notes" names no document)
_SOURCE = r"statements?|sheets?|10-?K|10-?Q|filings?|annual\s+report|MD&A|(?:earnings|press)\s+release|financials|P&L"
_DOC = rf"{_SOURCE}|reports?|tables?|footnotes?|releases?|disclosures?|documents?|information|data\s+provided"
# Leading clauses: a role ("As a financial analyst, "), a source ("Using the income statement, ",
# "According to the 10-K, "), an instruction before a colon ("Answer in USD millions: ")
_LEAD = re.compile(
    rf"^\W*(?:(?:(?:as|acting\s+as|speaking\s+as)\s+an?\s+(?:[\w&'’-]+\s+){{0,5}}?(?:{_ROLES})\b[^,;:?]{{0,60}}|"
    rf"(?:you\s+are|you['’]re|assuming\s+(?:that\s+)?you\s+are)\s[^,;:?]{{1,120}}|"
    rf"(?:by\s+)?(?:(?:primarily|mainly|only|solely|strictly)\s+)?(?:using|based\s+(?:\w+\s+)?on|relying\s+(?:\w+\s+)?on|"
    rf"referring\s+to|with\s+reference\s+to|looking\s+at|drawing\s+on)\s+[^,;:?]{{0,100}}?\b(?:{_DOC})\b[^,;:?]{{0,40}}?|"
    rf"(?:according\s+to|from|per|in)\s+[^,;:?]{{0,100}}?\b(?:{_SOURCE})\b[^,;:?]{{0,40}}?)\s*[,;:]|"
    rf"(?:(?:please|kindly)\s+)?(?:{_HOW})(?![\w-])[^:?]{{0,200}}?:|question\s*:)\s*(?=\S)", re.I)
# An instruction joined to the question's end: "...; answer in USD millions.", "..., and express it
# as a percentage?" (verbs only about the answer's form: "and give the reason" asks for more)
_TRAIL_HOW = _lowered(r"[,;:–—]\s*(?:and\s+)?(?:(?:please|kindly)\s+)?(?:answer|round|express|use|respond|reply|base|"
                      r"rely|refer|address|assume)(?![\w-])[^;?]*?(?=\s*[?.!]?\s*$)")
# A trailing source clause: "..., using the cash flow statement?"; after "from", "in", "per" or
# "according to" only an unambiguous document
_SOURCE_VERB = _lowered(r"\b(?:and\s+)?(?:(?P<broad>(?:by\s+)?(?:(?:primarily|mainly|only|solely)\s+)?using|based\s+(?:\w+\s+)?on|"
                          r"referring\s+to)|according\s+to|from|per|in|as\s+(?:shown|reported)\s+in)\s")
_DOC_RX = _lowered(rf"\b(?:{_DOC})\b")
_SOURCE_RX = _lowered(rf"\b(?:{_SOURCE})\b")


def _trailing_source(low: str, dated) -> tuple[int, int] | None:
    """The span of a source clause that ends the (lower-cased) sentence, when it names a document
    and does not alone say the period. Looked for after the last comma or parenthesis only."""
    end = len(low.rstrip(" ?.!"))
    if low[:end].endswith(")") and (o := low.rfind("(", 0, end)) > 0 and ")" not in low[o:end - 1]:
        end = len(low[:o].rstrip())  # before a closing parenthesis: "... per the cash flow statement ($m)?"
    cut = max(low.rfind(",", 0, end), low.rfind("(", 0, end), low.rfind(")", 0, end)) + 1
    for m in _SOURCE_VERB.finditer(low, cut, end):
        rest = low[m.end():end]
        if (_DOC_RX if m.group("broad") else _SOURCE_RX).search(rest) and \
                (dated(0, m.start()) or not dated(m.start(), end)):
            return m.start(), end
    return None


_CUR = (r"US\s?\$|HK\$|NT\$|[CAS]\$|USD|U\.S\.\s+dollars?|US\s+dollars?|dollars?|RMB|CNY|yuan|renminbi|EUR|euros?|€|"
        r"GBP|pounds?\s+sterling|£|JPY|yen|¥|HKD|CAD|AUD|INR|rupees?|CHF|SGD|KRW|TWD|BRL|MXN|\$")
_SCALE = r"millions?|billions?|thousands?|trillions?"
# What a unit clause says: "USD millions", "$M", "millions of dollars", "$ in millions", "per share",
# "a percentage" (not "a percentage of revenue"), "a ratio", "days"
_UNIT_BODY = (rf"(?:(?:{_CUR})\s*(?:{_SCALE})(?:\s+per\s+share)?|(?:{_CUR})\s?(?:mm|mn|m|bn|b|k|tn)\b|"
              rf"(?:{_SCALE})(?:\s+of\s+(?:{_CUR}))?|(?:{_CUR})(?:\s+in\s+(?:{_SCALE}))?(?:\s+per\s+share)?|"
              r"per[\s-]share(?:\s+terms)?|percent(?:age)?(?:\s+(?:terms|points|form))?(?!\s+of\b)|"
              r"an?\s+percent(?:age)?(?!\s+of\b)|%|an?\s+ratio(?!\s+of\b)|ratio\s+form|an?\s+multiple|days)")
_UNIT_PREFIX = (r"(?:in|as|(?:expressed|stated|reported|given|shown|presented|denominated|measured|answered|provided)"
                r"\s+(?:in|as)|in\s+terms\s+of)")
_CLAUSE_END = r"(?=\s*(?:[?.!,;)]|$))"
# A unit read from what was removed: after a parenthesis or a comma ("(USD millions)", ", $M"), or after
# "in", "as", "expressed in"... ("Answer in USD millions.")
_UNIT_READ = _lowered(rf"[\s(,](?:(?<=[(,])\s*(?:{_UNIT_PREFIX}\s+)?|(?<=\s)\s*{_UNIT_PREFIX}\s+|(?<=^\s))"
                        rf"(?P<u>{_UNIT_BODY})(?![\w$])")
_NUMBERS = {"zero": 0, "no": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_PLACES = (r"(?P<n>zero|no|one|two|three|four|five|six|a\s+single|\d)[\s-]+(?:decimal(?:\s+(?:places?|points?|digits?))?s?|"
           r"d\.?p\.?(?!\w)|places?)")
_NEAREST = (r"nearest\s+(?P<near>whole\s+(?:number|percent(?:age)?(?:\s+point)?|dollar|unit)|integer|"
            r"percent(?:age)?(?:\s+point)?|(?:tenth|hundredth|thousandth)(?:\s+of\s+(?:a|one)\s+(?:percent(?:age)?"
            r"(?:\s+point)?|dollar|cent))?|cent|penny|dollar|million|billion|thousand)")
# A unit clause ("in USD millions", ", USD millions", "expressed as a percentage") or a rounding
# clause ("rounded to two decimal places", "round your answer to one decimal", "to the nearest
# whole number"), up to the clause's end
_CURRENCY_SCALE = (rf"(?:{_CUR})\s*(?:{_SCALE})|(?:{_CUR})\s?(?:mm|mn|m|bn|b)\b|(?:{_SCALE})\s+of\s+(?:{_CUR})|"
                   rf"(?:{_CUR})\s+in\s+(?:{_SCALE})")
_CLAUSE = _lowered(
    rf"[\s,;–—]\s*(?:[,;–—]\s*)?(?:in\s+(?:{_CURRENCY_SCALE})(?![\w$])|{_UNIT_PREFIX}\s+{_UNIT_BODY}{_CLAUSE_END}|"
    rf"(?:(?<=,)|(?<=,\s))(?:(?:{_CUR})\s*(?:{_SCALE})|(?:{_CUR})\s?(?:mm|mn|m|bn|b)\b){_CLAUSE_END}|"
    rf"(?:and\s+)?(?:(?:please\s+)?(?:round(?:ed|ing)?(?:\s+(?:off|up|down))?|expressed|given|stated)\s+)?"
    rf"(?:(?:your|the)\s+(?:answer|result|figure|value|number|ratio|percentage)\s+|it\s+)?(?:to|at)\s+"
    rf"(?:the\s+)?(?:{_PLACES}|{_NEAREST}){_CLAUSE_END})")
_DECIMALS = _lowered(rf"[\s(](?:(?:to|at|with|in)\s+(?:the\s+)?(?:{_PLACES}|{_NEAREST})|(?P<dp>\d)\s?dp\b|"
                       r"(?:as\s+an?|in)\s+(?P<whole>whole\s+numbers?|integers?)\b|"
                       # a bare count of decimals, a clause of its own: ", two decimals."
                       r"(?<=[,;:]\s)(?P<bare>one|two|three|four|\d)[\s-]+decimals?(?:\s+places?)?(?=\s*(?:[.?!,;)]|$)))")
_UNIT_BARE = _lowered(rf"^\s*(?:{_UNIT_PREFIX}\s+)?{_UNIT_BODY}")
_PAREN = re.compile(r"\(([^()]*)\)")


def _has(text: str, hints: tuple[str, ...]) -> bool:
    """Whether lower-cased `text` holds one of `hints`: a cheap test before a costly expression."""
    for h in hints:
        if h in text:
            return True
    return False


# The words a unit, a rounding, a definition or a source clause cannot lack
_UNIT_HINTS = ("million", "billion", "thousand", "trillion", "$", "usd", "dollar", "rmb", "cny", "yuan", "renminbi", "eur",
               "€", "gbp", "pound", "£", "jpy", "yen", "¥", "hkd", "cad", "aud", "inr", "rupee", "chf", "sgd", "krw",
               "twd", "brl", "mxn", "percent", "%", "ratio", "multiple", "day", "per share", "per-share")
_ROUND_HINTS = ("decimal", "nearest", "dp", "d.p", "place", "whole", "integer")
_DEF_HINTS = ("ed as ", "i.e", "that is,", "where ", "taking ", "using ")  # a definition set off as a clause
_INLINE_HINTS = ("ed as ", "calculat", "comput", "determin", "deriv", "estimat", "define")  # one inside a clause
_DOC_HINTS = ("statement", "sheet", "10-k", "10k", "10-q", "10q", "filing", "report", "md&a", "release", "financials",
              "p&l", "table", "footnote", "disclosure", "document", "information", "data provided")


def _unit_spans(low: str, take) -> None:
    """Remove unit and rounding clauses from a lower-cased sentence, and parentheses that hold
    only such a clause or an instruction ("(in USD millions)", "(round to one decimal)")."""
    units, rounding = _has(low, _UNIT_HINTS), _has(low, _ROUND_HINTS)
    if not (units or rounding or "(" in low):
        return
    for m in _PAREN.finditer(low):
        inner = bare = m.group(1)
        if _has(inner, _UNIT_HINTS) or _has(inner, _ROUND_HINTS):
            bare = _UNIT_BARE.sub("", _CLAUSE.sub("", " " + inner))
        if not bare.strip(" ,;.") or _INSTRUCTION.match(inner):
            take(m.start(), m.end())
    for m in _CLAUSE.finditer(low) if units or rounding else ():
        take(m.start(), m.end())


# --- definitions --------------------------------------------------------------------------------

_OPERATOR = (r"\b(?:divided\s+by|minus|plus|multiplied\s+by|less|as\s+an?\s+(?:percentage|share|proportion|fraction)\s+of|"
             r"ratio\s+of|sum\s+of|average\s+of|difference\s+between)\b|[÷×+/]|"
             # "A over B" (rag.compute reads it as a division); not "over the prior year", "year-over-year"
             r"(?<![\w-])over(?![\w-])(?!\s+(?:the\s+)?(?:prior|previous|last|same|past|next|first|second|third|"
             r"fourth|following|preceding|period|years?|quarters?|months?|fiscal|fy|calendar|time|an?|\d))")
# A definition set off as its own clause: ", defined as X", ", i.e. X" (a formula), ", where X is Y"
# (a formula: ", where the yen is weak" defines nothing)
_DEF_CLAUSE = _lowered(
    r"(?P<sep>[\s,;–—-][\s,;–—-]*)(?:(?:(?:which\s+is|that\s+is)\s+)?(?:defined|calculated|computed|measured|derived|"
    rf"determined)\s+as\s+|(?P<ie>i\.e\.?,?|that\s+is,)\s+(?=[^?]*?(?:{_OPERATOR}))|"
    # ", taking net cash from operations minus additions to property and equipment" (a formula)
    rf"(?:by\s+)?(?:taking|using)\s+(?=[^?]*?(?:{_OPERATOR}))|"
    rf"where\s+(?=[^?]*\b(?:is|are|equals?|means)\b)(?=[^?]*?(?:{_OPERATOR}|\b(?:equals?|means)\b)))")
# Definitions inside a clause, left in the question: "gross margin defined as X", "Compute X as
# Y" / "using Y" (a formula), "Define X as Y", "(operating income divided by total revenues)"
_DEF_INLINE = _lowered(
    r"\b(?:defined|calculated|computed|measured)\s+as\s+|"
    r"(?:^|[,;:]\s)[^\w]*(?:please\s+)?(?:calculate|compute|determine|derive|estimate)\b[^?]*?\s(?:as|using|by\s+taking)\s+"
    rf"(?!an?\s+(?:percentage|percent|ratio|share|proportion|fraction|multiple)\b)(?=[^?]*?(?:{_OPERATOR}))|"
    r"^[^\w]*(?:please\s+)?define\s+")
_DEF_PAREN = re.compile(rf"\(([^()]*?(?:{_OPERATOR})[^()]*)\)", re.I)
# "Return on equity FY22 for Clorox: net earnings attributable to Clorox / average total equity (June
# 2021 and June 2022)": the arithmetic after a colon that names the measure defines it (up to a
# parenthesis, which says its periods, or the sentence's end)
_DEF_COLON = re.compile(rf":\s*([^:?()]*?(?:{_OPERATOR})[^:?()]*?)\s*(?:\(|[.?!]\s|[.?!]?\s*$)", re.I)
_DEF_STOP = re.compile(r";|,\s+and\s+(?:what|how|which|why|is|was|did|does|do|explain|describe)\b|[?.!]\s*$", re.I)


def _clause_end(s: str, start: int, spans: list[tuple[int, int]]) -> int:
    """Where the clause from `start` ends: the sentence's end, a semicolon, a second question
    joined by "and", or the next removed clause."""
    m = _DEF_STOP.search(s, start)
    end = m.start() if m else len(s)
    return min([end] + [a for a, _ in spans if a >= start])


def _definition_in(s: str, spans: list[tuple[int, int]]) -> str | None:
    """A definition written inside a sentence (read, not removed)."""
    low = _lower(s)
    m = _DEF_INLINE.search(low) if _has(low, _INLINE_HINTS) else None
    if m:
        body = s[m.end():_clause_end(s, m.end(), spans)].strip(" ,;.")
        if body:
            return body
    m = _DEF_PAREN.search(s) if "(" in s else None
    if m:
        return m.group(1).strip()
    m = _DEF_COLON.search(s) if ":" in s else None
    return m.group(1).strip(" ,;.") if m else None


# --- periods ------------------------------------------------------------------------------------

_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTH_NO = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_PERIOD = _lowered(rf"""
  (?P<date>\b(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>(?:19|20)\d\d)\b
    | \b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})\.?,?\s+(?P<y2>(?:19|20)\d\d)\b
    | \b(?P<y3>(?:19|20)\d\d)-(?P<m3>[01]\d)-(?P<d3>[0-3]\d)\b)
 |(?P<len>\b(?P<n>three|six|nine|twelve|3|6|9|12)[\s-]+months?\b | \b(?P<w>\d\d)[\s-]+weeks?\b
    | \b(?P<ly>(?:fiscal\s+)?year|quarter|half)[\s-]+(?:ended|ending)\b | \bfull[\s-]+year\b | \b(?:TTM|LTM)\b
    | \btrailing\s+(?:twelve|12)[\s-]+months\b)
 |(?P<qtr>\bQ(?P<q1>[1-4])(?:\s?['’](?P<qy1>\d\d)|\s?FY\s?['’]?(?P<qy2>(?:19|20)\d\d|\d\d))?\b
    | \bF?(?P<q2>[1-4])Q(?:['’]?(?P<qy3>\d\d))?\b
    | \b(?P<q3>first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+(?:fiscal[\s-]+)?quarter\b)
 |(?P<half>\bH[12]\b | \b[12]H\b | \b(?:first|second)[\s-]+half\b)
 |(?P<fy>\b(?:FY|F\.Y\.)[\s-]?['’]?(?P<fy1>(?:19|20)\d\d|\d\d)\b
    | \bfiscal(?:\s+year)?\s+(?P<fy2>(?:19|20)\d\d)\b | \bfiscal(?:\s+year)?\s+['’](?P<fy3>\d\d)\b
    | \b(?P<fy4>(?:19|20)\d\d)\s+fiscal\s+year\b | \b(?:CY|calendar(?:\s+year)?)\s?(?P<fy5>(?:19|20)\d\d)\b)
 |(?P<year>(?<![\w$.,/-])(?:19|20)\d\d(?![\w%]|[.,]\d|\s*(?:%|percent|million|billion|thousand|mn\b|bn\b|employees|
    shares|units|people|stores)))
""", re.X)
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_LENGTH = {"three": 3, "six": 6, "nine": 9, "twelve": 12}
_FILL = (r"of|for|in|the|its|their|fiscal|year|ended|ending|end|period|i\.e\.?|that\s+is|which\s+is|namely|also|as|at|"
         r"on|and|to|through|versus|vs\.?|compared\s+(?:with|to)|from|between")
_JOIN = re.compile(r"^[\s,(–—:-]*(?:(?:of|for|in|the|its|fiscal|year|ended|ending|period|i\.e\.?|that\s+is|which\s+is|"
                   r"namely)\b[\s,(–—:-]*)*\)?[\s,(–—:-]*$", re.I)
_RANGE = re.compile(r"^[\s,()]*(?:the\s+)?(?:to|and|through|thru|until|till|versus|vs\.?|compared\s+(?:with|to)|"
                    r"relative\s+to|over|against|[-–—])[\s,()]*(?:the\s+)?(?:end\s+of\s+(?:the\s+)?)?$", re.I)
_PERIOD_ONLY = re.compile(rf"^[\s,()–—:.;-]*(?:(?:{_FILL})\b[\s,()–—:.;-]*)*$", re.I)
_INSTANT_BEFORE = re.compile(r"(?:\b(?:as\s+(?:of|at)|at)\s+(?:the\s+)?|\b(?=(?:the\s+)?(?:end|close)\s))(?:the\s+)?"
                             r"(?:(?:fiscal\s+)?(?:year|quarter|period)[\s-]?end\s+(?:of\s+)?(?:the\s+)?|"
                             r"(?:end|close)\s+of\s+(?:the\s+)?)?(?:fiscal\s+)?$", re.I)
_INSTANT_AFTER = re.compile(r"[\s-]*(?:fiscal\s+)?(?:year|quarter)[\s-]end\b", re.I)
_CLAUSE_BREAK = re.compile(r"[,;?!]|\.\s")
_RANGE_BEFORE = re.compile(r"\b(?:from|between)\s+(?:the\s+)?$", re.I)


def _feature(m: re.Match) -> dict:
    """What one period expression says: slots year / quarter / months / end / half."""
    g = m.groupdict()
    if g["date"]:
        mon = g["m1"] or g["m2"]
        mon = int(g["m3"]) if g["m3"] else _MONTH_NO[mon[:3].lower()]
        year = int(g["y1"] or g["y2"] or g["y3"])
        try:
            return {"end": datetime.date(year, mon, int(g["d1"] or g["d2"] or g["d3"]))}
        except ValueError:  # "February 30": no such day, but the year stands
            return {"year": year}
    if g["len"]:
        if g["n"]:
            return {"months": _LENGTH.get(g["n"].lower()) or int(g["n"])}
        if g["w"]:
            return {"months": min(12, max(1, round(int(g["w"]) / 13) * 3))}
        word = (g["ly"] or "year").lower()
        return {"months": 3 if word == "quarter" else 6 if word == "half" else 12}
    if g["qtr"]:
        q = g["q1"] or g["q2"] or _ORDINAL[g["q3"].lower()]
        out = {"quarter": int(q)}
        if y := g["qy1"] or g["qy2"] or g["qy3"]:
            out["year"] = _full_year(y)
        return out
    if g["half"]:
        return {"half": 6}
    if g["fy"]:
        return {"year": _full_year(g["fy1"] or g["fy2"] or g["fy3"] or g["fy4"] or g["fy5"]), "fiscal": 12}
    return {"year": int(m.group(0))}


def _full_year(y: str) -> int:
    return int(y) if len(y) == 4 else (2000 if int(y) < 70 else 1900) + int(y)


# Where a period expression can begin, in lower-cased text: a word starting with a digit, "q3",
# "h1", "fy", a month, "first", "three", "fiscal", "full", "year", "quarter"... (found first: the
# whole expression is slow to try at every position)
_START = re.compile(r"(?<![a-z0-9])(?:0|1|2|3|4|5|6|7|8|9|q[1-4]|quarter|h[12]|half|fy|f\.|f[1-4]|feb|first|fiscal|"
                    r"full|fourth|cy|calendar|jan|jun|jul|mar|may|apr|aug|sep|second|six|oct|nov|nine|dec|three|third|"
                    r"twelve|ttm|trailing|year|ltm)")


def _periods(text: str, pos: int = 0, endpos: int | None = None):
    """The period expressions in text[pos:endpos], in order, tried only where one can begin."""
    endpos = len(text) if endpos is None else endpos
    low = _lower(text)
    last = pos
    for w in _START.finditer(low, pos, endpos):
        if w.start() >= last and (m := _PERIOD.match(low, w.start(), endpos)):
            last = m.end()
            yield m


def _groups(text: str, matches: list[re.Match] | None = None) -> list[tuple[int, int, dict]]:
    """Period expressions joined into groups: "the third quarter of FY2023 (three months ended
    July 1, 2023)" is one group, each slot filled once."""
    groups: list[tuple[int, int, dict]] = []
    for m in _periods(text) if matches is None else matches:
        f = _feature(m)
        if not f:
            continue
        if groups:
            a, b, slots = groups[-1]
            if _JOIN.match(text[b:m.start()]) and not (set(f) & set(slots)):
                groups[-1] = (a, m.end(), {**slots, **f})
                continue
        groups.append((m.start(), m.end(), f))
    return groups


def _later(g: tuple[int, int, dict]) -> tuple:
    s = g[2]
    end = s.get("end") or datetime.date.min
    return (s.get("year") or end.year or 0, s.get("quarter") or 0, end)


def _period(text: str, matches: list[re.Match] | None = None) -> Period | None:
    """The period `text` asks about: its first group of period expressions, or of a range or a
    comparison ("from FY2018 to FY2020", "April 30, 2023 versus April 30, 2022") the latest.
    `matches`: its period expressions, when already found."""
    groups = _groups(text, matches)
    if not groups:
        return None
    chain = [groups[0]]
    for g in groups[1:]:
        if not _RANGE.match(text[chain[-1][1]:g[0]]):
            break
        chain.append(g)
    slots = max(chain, key=_later)[2]
    start, end = chain[0][0], chain[-1][1]
    for a, b, more in groups[len(chain):len(chain) + 2]:
        # the same clause goes on to say the year ("first-quarter sales in 2022") or restates the
        # period in parentheses ("Q4 FY2023 revenue (quarter ended September 30, 2023)")
        gap = text[end:a]
        if set(more) & set(slots) or _CLAUSE_BREAK.search(gap) or len(gap) > 40 or \
                not ("(" in gap or not ("year" in slots or "end" in slots)):
            break
        slots, end = {**slots, **more}, b
    cut = max(0, start - 40)
    before = text[cut:start]
    instant = "months" not in slots and bool(
        (_has(_lower(before), ("as ", "at ", "end ", "close ")) and _INSTANT_BEFORE.search(before)) or
        _INSTANT_AFTER.match(text, end))
    lead = _INSTANT_BEFORE.search(before) if instant else _RANGE_BEFORE.search(before) if len(chain) > 1 else None
    if lead:
        start = cut + lead.start()
    if text.count("(", start, end) > text.count(")", start, end) and text[end:end + 1] == ")":
        end += 1
    months = slots.get("months")
    if months is None and not instant:
        months = 3 if "quarter" in slots else slots.get("half") or slots.get("fiscal")
    year = slots.get("year") or (slots["end"].year if "end" in slots else None)
    return Period(year, slots.get("quarter"), months, slots.get("end"), instant, " ".join(text[start:end].split()).strip(" ,"))


def _period_spans(masked: str, feats: list[tuple[int, int]], take) -> None:
    """Remove parentheses that only restate a period the sentence names outside them:
    "in Q3 FY2023 (three months ended July 1, 2023)". `feats`: the spans of its period expressions."""
    for m in _PAREN.finditer(masked):
        a, b = m.span(1)
        inner = [(x, y) for x, y in feats if a <= x and y <= b]
        if not inner or len(inner) == len(feats):
            continue
        rest = "".join(masked[x:y] for x, y in zip([a] + [y for _, y in inner], [x for x, _ in inner] + [b]))
        if _PERIOD_ONLY.match(rest):
            take(m.start(), m.end())


# --- statements, units, company ------------------------------------------------------------------

_STATEMENT = _lowered(  # read from " " + lower-cased text
    r"[\s(](?:(?P<comprehensive>statements?\s+of\s+(?:consolidated\s+)?comprehensive\s+(?:income|loss|\(loss\))|"
    r"comprehensive\s+income\s+statements?)|"
    r"(?P<cash_flow>cash[\s-]+flows?\s+statements?|statements?\s+of\s+(?:consolidated\s+)?cash[\s-]+flows?)|"
    r"(?P<equity>statements?\s+of\s+(?:changes\s+in\s+)?(?:(?:stock|share)(?:holders|owners)['’]?\s+)?(?:equity|deficit)|"
    r"equity\s+statements?)|"
    r"(?P<balance>balance\s+sheets?|statements?\s+of\s+(?:consolidated\s+)?financial\s+(?:position|condition))|"
    r"(?P<income>income\s+statements?|statements?\s+of\s+(?:consolidated\s+)?(?:operations|income|earnings)|"
    r"profit\s+(?:and|&)\s+loss|P\s?&\s?L\b)|"
    r"(?P<segment>segment\s+(?:information|table|note|disclosures?|reporting|results|data)|segments?\s+note|"
    r"note\s+on\s+segments))")
_STATEMENT_HINTS = ("statement", "sheet", "p&l", "p & l", "profit", "segment")
_CURRENCIES = [(re.compile(p, re.I), code) for p, code in (
    (r"HK\$|HKD", "HKD"), (r"NT\$|TWD", "TWD"), (r"C\$|CAD", "CAD"), (r"A\$|AUD", "AUD"), (r"S\$|SGD", "SGD"),
    (r"US\s?\$|USD|dollars?|\$", "USD"), (r"\bRMB\b|yuan|renminbi", "RMB"), (r"\bCNY\b", "CNY"), (r"EUR|euros?|€", "EUR"),
    (r"GBP|pounds?|£", "GBP"), (r"JPY|yen|¥", "JPY"), (r"INR|rupees?", "INR"), (r"\b(?:CHF|KRW|BRL|MXN)\b", None))]
_SHORT_SCALE = re.compile(r"(?:\$|\b[A-Z]{3})\s?([mbk])\b", re.I)
_SCALES = (("million", "millions"), ("mm", "millions"), ("mn", "millions"), ("billion", "billions"), ("bn", "billions"),
           ("thousand", "thousands"), ("trillion", "trillions"), ("tn", "trillions"))


def _read_unit(body: str) -> tuple[str | None, str | None]:
    """(unit, currency) of a unit clause's words."""
    low = body.lower()
    currency = None
    for rx, code in _CURRENCIES:
        if m := rx.search(body):
            currency = code or m.group(0).upper()
            break
    if "share" in low:
        return "per_share", currency
    if "percent" in low or "%" in low:
        return "percent", currency
    if "ratio" in low or "multiple" in low:
        return "ratio", currency
    if "day" in low:
        return "days", currency
    for word, unit in _SCALES:
        if word in low:
            return unit, currency
    if m := _SHORT_SCALE.search(body):  # "$M", "USD bn"
        return {"m": "millions", "b": "billions", "k": "thousands"}[m.group(1).lower()], currency
    return None, currency


# What a question's own words say its answer is: "by what percentage", "per share", "quick ratio"
_IMPLIED = [(re.compile(p, re.I) if p else None, unit, hints) for p, unit, hints in (
    (r"\bper\s+(?:(?:diluted|basic|common|ordinary)\s+)*share\b|\bEPS\b", "per_share", ("share", "eps")),
    (None, "percent", ("percent", "%")),
    (r"\bratios?\b|\bturnover\b|\bmultiples?\b", "ratio", ("ratio", "turnover", "multiple")),  # not "operations"
    (r"\bhow\s+many\s+days\b|\bdays\s+(?:payable|sales|inventory|receivables?)\b|\b(?:DSO|DPO|DIO)\b", "days",
     ("day", "dso", "dpo", "dio")),
    (r"\bhow\s+many\s+dollars\b", None, ("dollars",)))]


def _units(explicit: list[str], implied: list[str]) -> tuple[str | None, str | None, int | None]:
    """unit, currency and decimals: stated ones first (removed clauses, instructions, in order),
    then what the words of `implied` (the question, then what was removed) imply."""
    unit = currency = decimals = None
    low = _lower(" , ".join([""] + explicit))  # each text read as if after a comma: ", USD millions"
    for m in _UNIT_READ.finditer(low) if _has(low, _UNIT_HINTS) else ():
        u, c = _read_unit(m.group("u"))
        unit, currency = unit or u, currency or c
    if _has(low, _ROUND_HINTS) and (m := _DECIMALS.search(low)):
        decimals = _decimals(m)
        if decimals is None and unit is None:  # "to the nearest million"
            unit = next((u for w, u in _SCALES if w in (m.group("near") or "")), None)
    for text in implied if unit is None or currency is None else ():
        low = _lower(text)
        for rx, u, hints in _IMPLIED:
            if (unit is None if u else currency is None) and _has(low, hints) and (rx is None or rx.search(text)):
                unit = unit or u
                currency = currency or (None if u else "USD")
    return unit, currency, decimals


def _decimals(m: re.Match) -> int | None:
    if m.group("n"):
        n = m.group("n").lower()
        return int(n) if n.isdigit() else _NUMBERS.get(" ".join(n.split()))
    if m.group("dp"):
        return int(m.group("dp"))
    if m.group("bare"):
        n = m.group("bare").lower()
        return int(n) if n.isdigit() else _NUMBERS[n]
    if m.group("whole"):
        return 0
    near = m.group("near").lower()
    if near.endswith(("million", "billion", "thousand")):
        return None  # "to the nearest million" is a unit
    return 1 if "tenth" in near else 2 if "hundredth" in near or near in ("cent", "penny") else \
        3 if "thousandth" in near else 0


_CAP = r"(?:[A-Z]|[a-z]{1,2}[A-Z])[\w&\-]*(?:\.[A-Za-z][\w&\-]*)*"
_NOT_NAME = (r"what|which|who|whom|whose|how|when|where|why|was|were|is|are|did|does|do|has|have|had|will|would|can|"
             r"could|should|in|for|of|on|at|by|from|to|and|or|as|if|per|the|a|an|i|it|its|this|that|these|those|their|"
             r"our|using|use|based|according|between|during|after|before|since|than|versus|vs|fiscal|calendar|january|"
             r"jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug|september|sept|sep|october|oct|"
             r"november|nov|december|dec|usd|rmb|eur|gbp|gaap|non-gaap|eps|ebitda|ebit|ebita|rpo|gmv|"
             r"yoy|qoq|ttm|ltm|md&a|ceo|cfo|total|net|gross|operating|adjusted|diluted|basic|consolidated|condensed|"
             r"company|corporation|group|segment|statement|balance|income|cash|please|kindly")
_FUNC = r"what|which|who|how|was|were|is|are|did|does|do|has|have|had|in|for|on|at|by|from|to|and|or|as|the|a|an"
# capitalised words, a name or several; found from a capital ("eBay" from its "B")
_RUN = re.compile(rf"[A-Z][\w&\-]*(?:\.[A-Za-z][\w&\-]*)*(?:\s+(?:(?:&|of)\s+)?{_CAP})*")
_TOKEN = re.compile(_CAP)
_NOT_FIRST = frozenset(_NOT_NAME.split("|"))
# a sentence's first word is capitalised whatever it is: "Report Widgetco's..." names Widgetco
_OPENERS = frozenset(w for w in (_HOW + "|" + _ASK_VERBS + "|explain|describe|compare|discuss").split("|") if w.isalpha())
_NOT_NEXT = frozenset(_FUNC.split("|"))
_NOT_PATTERN = re.compile(r"(?:fy|cy)\d*|q[1-4]\w*|[1-4]q\w*|h[12]")  # "FY2022", "Q3", "3Q23", "H1"


def _not_name(word: str, words: frozenset[str]) -> bool:
    w = word.lower()
    return w in words or bool(_NOT_PATTERN.fullmatch(w))


# A company is plain when the question names it as an owner ("Nike's", "The Coca-Cola Company's"),
# as the subject of an auxiliary ("did Costco record") or after "for"/"of"/"at" at the clause end
_OWNER_AFTER = re.compile(r"['’](?:s(?!\w)|(?<=s['’])(?=\s))", re.I)
_SUBJECT_BEFORE = re.compile(r"\b(?:did|does|do|has|have|had|is|was|were|are|will|would|can|could)\s+$", re.I)
_SUBJECT_AFTER = re.compile(r"\s+[a-z]")
_OBJECT_BEFORE = re.compile(r"\b(?:for|of|at|by|to)\s+$", re.I)
_OBJECT_AFTER = re.compile(r"\.?\s*(?:[?.!,;]|$)|\.?\s+(?:in|during|for|as|at|on|over|from|between|through)\b", re.I)
_SUFFIX = frozenset("inc corp co ltd plc llc bros sa ag nv se".split())  # "Widgetco Inc." keeps its full stop
_BARE_KEY = re.compile(r"^the\s+|['’]s$")
# Names whose own spelling ends in "'s" ("McDonald's revenue" is McDonald's, not McDonald)
_S_NAMES = frozenset("mcdonald macy kohl lowe wendy domino kellogg dillard moody sotheby denny dick carter "
                     "hardee arby chili zale friendly".split())
_NOT_COMPANY = frozenset("company corporation group firm segment business greater china europe asia americas japan "
                         "international north south latin america united states u.s us canada emea apac "
                         "pacific middle east africa rest world".split())


def _run_start(text: str, i: int) -> int | None:
    """Where the capitalised word with a capital at `i` begins ("eBay", "iPhone"); None inside a
    word ("revenueGrowth", "O’Reilly")."""
    j = i
    while j > 0 and i - j < 3 and text[j - 1].islower():
        j -= 1
    if j and (text[j - 1].isalnum() or text[j - 1] in "_&'’.-"):
        return None
    return j if i - j <= 2 else None


def _segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The names in a run of capitalised words: "What Was Widgetco" holds "Widgetco", "In FY2022
    Apple" holds "Apple"; a name may begin with "The" ("The Coca-Cola Company")."""
    toks = list(_TOKEN.finditer(text, start, end))
    segs: list[list[int]] = []
    open_ = False
    opening = not text[:start].rstrip(" \"'“(") or text[:start].rstrip(" \"'“(")[-1] in ".?!:;"
    for i, t in enumerate(toks):
        w = t.group(0)
        if open_ and not _not_name(w, _NOT_NEXT):
            segs[-1][1] = t.end()
            continue
        open_ = False
        if i == 0 and opening and w.lower() in _OPENERS:
            continue
        if not _not_name(w, _NOT_FIRST) or (w == "The" and i + 1 < len(toks) and
                                             not _not_name(toks[i + 1].group(0), _NOT_FIRST)):
            segs.append([t.start(), t.end()])
            open_ = True
    return [(a, b) for a, b in segs]


def _names(text: str):
    """The company names `text` uses plainly, in order: owners, subjects, objects."""
    inside = [m.span() for m in _PAREN.finditer(text)]  # "(Walmart U.S., Sam's Club)" lists no subject
    for run in _RUN.finditer(text):
        start = _run_start(text, run.start())
        if start is None or any(a <= start < b for a, b in inside):
            continue
        b = run.end()  # only the name that ends the run can be an owner, a subject or an object
        one_word = " " not in text[start:b]  # most often
        if one_word and (_not_name(text[start:b], _NOT_FIRST) or text[start:b].lower() in _OPENERS):
            continue
        owner = text[b:b + 1] in ("'", "’") and _OWNER_AFTER.match(text, b)
        subject = not owner and _SUBJECT_AFTER.match(text, b)
        obj = not owner and _OBJECT_AFTER.match(text, b)
        if not (owner or subject or obj):
            continue
        if one_word:
            a = start
        else:
            segs = _segments(text, start, b)
            if not segs or segs[-1][1] != b:
                continue
            a = segs[-1][0]
        name = text[a:b]
        if text[b:b + 1] == "." and name.rsplit(None, 1)[-1].lower() in _SUFFIX:
            name += "."
        if owner:
            yield name + text[b:b + 2] if name.lower() in _S_NAMES else name
        elif (subject and _SUBJECT_BEFORE.search(text, max(0, a - 8), a)) or \
                (obj and _OBJECT_BEFORE.search(text, max(0, a - 5), a)):
            yield name


def _company(texts: list[str]) -> str | None:
    """The company the question is about, when it names one plainly; None when it names two."""
    found: list[str] = []
    for text in texts:
        for name in _names(text):
            if not all(w.strip(".") in _NOT_COMPANY for w in name.lower().removeprefix("the ").split()):
                found.append(name)
        if found:
            break
    keys = {_BARE_KEY.sub("", n.lower()) for n in found}
    distinct = [k for k in keys if not any(k != o and k in o for o in keys)]
    return found[0] if len(distinct) == 1 else None


# --- the question ---------------------------------------------------------------------------------

_EMPTY_PAREN = re.compile(r"\(\s?[,;:]?\s?\)")
_OPEN_PAREN = re.compile(r"\(\s?[,;:]?\s?")
_DANGLING = re.compile(r"[\s,;:]+(?=[?.!)]|$)")  # "revenue , ?" -> "revenue?"
_SPACE_BEFORE = re.compile(r"\s+(?=[,;:])")
_DOUBLED = re.compile(r"([,;:])(?:\s?[,;:])+")


def _tidy(t: str) -> str:
    """The question left once clauses are cut out: no empty parentheses, doubled spaces or
    dangling commas."""
    t = " ".join(t.split())
    if "(" in t:
        t = _OPEN_PAREN.sub("(", _EMPTY_PAREN.sub(" ", t))
    t = _DOUBLED.sub(r"\1", _SPACE_BEFORE.sub("", _DANGLING.sub("", t)))
    return " ".join(t.split()).strip(" ,;:")


@dataclass
class _Sentence:
    text: str  # the sentence, its clauses removed
    removed: list[tuple[int, str]]  # (offset in the sentence, words) of each removed clause
    definition: str | None
    masked: str  # the sentence with its removed clauses blanked: where its period is read
    periods: list[re.Match]  # the period expressions of `masked`


def _definition_clause(s: str, low: str, spans: list[tuple[int, int]], take) -> str | None:
    """Remove a definition set off as its own clause (by a comma or a dash, or "i.e.") and
    return it: ", defined as gross profit divided by revenue"."""
    for m in _DEF_CLAUSE.finditer(low) if _has(low, _DEF_HINTS) else ():
        if not (m.group("ie") or any(c in m.group("sep") for c in ",;–—-")):
            continue
        end = _clause_end(s, m.end(), spans)
        body = s[m.end():end].strip(" ,;.")
        if body and take(m.start(), end):
            return body
    return None


def _rest(s: str, spans: list[tuple[int, int]]) -> str:
    """What is left of sentence `s` once `spans` are cut out, tidied; capitalised when its start
    was cut, ending with "?" when `s` did."""
    if not spans:
        return s
    kept, last = [], 0
    for a, b in sorted(spans):
        kept.append(s[last:a])
        last = b
    kept.append(s[last:])
    text = _tidy(" ".join(kept))
    if min(spans)[0] == 0 and text[:1].islower():
        text = text[0].upper() + text[1:]
    if s.rstrip().endswith("?") and text and not text.endswith("?"):
        text = text.rstrip(".!") + "?"
    return text


def _clean(s: str) -> _Sentence:
    """Remove from one question sentence its leading role or source clause, an instruction
    joined to its end, unit and rounding clauses, a trailing source clause, a definition set off
    as a clause and parentheses that restate its period."""
    spans: list[tuple[int, int]] = []

    def take(a: int, b: int) -> bool:
        if a < b and all(b <= x or a >= y for x, y in spans):
            spans.append((a, b))
            return True
        return False

    low = _lower(s)
    found = list(_periods(s))
    feats = [m.span() for m in found]

    def dated(a: int, b: int) -> bool:  # names a period within s[a:b]
        return any(a <= x and y <= b for x, y in feats)

    # a clause that alone says the period stays ("Using FY2022 figures, ...")
    if (m := _LEAD.match(s)) and (dated(m.end(), len(s)) or not dated(0, m.end())):
        take(m.start(), m.end())
    if (m := _TRAIL_HOW.search(low)) and (dated(0, m.start()) or not dated(m.start(), m.end())):
        take(m.start(), m.end())
    _unit_spans(low, take)
    # a source at the end of a definition is the definition's ("..., calculated as A from the cash flow statement")
    if _has(low, _DOC_HINTS) and (t := _trailing_source(low, dated)) and \
            not (_has(low, _DEF_HINTS) and _DEF_CLAUSE.search(low, 0, t[0])):
        take(*t)
    definition = _definition_clause(s, low, spans, take)
    masked = s  # the period is read from what is left, with the parentheses that restate it
    for a, b in spans:
        masked = masked[:a] + " " * (b - a) + masked[b:]
    found = [m for m in found if all(m.end() <= a or m.start() >= b for a, b in spans)]
    _period_spans(masked, [m.span() for m in found], take)
    return _Sentence(_rest(s, spans), [(a, s[a:b].strip(" ,;:-–—")) for a, b in sorted(spans)],
                     definition or _definition_in(s, spans), masked, found)


def frame(question: str) -> Framing:
    """Read a question's framing out of it: the question itself, and the statement, unit,
    rounding, period, definition and company its words ask for."""
    text = re.sub(r"\s+", " ", question if isinstance(question, str) else str(question or "")).strip()
    if not text:
        return Framing("")
    sents = _sentences(text)
    roles = _roles(sents)
    removed: list[tuple[int, str]] = []
    asked: list[tuple[int, _Sentence]] = []
    for (pos, s), instruction in zip(sents, roles):
        if instruction:
            removed.append((pos, s))
        else:
            c = _clean(s)
            asked.append((pos, c))
            removed += [(pos + off, words) for off, words in c.removed]
    removed.sort()
    told = [w for _, w in removed]
    told_sentences = [s for (_, s), instruction in zip(sents, roles) if instruction]
    q_raw = [s for (_, s), instruction in zip(sents, roles) if not instruction]
    q_text = [c.text for _, c in asked]
    statement = next((m.lastgroup for t in told + q_raw if _has(low := _lower(t), _STATEMENT_HINTS) and
                      (m := _STATEMENT.search(" " + low))), None)
    unit, currency, decimals = _units(told, [" | ".join(q_text), " | ".join(told)])
    period = next((p for _, c in asked if (p := _period(c.masked, c.periods))), None) or \
        next((p for t in told_sentences + q_raw if (p := _period(t))), None)
    definition = next((c.definition for _, c in asked if c.definition), None) or \
        next((d for s in told_sentences if (d := _definition_in(s, []))), None)
    return Framing(" ".join(t for t in q_text if t), tuple(told), statement, unit, currency, decimals, period,
                   definition, _company(q_text + told_sentences))
