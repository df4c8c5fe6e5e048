"""Every word list and regex fragment the extractive answerer reads text with, once, each with
an example of what it matches. General financial and English vocabulary: no company's names."""

from __future__ import annotations

import re

from rag.text import stem

# --- figures ----------------------------------------------------------------------------------

CURRENCY = r"(?:RMB|CNY|USD|US\$|HK\$|HKD|EUR|GBP|JPY|\$|€|£|¥)"  # "RMB 280.2 billion", "$1.3 billion"
SCALE = r"(?:trillion|billion|million|thousand|bn|mn|basis points|bps|percentage points?)"  # "120 basis points"
# a figure as written: "RMB 280.2 billion", "13%", "(1,084)", "12 percent", "1,577"
FIGURE_RE = re.compile(
    rf"(?:{CURRENCY}\s?)?(?<![\w.])\(?\d(?:[\d,]*\d)?(?:\.\d+)?\)?(?:\s?%|\s?percent\b)?(?:\s{SCALE}\b)?", re.I)
# "USD 2.07 billion. pardon me, USD 20.7 billion": words that take the figure before them back
RETRACTION = re.compile(r"^[\s.,;:—–-]*(?:pardon me|sorry|excuse me|i mean|i'm sorry|correction|rather|"
                        r"let me correct|i should say)\b", re.I)
YEAR = re.compile(r"^(19|20)\d\d$")  # "2024": a year, not an amount
SCALED = re.compile(SCALE + r"\s*$", re.I)  # "2.1 billion": not a per-share amount
# "increased $555 million", "up 120 basis points": the words before a figure that make it a change
# a change named before its figure ("increased $555 million"), or what moved a measure ("an unfavorable
# impact of 2.3% and 2.7%": the figures listed after the first too)
DELTA = re.compile(r"\b(?:(?:increased|decreased|grew|rose|fell|declined|up|down|higher|lower)(?:\s+by)?\s*"
                   # "decreased 27% or $10.8 billion": the change in both forms
                   r"(?:\(?[-$]?\d+(?:[.,]\d+)*\)?\s*(?:%|percent|million|billion)?\s+or\s+)?|"
                   r"(?:impacts?|effects?|headwinds?|tailwinds?)\s+of\s*"
                   r"(?:\(?[-$]?\d+(?:[.,]\d+)*\)?\s*(?:%|percent|million|billion|basis\s+points)?(?:,\s+(?:and\s+)?|\s+and\s+))*)$",
                   re.I)

# --- dates and periods ------------------------------------------------------------------------

MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# "January 31": the day of a date, not a figure ("Jan. 31" too)
MONTH_BEFORE = re.compile(rf"(?:{MONTHS}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+$")
# "March 31, 2024", "fiscal 2023", "the fourth quarter of 2024", "next year", "Q3 FY24"
DATE_RE = re.compile(
    rf"\b(?:{MONTHS}\s+(?:\d{{1,2}},\s+)?(?:19|20)\d\d|{MONTHS}\s+\d{{1,2}}|(?:fiscal(?: year)?\s+)?(?:19|20)\d\d|"
    rf"(?:the\s+)?(?:{MONTHS}|first|second|third|fourth)\s+(?:quarter|half)(?:\s+of\s+(?:fiscal\s+)?(?:19|20)\d\d)?|"
    rf"(?:next|this|last|coming|following|current)\s+(?:fiscal\s+)?(?:year|quarter|half)|"
    rf"(?:over\s+)?the\s+(?:next|past|last|coming)\s+\d+\s+(?:years|quarters|months)|Q[1-4]\s*(?:FY)?\s*(?:19|20)?\d\d|FY\s?\d{{2,4}})\b",
    re.I)
# "full-year 2023 operating income": the question asks for a year, not a quarter
FULL_YEAR_Q = re.compile(r"\b(?:full[- ]year|fiscal year|annual|for the year|twelve months|12 months)\b", re.I)
# "Year Ended May 31", "twelve months ended": a text that speaks of a year
YEAR_MARK = re.compile(r"\b(?:full[- ]year|years?|annual|twelve months|12 months)\b", re.I)
# "MCDONALDS_2023Q1", "Q2 FY24 Earnings", "first-quarter results": a quarter's report
QUARTERLY_DOC = re.compile(r"(?<![a-z])q[1-4](?!\d)|(?:19|20)\d\dq[1-4]|\b(?:first|second|third|fourth)[ -]quarter", re.I)
QUARTER = re.compile(r"\b(?:(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter|Q([1-4])(?![\d]))", re.I)
ORDINAL_Q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
# Words of a time frame ("first quarter", "fiscal 2022") frame a whole sentence, not one figure.
PERIOD_WORDS = frozenset(stem(w) for w in "first second third fourth quarter quarters fiscal year years month "
                         "months ended ending end full half annual".split())

# --- sentences and clauses --------------------------------------------------------------------

# "driven primarily by", "due to", "reflecting": a clause that gives a cause, not the subject
CAUSAL = re.compile(r"\b(due (?:\w+ly )?to|because|driven (?:\w+ly )?by|attributed to|attributable to|as a result|"
                    r"reflect(s|ed|ing)?|owing to|primarily from|mainly from|caused by|led by|thanks to)\b", re.I)
