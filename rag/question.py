"""What a question asks for: its kind of answer (a percentage, an amount, a count, a person, a
date, or a description), its weighted terms (with the glossary's and fuzzy-matched spellings as
alternatives) and the numbers it names. Deterministic, no model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.facts import asked_items
from rag.framing import frame
from rag.text import BALANCE_MEASURES, MEASURES, QUESTION_FILLER, content_words, split_compound, stem, words, years_in

_PERCENT_Q = re.compile(r"\b(percent(age)?|%|rate|margin|how fast|by how much|grow(th)?|grew|increase[sd]?|"
                        r"decrease[sd]?|decline[sd]?|rise|rose|fell|fall|drop(ped)?|jump(ed)?|up|down|change[sd]?)\b", re.I)
_AMOUNT_Q = re.compile(r"^\s*(how much|what (was|were|is|are|will be)( the)?( total| overall)?|what amount|how big|"
                       r"how large|give me|tell me|what did .* (report|post|spend|generate|return|raise|buy ?back|repurchase))", re.I)
# how a question or a request opens; a line item named without one asks its figure
_ASKING_WORD = re.compile(r"^\s*(?:what|how|who|whom|whose|which|when|where|why|whether|did|does|do|is|are|was|were|has|"
                          r"have|had|can|could|will|would|should|list|describe|explain|summari[sz]e|discuss|tell|give|"
                          r"show|compare)\b", re.I)
_METRIC = re.compile(rf"\b({MEASURES}|{BALANCE_MEASURES}|cash( flow)?|capital expenditures?|spend(ing)?|notes|bonds?|"
                     r"consideration|amount|price|billion|million|growth|count|number|salary|salaries|compensation|pay|"
                     r"fees?|budget|worth|value|stake|losses?)\b", re.I)
# a measure that counts people ("What was Microsoft's full-time headcount?" asks how many), and the
# words that make a question about them ask for money ("employee compensation", "revenue per employee")
PEOPLE = re.compile(r"\b(?:headcount|employees|workforce|staff|associates|team members)\b", re.I)
MONEY_NOUN = re.compile(r"\b(?:compensation|costs?|expenses?|pay|paid|salar\w*|wages?|benefits?|spend\w*|"
                        r"revenues?|sales|income|per|\$|dollars?|millions?|billions?)\b", re.I)
_COUNT_Q = re.compile(r"^\s*(how many|what (is|was) the number of|what number of)", re.I)
_DATE_Q = re.compile(r"^\s*(when|what year|which year|in what year|since when|what date|on what date)\b|"
                     r"\b(what|which) (year|month|date|quarter)\b", re.I)
_PERSON_Q = re.compile(r"^\s*(who|whom|(which|what) ([\w.&-]+\s){0,3}(analyst|executive|person|officer|director|founder)s?)\b", re.I)
_WHO_IS_NAMED = re.compile(r"^\s*who (is|was|are|were)\s+(mr\.?\s|ms\.?\s|mrs\.?\s|dr\.?\s)?[A-Z]", re.I)
_ASKED_Q = re.compile(r"\b(asked?|question(ed)?|analyst)\b", re.I)


_INTENT_WORDS = {
    "asker": frozenset("ask asked asking question questions analyst analysts call firm bank who which".split()),
    "person": frozenset("person people who".split()),
    "date": frozenset("when date year month day time".split()),
    "place": frozenset("where place location".split()),
    "count": frozenset("many number".split()),
    "percent": frozenset("percentage percent".split()),
}
# A name: capitalised words (or an acronym, or a product like "iPhone") after the question's first
# word: "Cloud Intelligence Group", "AIDC", "JPMorgan". The first word is skipped unless it is an acronym or a run of names.
_ENTITY = re.compile(r"(?<!^)(?<![.?!]\s)\b(?:[A-Z][\w&.'’-]*[A-Za-z0-9]|[A-Z]{2,}\d*|[a-z]{1,2}[A-Z][\w&'’-]*[A-Za-z0-9])"
                     r"(?:\s+(?:and\s+|of\s+|&\s+)?(?:[A-Z][\w&.'’-]*[A-Za-z0-9]|[A-Z]{2,}))*")
_NOT_ENTITY = re.compile(
    r"(?i:january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|"
    r"wednesday|thursday|friday|q[1-4]|h[12]|fy\d*|ai|rmb|usd|hkd|eur|gbp|cny|us|eps|ebitda|ebita|ebit|gaap|non-gaap|"
    r"gmv|cmr|capex|fcf|yoy|qoq|ceo|cfo|coo|cto|ipo|r&d|i|and|of|inc\.?|corp\.?|ltd\.?|llc|plc|co\.)")
# The measures a figure can be of. A figure answers "what was X's GMV?" only beside the word GMV
# (or an alias of it): revenue is not GMV. General financial vocabulary, no company's names.
METRIC_NOUN = re.compile(
    rf"{MEASURES}|{BALANCE_MEASURES}|expenditures?|borrowings?|losses|subscribers|orders|r&d|research|inventory|"
    r"deferred|tax|taxes|payout|yield|coupon")
_ATTRIBUTION = re.compile(
    r"(?:^|,\s*)(?i:according to) (?P<who>(?:[A-Z][\w.'-]*\s?){1,4})(?=,|\s|$)|"
    r"\b(?:did|does|do|will|would)\s+(?P<who2>(?:[A-Z][\w.'-]*\s?){1,4})\s+(?:say|expect|think|believe|describe|"
    r"mention|use|explain|note|see|want|call|predict|estimate|project|compare)\b")
RATIO_WORDS = re.compile(r"\b(margins?|rates?|ratios?|share of|how much of|percent(age)?|%|yield|growth|grow|grew|increase[sd]?|"
                         r"decrease[sd]?|decline[sd]?|change[sd]?|up|down|reduction|mix|proportion)\b", re.I)
CHANGE_WORDS = re.compile(r"\b(grow(th|s|n)?|grew|increase[sd]?|decrease[sd]?|decline[sd]?|rise|rose|fell|fall|"
                          r"drop(ped)?|jump(ed)?|change[sd]?|improve[sd]?|expand(ed)?|shr[iu]nk|by how much|up|down)\b", re.I)
PER_SHARE = re.compile(r"\bper (?:(?:diluted|basic|common|ordinary|class [ab])\s+)*(?:share|ads)\b|\beps\b", re.I)
MONEY_WORDS = re.compile(r"\b(rmb|usd|dollars?|yuan|renminbi|euros?|billions?|millions?|in \$|how much money)\b", re.I)


@dataclass(frozen=True)
class Term:
    word: str
    stems: frozenset[str]  # the term's stem and its alternative spellings' stems
    weight: float


@dataclass(frozen=True)
class Query:
    text: str
    intent: str  # percent | amount | count | date | person | asker | place | describe
    terms: tuple[Term, ...]
    numbers: tuple[str, ...]  # numbers the question itself names (years, "Q3"...)
    multi: bool  # asks for several figures ("revenue and EBITDA")
    wants_money: bool = False  # names a currency or scale ("in RMB", "how many dollars")
    wants_ratio: bool = False  # a margin, rate, share or growth: a percentage is the answer
    entities: tuple[frozenset[str], ...] = ()
    causal: bool = False  # asks why, or what drove something
    unknown_names: tuple[str, ...] = ()  # names no document uses, under any spelling ("France")
    asks_change: bool = False  # "how much did it grow", not "what was it": a change is the answer
    per_share: bool = False  # a per-share measure (EPS, dividend per share): no figure in millions
    metrics: tuple[frozenset[str], ...] = ()  # stems of the measures asked for (revenue, GMV, EBITDA)
    qualifiers: tuple[frozenset[str], ...] = ()  # words that narrow a measure: "daily" active users, "diluted" EPS
    period: object = None  # rag.framing.Period: the period asked ("FY2022", "three months ended July 1, 2023")
    statement: str | None = None  # the statement the question names ("cash_flow"), preamble included
    framing: object = None  # rag.framing.Framing: unit, rounding, definition and what was removed
    second_ask: str | None = None  # "..., and for how much?": the intent of a second question joined on
    asked: str = ""  # the question as read, before its framing was taken out: what follow-ups and the evals see
    items: tuple = ()  # rag.facts.AskedItem: the line items it names, with their other names ("cost of sales")

    @property
    def total_weight(self) -> float:
        return sum(t.weight for t in self.terms) or 1.0

    @property
    def wants_figure(self) -> bool:
        return self.intent in ("percent", "amount", "count")


# What follows a question that is not part of it: code or markup pasted after it ("...grow?'; DROP
# TABLE x;--", "...'); DROP", "...? <script>"), from the first quote-and-semicolon, comment dash,
# tag or brace (a quote closing a parenthesis is the question's own: "long-term 'Debt')")
_JUNK_TAIL = re.compile(r"""\s*(?:['"`]\s*\)?\s*;|;\s*--|--\s*$|</?[A-Za-z!][^>]*>|[{}\\|]).*$""", re.S)


# "What quarterly dividend per share does X pay?", "What operating margin did X report?": a
# measure named right after "what", then the verb: a figure is asked
_WHAT_MEASURE = re.compile(rf"^\s*(?:what|which)\s+(?:[\w-]+\s+){{0,3}}?(?:{MEASURES}|{BALANCE_MEASURES}|margin|rate|"
                           r"yield|growth)(?:\s+per\s+(?:diluted\s+)?share)?\s+(?:does|do|did|will|would|is|was|were)\b",
                           re.I)


def readable(question: str) -> str:
    """The question as the answerer reads it: code or markup pasted after it cut off, and a
    question typed in capitals ("HOW MUCH DID CLOUD REVENUE GROW?") in lower case, since its
    capitals say nothing of what is a name. Shown as typed, read as this."""
    q = question
    m = _JUNK_TAIL.search(q)
    if m and len(q[:m.start()].split()) >= 3:
        q = q[:m.start()].rstrip(" ;,'\"")
    letters = [ch for ch in q if ch.isalpha()]
    if len(letters) >= 8 and not any(ch.islower() for ch in letters):
        q = q.lower()
        q = q[0].upper() + q[1:]
    return q


_QUESTION_WORD = re.compile(r"\b(?:what|which|how|who|when|where|why|whether)\b", re.I)
_MEASURE_WORD = re.compile(rf"\b(?:{METRIC_NOUN.pattern})\b", re.I)
_RATE_WORD = re.compile(r"\b(?:margin|rate|ratio|growth|share|yield|return)\b", re.I)


# a measure that is a percentage: a rate, a margin, a share of a market (not a share of stock: "per
# share", "share count", "open-market share repurchases")
_RATE_NOUN = re.compile(r"\b(?:rate|margin|ratio|percentage|yield)\b|(?<![\w-])market\s+share\b(?!\s+(?:repurchases?|buybacks?|"
                        r"price|count))", re.I)


def classify(question: str) -> str:
    # "According to Toby Xu, what rate..." is classified by what follows the attribution
    q = re.sub(r"^\s*(according to|per|in)\s+[^,?]{1,60},\s*", "", question.strip(), flags=re.I)
    # "Approximately how many employees ...": a hedge before the question word
    q = re.sub(r"^\s*(?:approximately|roughly|about|around|exactly)\s+(?=how\b)", "", q, flags=re.I)
    if _DATE_Q.search(q):
        return "date"
    if re.match(r"^\s*where\b", q, re.I) and not re.search(r"\b(rank|ranks|stand|stands)\b", q, re.I):
        return "place"
    if re.search(r"^\s*(which|what) (firm|bank|broker|house)s?\b", q, re.I) and _ASKED_Q.search(q):
        return "asker"  # "which firm was that analyst from?"
    if _PERSON_Q.search(q):
        if _WHO_IS_NAMED.search(q) and not re.search(r"\bwho (is|was) (the|our|their|its)\b", q, re.I) and \
                not re.search(r"^\s*[Ww]ho (is|was)\s+[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*['’]s?\s", q):
            return "describe"  # "Who is Eddie Wu?", but not "Who is Oracle's CEO?"
        return "asker" if _ASKED_Q.search(q) else "person"
    if _COUNT_Q.search(q) or (_AMOUNT_Q.search(q) and PEOPLE.search(q) and not MONEY_NOUN.search(q)):
        return "count"
    if re.match(r"^\s*(what|which|at what|by (?:(?:roughly|about|approximately)\s+)?what) (percentage|percent|share(?!\s+(price|count|capital|repurchase|buyback))|"
                r"proportion|portion|rate|growth rate|margin)\b|"
                r"^\s*how fast", q, re.I):
        return "percent"
    if re.match(r"^\s*(how much|by how much)\b", q, re.I) and re.search(
            r"\b(grow|grew|growth|increase|decrease|decline|rise|rose|fall|fell|drop|change|improve|expand)", q, re.I):
        return "percent"
    if _AMOUNT_Q.search(q) and _RATE_NOUN.search(q) and not re.search(r"\b(how much|amount|dollars?)\b", q, re.I):
        return "percent"  # "what was the effective tax rate?", "what was X's market share in India?"
    if _AMOUNT_Q.search(q) and _METRIC.search(q):
        return "amount"
    if m := _WHAT_MEASURE.match(q):  # "What quarterly dividend per share does X pay?"
        return "percent" if re.search(r"\b(rate|margin|ratio|percentage|yield|growth)\b", m.group(0), re.I) else "amount"
    if re.match(r"^\s*how much\b", q, re.I):
        return "amount"
    return "describe"


# "What did X <verb> in|on <line item>": the verb's object is an amount of it ("hold in cash", "spend on
# research and development"); "what did X say about revenue in 2004" names no line item after "in"
_WHAT_DID_IN = re.compile(r"^\s*what\s+(?:did|does|do|will)\s+.{1,80}?\s(?:in|on)\s+(.+?)(?:\s+(?:about|regarding|at|"
                          r"in|on|during|for|as\s+of|from|over|versus|compared)\b.*)?\??$", re.I | re.S)


# "How many shares did X repurchase, and for how much?": a second question joined to the first
_SECOND_ASK = re.compile(r"\band\s+(?:for|at|by|in|to)?\s*(?P<ask>how (?:much|many)|what|which|when)\b", re.I)
_SECOND_INTENT = {"how much": "amount", "how many": "count", "when": "date"}


def analyze(question: str, idf, vocab_fuzzy=None, glossary=None) -> Query:
    """Build the Query: `idf(stem) -> weight`; `vocab_fuzzy(word) -> [(stem, sim)]` for words
    absent from the corpus; `glossary` expands names to the documents' spellings."""
    asked = readable(question)
    framed = frame(asked)
    # an analyst's preamble and answer instructions ("Assume that you are... Answer using the
    # cash flow statement.") are not what is asked: the question is read without them
    question = framed.question.strip() or asked
    intent = classify(question)
    items = asked_items(question)
    if intent == "describe" and items and _AMOUNT_Q.search(question):
        intent = "amount"  # "What was Coca-Cola's depreciation and amortization in FY2019?": a line item's figure
    elif intent == "describe" and framed.period and (m := _WHAT_DID_IN.match(question)) and asked_items(m.group(1)):
        intent = "amount"  # "What did Microsoft hold in total cash and short-term investments at the end of
        # fiscal 2004?": what is asked is the amount of the line item after the verb
    elif intent == "describe" and framed.unit == "percent" and _RATE_WORD.search(question):
        intent = "percent"  # "HD gross margin in Q4 of fiscal 2019, in percent?"
    elif intent == "describe" and (framed.period or framed.unit) and not _ASKING_WORD.match(question) and \
            (items or (_MEASURE_WORD.search(question) and not _QUESTION_WORD.search(question))):
        intent = "amount"  # "Nike FY22 buybacks ($m)?", "Microsoft FY01 Asia Region revenue?": a measure and a
        # period, asked without a verb
    elif intent == "describe" and items and framed.unit in ("thousands", "millions", "billions", "trillions"):
        intent = "amount"  # "What inventory balance did Apple carry ...? USD millions.": the unit says a figure
    terms = _terms(question, intent, _alternatives(question, idf, glossary), idf, vocab_fuzzy)
    # the years a question names ("revenue in 2019") must be in the passage that answers it
    nums = tuple(sorted(years_in(question)))
    multi = bool(re.search(r"\b(and|both|as well as|each|respectively|plus)\b|,", question, re.I)) and \
        len({m.group(0).lower() for m in _METRIC.finditer(question)}) + \
        len(re.findall(r"\b(grow(th)?|grew|increase|decline)\b", question, re.I)) >= 2 or \
        bool(_SECOND_ASK.search(question))  # "cash and cash equivalents" is one
    entities, unknown = _entities(question, terms, idf)
    metrics = tuple(t.stems for t in terms.values() if METRIC_NOUN.fullmatch(t.word))
    return Query(question, intent, tuple(terms.values()), nums, multi, entities=tuple(entities),
                 metrics=metrics, qualifiers=_qualifiers(question, terms), unknown_names=tuple(unknown),
                 wants_money=intent == "amount" and bool(MONEY_WORDS.search(question)),
                 wants_ratio=bool(RATIO_WORDS.search(question)),
                 per_share=bool(PER_SHARE.search(question)),
                 asks_change=bool(CHANGE_WORDS.search(question)),
                 causal=bool(re.search(r"\b(why|what drove|what caused|reasons?|drivers?|due to what|explain)\b", question, re.I)),
                 period=framed.period, statement=framed.statement, framing=framed, asked=asked,
                 items=items,
                 second_ask=_SECOND_INTENT.get(m.group("ask").lower()) if (m := _SECOND_ASK.search(question)) else None)


def _alternatives(question: str, idf, glossary) -> dict[str, set[str]]:
    """Other stems each word of the question may be written as: the glossary's spellings, an
    abbreviation the question defines, a hyphenated name written joined."""
    alt_by_word: dict[str, set[str]] = {}
    for key, spellings in (glossary.expansions(question) if glossary else []):
        key_words = content_words(key) or words(key)
        key_stems = {stem(w) for w in key_words}
        alt_stems = set()
        for spelling in spellings:
            # a spelling stands for the whole key through its most distinctive word: "TTG",
            # "Tabor" (of "Tabor Tmall Group"), "China" (of "Revenue from China")
            own = [stem(w) for w in (content_words(spelling) or words(spelling)) if stem(w) not in key_stems]
            if own and idf(max(own, key=idf)) >= 1.0:  # a word on every page is no alias
                alt_stems.add(max(own, key=idf))
        for w in key_words:
            alt_by_word.setdefault(w, set()).update(alt_stems)
    # "Alibaba International Digital Commerce (AIDC)": the question defines its own alias
    for m in re.finditer(r"((?:[A-Z][\w&'-]*\s+(?:and\s+|of\s+|&\s+)?){1,7})\(([A-Za-z][A-Za-z0-9&]{1,9})\)", question):
        abbr = stem(m.group(2).lower())
        for w in content_words(m.group(1)):
            alt_by_word.setdefault(w, set()).add(abbr)
    # "Coca-Cola" is also written "CocaCola" (a file name): each part may match the joined word
    for compound in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)+", question):
        parts = split_compound(compound.lower())
        if len(parts) > 1:  # not "non-GAAP", which split_compound keeps whole
            joined = stem("".join(parts))
            for part in parts:
                alt_by_word.setdefault(part, set()).add(joined)
    return alt_by_word


# "FY2022", "Q3", "FY23", "2Q22": a period, which Query.numbers and Query.period carry; as a word
# to match it would outweigh the measure asked
_PERIOD_TOKEN = re.compile(r"(?i)(?:fy|cy|q[1-4]|[1-4]q|h[12])'?\d{0,4}|(?:fy)?'?\d{2}")


def _terms(question: str, intent: str, alt_by_word: dict[str, set[str]], idf, vocab_fuzzy) -> dict[str, Term]:
    """The question's content words as weighted terms, by stem: filler and the words of its
    intent left out, a speaker's name left out, alternative spellings added."""
    terms: dict[str, Term] = {}
    skip = QUESTION_FILLER | _INTENT_WORDS.get(intent, frozenset())
    # "According to Toby Xu, ..." / "what did Eddie Wu say": who said it is rarely written beside
    # what was said (transcripts seldom label speakers), so the speaker's name is not a term to match
    for m in _ATTRIBUTION.finditer(question):
        skip = skip | set(content_words(m.group("who") or m.group("who2") or ""))
    # a name made of common words ("All Others") is still a name: keep its words
    name_words = [w for name in _ENTITY.findall(question) if len(name.split()) > 1
                  for w in words(name) if not content_words(w) and len(w) > 2 and w not in ("and", "the", "for")]
    for w in content_words(question) + name_words:
        s = stem(w)
        if s in terms or w in skip or s in skip or _PERIOD_TOKEN.fullmatch(w):
            continue
        stems = {s} | alt_by_word.get(w, set())
        if vocab_fuzzy is not None and idf(s) >= idf.max and not alt_by_word.get(w):
            stems |= {f for f, _ in vocab_fuzzy(w)}
        # a word the corpus never uses is worth what its best-known spelling is worth
        weight = idf(s) if idf(s) < idf.max else min(idf(x) for x in stems)
        terms[s] = Term(w, frozenset(stems), weight)
    return terms


def _entities(question: str, terms: dict[str, Term], idf) -> tuple[list[frozenset[str]], list[str]]:
    """The names the question uses (each by the stems of its rarest word), and those no
    document uses under any spelling ("France")."""
    entities, unknown = [], []
    by_word = {t.word: t for t in terms.values()}
    # "McDonald's U.S. comparable sales": a possessive ends the owner's name; what follows is another
    runs = [part for name in _ENTITY.findall(question) for part in re.split(r"(?<=['’]s)\s+", name) if part]
    for name in runs:
        name = " ".join(w for w in name.split() if not _NOT_ENTITY.fullmatch(w.strip("'’s")))
        ent = [by_word[w] for w in content_words(name) if w in by_word] if name else []
        if ent:
            # the name is present when its rarest word (or an alias of it) is
            key = max(ent, key=lambda t: t.weight)
            entities.append(key.stems)
            if all(idf(x) >= idf.max for t in ent for x in t.stems):
                unknown.append(name)
    return entities, unknown


# Words before a measure that frame it rather than narrow it: "total revenue", "first-quarter sales"
# or say what kind of subject it is of ("Equipment segment revenue" is Equipment's revenue)
_FRAMING = frozenset(stem(w) for w in "total overall consolidated full fiscal annual year quarter quarterly first second third "
                     "fourth half month reported segment segments business businesses division unit units".split())


def _qualifiers(question: str, terms: dict[str, Term]) -> tuple[frozenset[str], ...]:
    """The words right before a measure in the question that narrow it: "daily active users" is
    not "monthly active users", "diluted EPS" not "basic EPS", "free cash flow" not "operating
    cash flow". Names (capitalised words after the first) are the entity rule's business."""
    names = set(words(" ".join(re.findall(r"(?<!^)\b[A-Z][\w'’-]*", question.strip()))))
    seq = words(question)
    out: dict[frozenset[str], None] = {}
    for i, w in enumerate(seq):
        if not METRIC_NOUN.fullmatch(w):
            continue
        for prev in reversed(seq[max(0, i - 2):i]):
            t = terms.get(stem(prev))
            if t is None or METRIC_NOUN.fullmatch(prev) or prev in names or stem(prev) in _FRAMING:
                break
            out[t.stems] = None
    return tuple(out)


def sub_questions(query: Query) -> list[str]:
    """For a question about several measures ("revenue and adjusted EBITDA"), one question per
    measure, the others' words removed: each finds its own passage."""
    if not (query.multi and len(query.metrics) >= 2):
        return []
    words_of = [t.word for t in query.terms if t.stems in query.metrics]
    out = []
    for keep in words_of:
        others = [w for w in words_of if w != keep]
        text = re.sub(r"\b(" + "|".join(map(re.escape, others)) + r")\b", " ", query.text, flags=re.I)
        out.append(re.sub(r"\s+", " ", text).strip())
    return out


# "..., and what drove the jump?": a cause asked after a figure, in a clause of its own
_CAUSE_CLAUSE = re.compile(
    r"^(?P<fig>.+?)[,;]?\s+and\s+(?P<cause>(?:what|which\s+\w+(?:\s+\w+)?)\s+(?:drove|drives|caused|causes|"
    r"explains?|explained|(?:was|were)\s+behind|contributed\s+to|led\s+to|accounted\s+for)\b[^?]*|"
    r"what\s+(?:were|was|are|is)\s+(?:the\s+)?(?:\w+\s+)?(?:drivers?|reasons?|causes?|factors?)\b[^?]*|why\b[^?]*)"
    r"\?*\s*$", re.I | re.S)
# the figure question's asking words up to its verb: "By roughly what percentage did", "How much was"
_FIGURE_ASK = re.compile(r"^\W*(?:(?:by\s+)?(?:(?:roughly|approximately|about|around)\s+)?(?:how|what|which)\b"
                         r"(?:\s+[\w-]+){0,2}?\s+)?(?P<aux>did|does|do|was|were|has|have|had|is|are)\s+(?P<rest>.+)$",
                         re.I | re.S)  # (or a yes/no question: "Was the effective tax rate below the statutory rate")


def figure_and_cause(question: str) -> tuple[str, str] | None:
    """A figure and its cause asked in one question ("By roughly what percentage did G&A expense
    rise in fiscal 2004, and what drove the jump?"), as two questions: the figure's ("By roughly
    what percentage did G&A expense rise in fiscal 2004?") and a why-question about the same
    change ("Why did G&A expense rise in fiscal 2004?"). Each finds its own passage: the figure
    sits in a table, the cause in a sentence of the MD&A that names no figure asked. None when
    the question is not so built."""
    m = _CAUSE_CLAUSE.match(question.strip())
    if not m or not (f := _FIGURE_ASK.match(m.group("fig"))):
        return None
    figure = m.group("fig").strip().rstrip(",;") + "?"
    return figure, f"Why {f.group('aux').lower()} {f.group('rest').strip().rstrip(',;')}?"
