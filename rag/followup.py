"""Follow-up questions: "and AIDC?" or "what about its EBITDA?" completed with the previous
question's subject or measure, deterministically, before retrieval.

The previous question is split into its measure (financial metric words: revenue, EBITDA, growth)
and its subject (the other content words: "cloud", "Taobao and Tmall Group"). A follow-up that
names a new subject keeps the measure; one that names a new measure ("its EBITDA") keeps the
subject; a pronoun ("how fast did it grow?") is replaced by the subject.
"""

from __future__ import annotations

import re

from rag.text import MEASURES, STOPWORDS

_LEAD = re.compile(r"^\s*(?:and|also|ok(?:ay)?|so|then)?[\s,]*(?:what|how)\s+about\s+|^\s*(?:and|also)\s+(?:for\s+|in\s+)?|"
                   r"^\s*(?:same|ditto)\s+for\s+|^\s*what\s+of\s+", re.I)
_PRONOUN = re.compile(r"\b(its|their|it|they|them|that|those|this|these|he|she|his|her)\b", re.I)
_WH = re.compile(r"^\s*(who|what|when|where|which|why|how|is|are|was|were|did|does|do|can|could|will|would|has|have)\b", re.I)
MEASURE = re.compile(
    rf"\b({MEASURES}|profitability|cash|flows?|expenditures?|spend(?:ing)?|growth|grow|grew|increase[sd]?|"
    r"decrease[sd]?|decline[sd]?|adjusted|non-gaap|gaap|net|total|operating|free|losses?|loss|share|count|rate|"
    r"take|margin|year-over-year|yoy|quarter|outlook|guidance)\b", re.I)


def _content_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[A-Za-z0-9][\w.&'-]*", text)
            if m.group(0).lower() not in STOPWORDS and not _WH.match(m.group(0))]


def is_elliptical(question: str) -> bool:
    q = question.strip()
    if _LEAD.match(q):
        return True
    content = _content_spans(q)
    return (len(content) <= 3 and not _WH.match(q)) or bool(_PRONOUN.search(q) and len(content) <= 4)


def _split(prev: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    spans = _content_spans(prev)
    measure = [s for s in spans if MEASURE.fullmatch(s[2])]
    subject = [s for s in spans if not MEASURE.fullmatch(s[2])]
    return subject, measure


def _replace(text: str, spans: list[tuple[int, int, str]], new: str) -> str:
    """Replace the run from the first to the last span (inclusive) with `new`."""
    a, b = spans[0][0], spans[-1][1]
    return text[:a] + new + text[b:]


def complete(question: str, history: list[str]) -> str:
    """The follow-up rewritten as a standalone question; unchanged when it already is one.

    >>> complete("and AIDC?", ["How much did cloud revenue grow?"])
    'How much did AIDC revenue grow?'
    >>> complete("what about its adjusted EBITDA?", ["What was Taobao and Tmall Group revenue?"])
    'What was Taobao and Tmall Group adjusted EBITDA?'
    """
    if not history or not is_elliptical(question):
        return question
    prev = history[-1].strip()
    subject, measure = _split(prev)
    rest = _LEAD.sub("", question.strip()).rstrip(" ?.!")
    had_pronoun = bool(_PRONOUN.search(rest))
    rest_clean = re.sub(r"\s+", " ", _PRONOUN.sub(" ", rest)).strip()
    rest_spans = _content_spans(rest_clean)
    if _WH.match(rest) and rest_spans:
        # a whole question with a pronoun: "how fast did it grow?" -> put the subject in its place
        if had_pronoun and subject:
            subj = prev[subject[0][0]:subject[-1][1]]
            return _PRONOUN.sub(lambda m: subj + ("'s" if m.group(1).lower() in ("its", "their", "his", "her") else ""),
                                question.strip(), count=1)
        if _LEAD.match(question):
            # "and how much remains under the authorization?": carry the previous topic along
            topic = " ".join(w for _, _, w in subject + measure)
            return f"{rest[0].upper()}{rest[1:]}? ({topic})" if topic else question
        return question
    if not rest_spans:
        return prev
    new_is_measure = all(MEASURE.fullmatch(s[2]) for s in rest_spans)
    if (new_is_measure or had_pronoun) and measure:
        # "what about its EBITDA?": same subject, new measure; keep a growth verb if the new has none
        kept_verbs = [s for s in measure if re.fullmatch(r"grow|grew|increase[sd]?|decrease[sd]?|decline[sd]?", s[2], re.I)]
        nouns = [s for s in measure if s not in kept_verbs]
        target = nouns or measure
        out = _replace(prev, target, rest_clean)
        return out
    if subject:
        return _replace(prev, subject, rest_clean)
    return f"{prev.rstrip(' ?')} for {rest_clean}?"
