"""Stage 3: field-wise similarity of candidate pairs, and a decision per pair.

Each field gives a similarity in [0, 1], or NaN when either record lacks it:
a missing field is no evidence either way. The decision is rule-based, not a
single cut on a weighted score, because the costly error (merging two
different studies) comes from a few recognisable situations: an erratum
sharing its article's title, part 1 and part 2, the same report in another
year, two DOIs. Those situations veto an automatic merge whatever the score.
The weighted score is still computed, to rank pairs for a reviewer.

Decisions: "auto-merge", "needs-review", "distinct". The reason names the rule
that decided, so a reviewer can see why.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from review.dedup.prepare import FLAG_CONFERENCE_ABSTRACT, STOPWORDS, flag_names, initials

AUTO_MERGE = "auto-merge"
NEEDS_REVIEW = "needs-review"
DISTINCT = "distinct"
DECISIONS = (AUTO_MERGE, NEEDS_REVIEW, DISTINCT)

SIMILARITY_FIELDS = ("title", "authors", "year", "journal", "volume", "issue", "pages",
                     "doi", "pmid", "url", "abstract")

# Weights of the ranking score. Issue is left out: several exports put record
# numbers or supplement labels there, so it disagrees on true duplicates.
SCORE_WEIGHTS = {"title": 3.0, "authors": 2.0, "year": 1.0, "journal": 1.0, "volume": 1.0,
                 "pages": 1.0, "doi": 2.0, "pmid": 2.0, "url": 1.0, "abstract": 1.0}


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs of the decision rules. The defaults gave no false merge on any benchmark set."""

    title_auto: float = 0.95  # title similarity for a merge backed by two other fields
    title_auto_loose: float = 0.90  # lower title similarity, backed by three fields incl. authors
    title_with_identifier: float = 0.80  # title similarity needed when DOI or PMID are equal
    title_with_locators: float = 0.75  # ... when journal, volume, first page, year and authors agree
    title_translated: float = 0.60  # ... and both are multi-page papers (titles in translation)
    title_any_language: float = 0.30  # ... and the whole page range and an author list agree
    authors_agree: float = 0.75
    authors_conflict: float = 0.40
    journal_agree: float = 0.80
    journal_conflict: float = 0.50
    abstract_agree: float = 0.90
    min_evidence: float = 2.0  # fields agreeing besides the title
    score_auto: float = 0.80  # weighted score an automatic merge also needs
    review_title: float = 0.80  # title similarity that, with review_score, makes a pair worth a look
    review_score: float = 0.70  # weighted score a non-merged pair needs to be worth a look
    candidate_title: float = 0.60  # pairs below this (and no shared identifier) are dropped early

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScoredPairs:
    """Similarities and decisions, one entry per candidate pair (row positions left/right)."""

    left: np.ndarray
    right: np.ndarray
    similarities: dict[str, np.ndarray]
    score: np.ndarray
    decision: np.ndarray
    reason: np.ndarray
    hard_conflict: np.ndarray  # pairs that must never end up in one cluster

    def __len__(self) -> int:
        return int(self.left.size)


# --- single-field similarities ---------------------------------------------