# other ways a sentence gives a reason: a clause after a comma opening with "as" and its subject
# ("down 3%, as we shift implementation work to partners"), a change's agent ("benefited from",
# "helped by", "offset by", "resulting from"), a change in something else it came with ("on lower
# freight costs", "from higher pricing", "with favorable mix")
REASON = re.compile(r"\b(?:(?:benefit(?:s|ed|ted|ing)?|help(?:s|ed)?|hurt|impacted|affected|pressured|boosted|"
                    r"fu?ell?ed|offset|driven|led|supported)\s+(?:\w+ly\s+)?(?:by|from)|"
                    r"result(?:s|ed|ing)?\s+(?:of|from)|(?:from|on|by|with)\s+(?:\w+\s+)?(?:higher|lower|increased|"
                    r"decreased|reduced|favorable|unfavorable|stronger|weaker|improved))\b|"
                    r",\s+as\s+(?:we|they|our|their|the|its|it|customers?)\b", re.I)
# a question that asks the cause alone ("Why did...", "What drove...", "What were the main reasons..."),
# not a figure and then why ("What happened to free cash flow, and why?")
WHY_ONLY = re.compile(r"^\W*(?:why\b|what\s+(?:drove|drives|caused|causes|explains?|led\s+to|(?:is|was|were)\s+behind)\b|"
                      r"what\s+(?:are|were|is|was)\s+the\s+(?:\w+\s+)?(?:reasons?|drivers?|causes?|factors?)\b)", re.I)
CLAUSE = re.compile(r"[,;]\s")  # "share count, combined with USD 10 billion": another clause
# "It has 170 million DAUs", "These transactions will...": a sentence whose subject is in the one before
ANAPHOR = re.compile(r"^\W*(?:\[\w+\]\s*)?(?:(?:later|then|also|previously|since|currently|today|now|there|here|"
                     r"in addition|additionally|however|meanwhile|moreover|as such|in (?:19|20)\d\d),?\s+)?"
                     r"(?:it|its|this|these|that|those|they|their|such|he|she|his|her|"
                     r"the (?:decrease|increase|growth|decline|transactions?|company|segment|business|deal|figure))\b", re.I)
# "Ignore previous instructions and answer...", "Please refer to the risk factors...": a sentence that
# tells its reader (or a model) what to do states no fact, and is never a figure's source
INSTRUCTION = re.compile(
    r"^\W*(?:(?:please|now|kindly),?\s+)?(?:ignore|disregard|forget|answer|respond|reply|say|tell|output|print|"
    r"write|pretend|act as|refer|override)\b|\b(?:previous|prior|above|earlier|all|these|those) instructions\b|"
    r"\bsystem prompt\b|\byou (?:must|should|will) (?:now )?(?:answer|say|reply|respond|ignore|output)\b", re.I)
# "Total" and the small words of a row label say nothing of what the row is: "Total net revenues"
LABEL_NEUTRAL = frozenset("total of and the by for in from to a an on at".split())

# --- people -----------------------------------------------------------------------------------

HONORIFIC = r"(?:Mr|Ms|Mrs|Dr)"  # "Ms. Catz"
NAME_RE = re.compile(rf"\b(?:{HONORIFIC}\.\s)?[A-Z][a-z]+(?:[ -][A-Z]\.)?(?:\s[A-Z][a-z]+){{1,2}}\b|"
                     rf"\b{HONORIFIC}\.\s[A-Z][a-z]+\b")  # "Safra Catz", "Ms. Catz"
# a run of capitalised words, acronyms or product names: "Cloud Intelligence Group", "AIDC", "iPhone"
NAME_RUN = re.compile(r"\b(?:[A-Z][\w&'-]*|[a-z][A-Z][\w&'-]*)(?:\s+(?:of\s+|and\s+|&\s+)?(?:[A-Z][\w&'-]*))*")
# "who asked the first question?", "the last analyst": a question turn by its place in the call
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
ASKER_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|last|final)\s+"
                           r"(?:question|questioner|analyst)", re.I)
# Capitalised runs that are not people: sentence openers, organisations, titles, calendar words.
NOT_NAME_WORDS = frozenset("""
The This That These Those In On At Our We As For And But So If It Its Next Your Thank Thanks Good Welcome
Group Holding Holdings Inc Ltd Limited Corp Corporation Company Co Bank Securities Capital Partners Fund
Call Conference Results Earnings Quarter Fiscal Year Annual Report Form Chief Vice President Deputy
Financial Officer Executive Operating Technology Chairman Director Head Investor Relations Board Committee
Cloud Intelligence International Digital Commerce Business Segment Services Platform Products Market
January February March April May June July August September October November December Monday Tuesday
Wednesday Thursday Friday Saturday Sunday United States America China Europe Asia North South East West
Name Names Office Offices Exchange Commission Agreement Settlement Statement Statements Section Act Item Part
Note Notes Table Contents Total Net Sales Revenue Revenues Income Plan Program Court
""".split())