def _ratio_pairs(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """rapidfuzz ratio of values[left[k]] and values[right[k]] in [0, 1]; NaN if either is empty."""
    a = values[left]
    b = values[right]
    if len(a) == 0:
        return np.empty(0)
    result = process.cpdist(list(a), list(b), scorer=fuzz.ratio, workers=1).astype(float) / 100.0
    missing = (a == "") | (b == "")
    result[missing] = np.nan
    return result


def title_similarity(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Best of: plain ratio, ratio without spaces, subtitle dropped, translated title."""
    titles = prepared["title"].to_numpy(object)
    # The compact form (spaces removed) forgives "e-mail"/"email", "co-ordinated"/"coordinated".
    spaced = _ratio_pairs(titles, left, right)
    compact = _ratio_pairs(prepared["title_compact"].to_numpy(object), left, right)
    best = np.fmax(spaced, compact)
    best = np.fmax(best, subtitle_dropped(prepared, left, right))
    return _with_translated_titles(prepared, left, right, best)


def _with_translated_titles(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray,
                            best: np.ndarray) -> np.ndarray:
    """Raise `best` where a title given in two languages matches the other record in either."""
    titles = prepared["title"].to_numpy(object)
    alternative = prepared["title_alt"].to_numpy(object)
    has_alt = (alternative[left] != "") | (alternative[right] != "")
    if has_alt.any():
        l, r = left[has_alt], right[has_alt]
        with_alt = np.fmax(_ratio_across(alternative, titles, l, r), _ratio_across(titles, alternative, l, r))
        with_alt = np.fmax(with_alt, _ratio_across(alternative, alternative, l, r))
        best = best.copy()
        best[has_alt] = np.fmax(best[has_alt], with_alt)
    return best


_SEPARATE_PART = re.compile(
    r"\b(part|parts|phase|volume|vol|book|chapter|section|appendix|appendices|annex|annexes|supplement|"
    r"erratum|correction|reply|protocol|interim|summary|executive|technical|consultation|responses)\b")
SUBTITLE_DROPPED = 0.9  # similarity given when one title is the other minus its subtitle


def subtitle_dropped(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """SUBTITLE_DROPPED where one title is the other's start, cut at a word, and has
    at least three significant words ("Anxiety about electronic data hacking" /
    "... : predictors and relations with ..."); NaN otherwise. Not when the
    dropped part names a part, an appendix or a reply ("...: part 2")."""
    titles = prepared["title"].to_numpy(object)
    numbers = prepared["title_numbers"].to_numpy(object)
    out = np.full(len(left), np.nan)
    # Only pairs whose titles start alike can qualify; find them without a Python loop.
    heads = np.array([t[:12] for t in titles], dtype=object)
    lengths = np.fromiter((len(t) for t in titles), dtype=np.int64, count=len(titles))
    maybe = np.flatnonzero((heads[left] == heads[right]) & (lengths[left] != lengths[right]) & (lengths[left] > 0))
    for k in maybe:
        i, j = left[k], right[k]
        a, b = titles[i], titles[j]
        short, long = (a, b) if len(a) < len(b) else (b, a)
        if not long.startswith(short + " ") or sum(1 for w in short.split() if w not in STOPWORDS) < 3:
            continue
        if numbers[i] and numbers[j] and numbers[i] != numbers[j] or _SEPARATE_PART.search(long, len(short)):
            continue
        out[k] = SUBTITLE_DROPPED
    return out


def _ratio_across(first: np.ndarray, second: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = first[left], second[right]
    result = process.cpdist(list(a), list(b), scorer=fuzz.ratio, workers=1).astype(float) / 100.0
    result[(a == "") | (b == "")] = np.nan
    return result


def _name_match(a: str, b: str) -> bool:
    if a == b:
        return True
    # Compound surnames are cut differently ("sberro soussan" / "sberro").
    if a.startswith(b) or b.startswith(a):
        return min(len(a), len(b)) >= 3
    return fuzz.ratio(a, b) >= 85


def _corporate_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    # An acronym against its expansion: "nao" / "national audit office".
    if " " not in a and a == initials(b) or " " not in b and b == initials(a):
        return 1.0
    # "great britain department of health" / "department of health"
    return fuzz.token_set_ratio(a, b) / 100.0 if min(len(a), len(b)) >= 6 else fuzz.ratio(a, b) / 100.0


def _same_author(a: str, b: str, words_a: frozenset, words_b: frozenset) -> bool:
    if _name_match(a, b):
        return True
    # Given and family name swapped by one database ("Moritz, Altenried"): the
    # surname of one is among the name words of the other.
    return _surname_among(b, words_a) or _surname_among(a, words_b)


def _surname_among(surname: str, words: frozenset) -> bool:
    parts = [p for p in surname.split() if len(p) > 1]  # "o brochta" -> ["brochta"]
    return bool(parts) and all(p in words for p in parts)


def author_similarity(a: tuple, b: tuple) -> float:
    """Similarity of two author lists given as (surname keys, name-word sets).

    First author, and the overlap of the shorter list: lists are compared on
    their common length because one database truncates ("et al.") where
    another lists all authors.
    """
    keys_a, words_a = a
    keys_b, words_b = b
    if not keys_a or not keys_b:
        return float("nan")
    if keys_a == keys_b:
        return 1.0
    first_a, first_b = keys_a[0], keys_b[0]
    if _same_author(first_a, first_b, words_a[0], words_b[0]):
        first = 1.0
    elif " " in first_a or " " in first_b:
        first = _corporate_similarity(first_a, first_b)
    else:
        first = fuzz.ratio(first_a, first_b) / 100.0
    if len(keys_a) <= len(keys_b):
        short_keys, short_words, long_keys, long_words = keys_a, words_a, keys_b, words_b
    else:
        short_keys, short_words, long_keys, long_words = keys_b, words_b, keys_a, words_a
    if len(short_keys) == 1:
        return first
    short_keys, short_words = short_keys[:10], short_words[:10]
    long_keys, long_words = long_keys[:14], long_words[:14]
    exact = set(long_keys)
    matched = 0
    for name, words in zip(short_keys, short_words):
        # Cheapest test first: exact, then one C-level fuzzy search, then the rest.
        if name in exact or process.extractOne(name, long_keys, scorer=fuzz.ratio, score_cutoff=85) is not None or any(
                _same_author(name, other, words, other_words) for other, other_words in zip(long_keys, long_words)):
            matched += 1
    return 0.5 * first + 0.5 * matched / len(short_keys)


def journal_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Journal names with abbreviations: "Orphanet J Rare Dis" = "Orphanet Journal of Rare Diseases"."""
    if not a or not b:
        return float("nan")
    if a == b:
        return 1.0
    short, long = (a, b) if len(" ".join(a)) <= len(" ".join(b)) else (b, a)
    if _abbreviates(short, long):
        return 0.95
    if len(short) == 1 and short[0] == "".join(t[0] for t in long):
        return 0.9  # an acronym: "jama", "bmj"
    # A conference named in full in one record and by acronym in the other:
    # "International Conference on Information Systems" / "ICIS: Transforming Society ...".
    for one, other in ((a, b), (b, a)):
        acronym = "".join(t[0] for t in one if not t.isdigit())
        if len(one) >= 3 and len(acronym) >= 3 and acronym in other:
            return 0.9
    return max(fuzz.ratio(" ".join(a), " ".join(b)), fuzz.token_sort_ratio(" ".join(a), " ".join(b))) / 100.0


def _abbreviates(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Each word of `short` is a prefix of the next unmatched word of `long`, in order.

    At most one word of `long` may go unmatched (ISO 4 drops some), and every
    word must be used when the long name is short, so "Nature" does not
    abbreviate "Nature Medicine".
    """
    position = 0
    skipped = 0
    for word in short:
        while position < len(long) and not long[position].startswith(word):
            position += 1
            skipped += 1
        if position == len(long):
            return False
        position += 1
    skipped += len(long) - position
    return skipped == 0 or (skipped == 1 and len(long) >= 4)


def _equal_or_nan(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a = values[left]
    b = values[right]
    result = (a == b).astype(float)
    result[(a == "") | (b == "")] = np.nan
    return result


def _year_similarity(years: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a = years[left]
    b = years[right]
    diff = np.abs(a - b)
    result = np.where(diff == 0, 1.0, np.where(diff == 1, 0.5, 0.0))
    result[(a <= 0) | (b <= 0)] = np.nan
    return result


def _is_article_number(first: str, last: str) -> bool:
    """e12724, a1754, CD001876, 1000568: an electronic article number, not a printed page."""
    return first == last and (not first[:1].isdigit() or len(first) >= 5)


def page_similarity(first_a: str, last_a: str, first_b: str, last_b: str) -> float:
    """1 same range; 0.9 same first page; 0.8 a typo or a single page that is the
    other's last; 0.5 a page inside the other's range; 0 different; NaN when one
    is missing or one is an article number and the other printed pages."""
    if not first_a or not first_b:
        return float("nan")
    if first_a == first_b:
        return 1.0 if last_a == last_b else 0.9
    if first_a.lstrip("abcdefghijklmnopqrstuvwxyz") == first_b.lstrip("abcdefghijklmnopqrstuvwxyz"):
        return 0.9  # "S376" / "376"
    if _is_article_number(first_a, last_a) != _is_article_number(first_b, last_b):
        return float("nan")  # BMJ "a1754" against its printed "969-972": not comparable
    ranged_a, ranged_b = first_a != last_a, first_b != last_b
    if ranged_a and ranged_b and last_a == last_b:
        return 0.8  # "2297-2108" / "2097-2108": a typo in the first page
    if ranged_a != ranged_b:
        single, first, last = (first_b, first_a, last_a) if ranged_a else (first_a, first_b, last_b)
        if single == last:
            return 0.8  # "569" / "567-569": one database kept the last page
        if single.isdigit() and first.isdigit() and last.isdigit() and int(first) <= int(single) <= int(last):
            return 0.5
    return 0.0


def _page_similarity(first: np.ndarray, last: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.fromiter((page_similarity(first[i], last[i], first[j], last[j]) for i, j in zip(left, right)),
                       dtype=float, count=len(left))


def _issue_similarity(issues: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = issues[left], issues[right]
    result = np.array([1.0 if x == y else (0.5 if x and y and (x in y or y in x) else 0.0)
                       for x, y in zip(a, b)], dtype=float)
    result[(a == "") | (b == "")] = np.nan
    return result


def _pairwise(function, values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Apply a two-argument similarity per pair, caching repeated value pairs (journals repeat)."""
    cache: dict = {}
    out = np.empty(len(left), dtype=float)
    for k, (i, j) in enumerate(zip(left, right)):
        a, b = values[i], values[j]
        key = (a, b)
        value = cache.get(key)
        if value is None:
            value = function(a, b)
            cache[key] = value
        out[k] = value
    return out


def similarities(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> dict[str, np.ndarray]:
    """All field similarities for the given pairs."""
    sims: dict[str, np.ndarray] = {}
    sims["title"] = title_similarity(prepared, left, right)
    # Not a field: marks pairs whose titles differ only by a dropped subtitle.
    sims["subtitle_dropped"] = subtitle_dropped(prepared, left, right)
    keys = prepared["authors"].to_numpy(object)
    words = prepared["author_words"].to_numpy(object)
    # Author lists are mostly unique per pair: no cache, and equal lists skip the work.
    sims["authors"] = np.fromiter(
        (author_similarity((keys[i], words[i]), (keys[j], words[j])) if keys[i] != keys[j] or not keys[i]
         else 1.0 for i, j in zip(left, right)), dtype=float, count=len(left))
    sims["year"] = _year_similarity(prepared["year"].to_numpy(np.int64), left, right)
    sims["journal"] = _pairwise(journal_similarity, prepared["journal_tokens"].to_numpy(object), left, right)
    sims["volume"] = _equal_or_nan(prepared["volume"].to_numpy(object), left, right)
    sims["issue"] = _issue_similarity(prepared["issue"].to_numpy(object), left, right)
    sims["pages"] = _page_similarity(prepared["first_page"].to_numpy(object),
                                     prepared["last_page"].to_numpy(object), left, right)
    sims["doi"] = _equal_or_nan(prepared["doi"].to_numpy(object), left, right)
    sims["pmid"] = _equal_or_nan(prepared["pmid"].to_numpy(object), left, right)
    sims["url"] = _equal_or_nan(prepared["url"].to_numpy(object), left, right)
    sims["abstract"] = _ratio_pairs(prepared["abstract"].to_numpy(object), left, right)
    return sims


def weighted_score(sims: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted mean of the available similarities (missing fields leave the mean)."""
    total = np.zeros(len(sims["title"]))
    weight = np.zeros(len(sims["title"]))
    for field, w in SCORE_WEIGHTS.items():
        values = sims[field]
        present = ~np.isnan(values)
        total[present] += w * values[present]
        weight[present] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, 0.0)


# --- decisions ---------------------------------------------------------------

def _agree(values: np.ndarray, cut: float) -> np.ndarray:
    return np.nan_to_num(values, nan=-1.0) >= cut


def _conflict(values: np.ndarray, cut: float) -> np.ndarray:
    return np.nan_to_num(values, nan=2.0) < cut


def _numbers_differ(numbers: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Both titles carry numbers and each has one the other lacks: "part 1" / "part 2", "2019" / "2020".

    One side having extra numbers ("... N Engl J Med 2009;360:544" appended by a
    database) is formatting, not a different work.
    """
    def differ(a: tuple, b: tuple) -> bool:
        if not a or not b or a == b:
            return False
        set_a, set_b = set(a), set(b)
        return not (set_a <= set_b or set_b <= set_a)

    return np.fromiter((differ(numbers[i], numbers[j]) for i, j in zip(left, right)), dtype=bool, count=len(left))


def _small_number(values: np.ndarray) -> np.ndarray:
    return np.fromiter((v.isdigit() and int(v) <= 60 for v in values), dtype=bool, count=len(values))


def decide(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray, sims: dict[str, np.ndarray],
           thresholds: Thresholds, different: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decision, reason, weighted score and hard-conflict mask for each pair.

    Order: reviewer's "different"; stage 1 (same DOI/PMID); vetoes (at most
    needs-review); merge rules; needs-review for the similar rest.
    """
    t = thresholds
    n = len(left)
    score = weighted_score(sims)
    title = np.nan_to_num(sims["title"], nan=-1.0)
    title_missing = np.isnan(sims["title"])

    def column(name: str, dtype=object) -> tuple[np.ndarray, np.ndarray]:
        values = prepared[name].to_numpy(dtype)
        return values[left], values[right]

    same_doi, same_pmid = sims["doi"] == 1.0, sims["pmid"] == 1.0
    identifier = same_doi | same_pmid
    doi_conflict = (sims["doi"] == 0.0) & ~same_pmid
    pmid_conflict = (sims["pmid"] == 0.0) & ~same_doi
    year_equal, year_off_one, year_far = sims["year"] == 1.0, sims["year"] == 0.5, sims["year"] == 0.0
    volume_equal, volume_conflict = sims["volume"] == 1.0, sims["volume"] == 0.0
    page_equal = _agree(sims["pages"], 0.9)  # same first page
    page_agree = _agree(sims["pages"], 0.8)  # ... or a typo / last page only
    page_conflict = sims["pages"] == 0.0
    locators_equal = volume_equal & page_equal
    issue_a, issue_b = column("issue")
    # Small issue numbers that differ (MIS Quarterly 24(1) vs 24(2)); large ones
    # are often record numbers that an export put in the issue field.
    issue_conflict = (sims["issue"] == 0.0) & _small_number(issue_a) & _small_number(issue_b)
    authors_agree = _agree(sims["authors"], t.authors_agree)
    authors_strong = _agree(sims["authors"], 0.9)
    authors_conflict = _conflict(sims["authors"], t.authors_conflict)
    journal_agree = _agree(sims["journal"], t.journal_agree)
    journal_conflict = _conflict(sims["journal"], t.journal_conflict)
    abstract_agree = _agree(sims["abstract"], t.abstract_agree)
    url_equal = sims["url"] == 1.0
    url_a, _ = column("url")
    # A URL with a path names one document; a bare host names a whole site.
    specific_url = url_equal & np.fromiter((u.count("/") >= 1 and len(u) >= 20 for u in url_a), dtype=bool, count=n)
    subtitle = sims["subtitle_dropped"] == SUBTITLE_DROPPED
    year_missing = np.isnan(sims["year"])

    paper_a, paper_b = column("paper_like", bool)
    # One printed article: same volume, same first AND last page of a multi-page
    # range, same year. Titles (translations) and author lists (group names,
    # name order) may then differ without making it another work.
    volume_a, volume_b = column("volume")
    # Proceedings have no volume: the same proceedings title stands in for it.
    same_volume = volume_equal | ((volume_a == "") & (volume_b == "") & journal_agree)
    same_article = same_volume & (sims["pages"] == 1.0) & paper_a & paper_b & year_equal & ~issue_conflict
    flags_a, flags_b = column("flags", np.int64)
    kind_a, kind_b = flags_a & ~FLAG_CONFERENCE_ABSTRACT, flags_b & ~FLAG_CONFERENCE_ABSTRACT
    # An erratum never shares its article's first page: same volume and first page
    # means one notice that one database labelled "Erratum:" and another did not.
    # Nor does an erratum, protocol or appendix share its article's abstract.
    flags_differ = (kind_a != kind_b) & ~locators_equal & ~_agree(sims["abstract"], 0.97)
    abstract_a, abstract_b = (flags_a & FLAG_CONFERENCE_ABSTRACT) != 0, (flags_b & FLAG_CONFERENCE_ABSTRACT) != 0
    # A conference abstract against the multi-page paper that followed it.
    abstract_vs_paper = ((abstract_a & ~abstract_b & paper_b) | (abstract_b & ~abstract_a & paper_a)) & ~locators_equal
    numbers_differ = _numbers_differ(prepared["title_numbers"].to_numpy(object), left, right) & ~same_article
    generic_a, generic_b = column("title_generic", bool)
    generic_pair = generic_a | generic_b
    type_a, type_b = column("type_family")
    # Proceedings are often published as book series: conference and chapter are one kind.
    family_a = np.where(type_a == "chapter", "conference", type_a)
    family_b = np.where(type_b == "chapter", "conference", type_b)
    type_conflict = (family_a != "") & (family_b != "") & (family_a != family_b)
    both_conference = (family_a == "conference") & (family_b == "conference")
    # One year apart is fine where something else fixes the item: the printed
    # place, an identifier, the same volume of the same journal (online first,
    # print later), or a conference whose proceedings carry the next year.
    year_explained = locators_equal | identifier | (
        volume_equal & ~page_conflict & (title >= t.title_auto) & authors_strong & journal_agree) | (
        both_conference & (title >= 0.97) & authors_strong)

    # Conflicts that make a pair different works, not a formatting variant. They
    # also become cannot-links, so clustering cannot join the two through a third record.
    hard_conflict = doi_conflict | pmid_conflict | flags_differ | numbers_differ | (year_far & ~identifier) | (
        abstract_vs_paper)

    evidence = (
        authors_agree.astype(float) + year_equal + journal_agree + page_agree + 0.5 * volume_equal
        + url_equal + abstract_agree + _agree(sims["abstract"], 0.97)
        - journal_conflict * ~locators_equal
    )
    # Year and journal alone do not tell two papers apart: some field tied to the work must agree.
    identity = authors_agree | page_agree | abstract_agree | url_equal

    decision = np.full(n, DISTINCT, dtype=object)
    reason = np.full(n, "", dtype=object)
    undecided = np.ones(n, dtype=bool)

    def assign(mask: np.ndarray, value: str, why: str) -> None:
        nonlocal undecided
        hit = mask & undecided
        decision[hit] = value
        reason[hit] = why
        undecided &= ~hit

    if different is not None:
        assign(different, DISTINCT, "marked different by a reviewer")
        hard_conflict = hard_conflict | different

    # Stage 1: a shared identifier, with a title that agrees.
    # With the same identifier, title and printed place, an author list that
    # disagrees is a parsing error ("Amber C. F." for "Cicek, Amber F.").
    authors_wrong = authors_conflict & ~same_article & ~(locators_equal & (title >= t.title_auto))
    # Stage 1 checks of its own: the identifier must not be the only thing in common.
    id_title_ok = (title >= t.title_with_identifier) | title_missing
    # Years far apart with the same volume and page are a wrong year in one export.
    id_year_far = year_far & ~locators_equal
    id_generic = generic_pair & ~locators_equal & ~same_pmid
    id_ok = (
        identifier & ~flags_differ & ~abstract_vs_paper & ~numbers_differ & ~id_year_far & ~authors_wrong
        & ~doi_conflict & ~pmid_conflict & id_title_ok & ~id_generic
    )
    assign(id_ok & same_doi, AUTO_MERGE, "same DOI")
    assign(id_ok & same_pmid, AUTO_MERGE, "same PMID")

    # Worth a person's time: a shared identifier or printed place, or a good overall
    # score with a close title (or a fair title and a field tied to the work). A
    # similar title alone is not: "Editorial" x 100, or "Atypical haemolytic uremic
    # syndrome" by different authors in different years, would bury the real cases.
    # A supplement DOI shared by a whole meeting's abstracts is no reason on its own,
    # and neither is an equal generic title ("Editorial") without the same place.
    review_worthy = (identifier & (title >= t.candidate_title)) | same_article | (
        (score >= t.review_score) & ((title >= t.review_title) | ((title >= t.candidate_title) & identity))
        & (~generic_pair | locators_equal))
    vetoes = (
        (doi_conflict, "DOIs differ"),
        (pmid_conflict, "PMIDs differ"),
        (flags_differ, "one is an erratum/retraction/reply/appendix/summary/protocol, the other not"),
        (abstract_vs_paper, "conference abstract vs full paper"),
        (numbers_differ, "numbers in title differ (part, year, phase)"),
        (year_far & ~identifier, "years differ by more than one"),
        (year_off_one & ~year_explained, "years differ by one, nothing else fixes the item"),
        (volume_conflict & ~identifier, "volumes differ"),
        (page_conflict & ~identifier, "pages differ"),
        (issue_conflict & ~page_equal & ~identifier, "issues differ, no pages to confirm"),
        # Organisations are cited as department, minister or agency; the same
        # document URL and title outweigh that.
        (authors_conflict & ~same_article & ~(specific_url & (title >= t.title_auto) & (year_equal | year_missing)),
         "authors differ"),
        (type_conflict & ~identifier, "publication types differ"),
        (generic_pair & ~locators_equal & ~identifier, "generic title, no volume+page to confirm"),
        (identifier & ~id_title_ok, "same identifier but titles differ"),
        (identifier & id_year_far, "same identifier but years far apart"),
        (identifier & authors_wrong, "same identifier but authors differ"),
        (identifier & id_generic, "same identifier on a generic title, no volume+page to confirm"),
    )
    for mask, why in vetoes:
        hit = mask & undecided
        decision[hit & review_worthy] = NEEDS_REVIEW
        reason[hit] = "veto: " + why
        if mask is flags_differ:  # name the kinds: "erratum", "appendix/supplement", ...
            for k in np.flatnonzero(hit):
                reason[k] = f"veto: one is {explain_flags(int(kind_a[k]), int(kind_b[k]))}, the other not"
        undecided &= ~hit

    strict = (title >= t.title_auto) & (evidence >= t.min_evidence) & identity
    loose = (title >= t.title_auto_loose) & authors_agree & (evidence >= t.min_evidence + 1) & identity
    # Same journal, volume, first page, year and authors: one article even if one
    # database gives the title in translation, down to 0.6 for multi-page papers.
    title_floor = np.where(paper_a & paper_b, t.title_translated, t.title_with_locators)
    placed = (title >= title_floor) & locators_equal & journal_agree & year_equal & authors_agree
    # With a dissimilar title, a single author at the same pages could be two issues
    # paginated alike: ask for a team of authors or the same issue.
    team_a, team_b = (np.fromiter((len(a) >= 2 for a in side), dtype=bool, count=n) for side in column("authors"))
    printed = same_article & journal_agree & authors_strong & ((title >= t.title_any_language) | title_missing) & (
        (team_a & team_b) | (sims["issue"] == 1.0))
    # Records with little more than title and abstract (screening exports): a long
    # title that agrees exactly and an abstract that agrees.
    block_a, block_b = column("title_block")
    long_title = np.fromiter((len(a.split()) >= 6 and len(b.split()) >= 6 for a, b in zip(block_a, block_b)),
                             dtype=bool, count=n)
    described = (title >= 0.98) & long_title & abstract_agree & ~journal_conflict
    # Reports and web pages: title, authors and year are most of what there is.
    # A dropped subtitle, or the same document URL, then decides.
    subtitled = subtitle & authors_agree & year_equal
    same_document = specific_url & (title >= t.title_with_identifier) & (year_equal | year_missing)
    # The weighted score leans on the title, so it gates the title-led rules only.
    strict &= score >= t.score_auto
    loose &= score >= t.score_auto
    assign(strict, AUTO_MERGE, "title and other fields agree")
    assign(loose, AUTO_MERGE, "similar title, authors and other fields agree")
    assign(placed, AUTO_MERGE, "same journal, volume, first page, year and authors")
    assign(printed, AUTO_MERGE, "same printed article (journal, volume, page range, year, authors)")
    assign(described, AUTO_MERGE, "same long title and abstract")
    assign(subtitled, AUTO_MERGE, "same title but for a subtitle, same authors and year")
    assign(same_document, AUTO_MERGE, "same document URL and similar title")
    assign(review_worthy, NEEDS_REVIEW, "similar, not enough agreeing fields to merge")
    assign(np.ones(n, dtype=bool), DISTINCT, "not similar enough")
    return decision, reason, score, hard_conflict


def explain_flags(flags_a: int, flags_b: int) -> str:
    """Which trap flags differ, for display."""
    return ", ".join(flag_names(flags_a ^ flags_b))


def score_pairs(prepared: pd.DataFrame, left: np.ndarray, right: np.ndarray, thresholds: Thresholds,
                different: np.ndarray | None = None) -> ScoredPairs:
    """Similarities and decisions for candidate pairs.

    Pairs whose titles are far apart and that share no identifier are dropped
    before the expensive fields are compared: they can be neither a merge nor
    worth a reviewer's time.
    """
    # A cheap first look (one ratio, spaces removed) decides which pairs get the full comparison.
    compact = _ratio_pairs(prepared["title_compact"].to_numpy(object), left, right)
    title = _with_translated_titles(prepared, left, right, np.fmax(compact, subtitle_dropped(prepared, left, right)))
    doi = prepared["doi"].to_numpy(object)
    pmid = prepared["pmid"].to_numpy(object)
    shares_id = ((doi[left] == doi[right]) & (doi[left] != "")) | ((pmid[left] == pmid[right]) & (pmid[left] != ""))
    volume = prepared["volume"].to_numpy(object)
    first_page = prepared["first_page"].to_numpy(object)
    # Same volume (or none) and first page: maybe one article with its title in another language.
    same_place = (volume[left] == volume[right]) & (first_page[left] == first_page[right]) & (first_page[left] != "")
    keep = (np.nan_to_num(title, nan=0.0) >= thresholds.candidate_title) | shares_id | same_place
    if different is not None:
        keep |= different
    left, right = left[keep], right[keep]
    different = different[keep] if different is not None else None
    sims = similarities(prepared, left, right)
    decision, reason, score, hard = decide(prepared, left, right, sims, thresholds, different)
    return ScoredPairs(left, right, sims, score, decision, reason, hard)


__all__ = [
    "AUTO_MERGE", "NEEDS_REVIEW", "DISTINCT", "DECISIONS", "SIMILARITY_FIELDS", "Thresholds",
    "ScoredPairs", "score_pairs", "similarities", "decide", "author_similarity", "journal_similarity",
    "title_similarity", "weighted_score", "explain_flags", "STOPWORDS",
]
