"""Property: whatever text comes in, the readers return References or raise ParseError.

Nothing else may escape (IndexError, KeyError, ...), and what was read can be
written and read back with the same match keys.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.io import ParseError, medline, ris
from review.records import REFERENCE_TYPES, Reference, match_keys

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TAGS = ["TY", "ER", "AU", "A1", "A2", "TI", "T1", "T2", "JF", "JO", "PY", "Y1", "DA", "DO", "AN", "ID",
        "SP", "EP", "VL", "IS", "KW", "AB", "N2", "N1", "SN", "UR", "L3", "M3", "C2", "C5", "DB", "DP",
        "U1", "NL", "XY", "PT", "FN", "EF", "PM", "AF", "UT", "DI"]
TYPES = ["JOUR", "BOOK", "CHAP", "CONF", "", "J", "Journal Article", "XYZ"]
SEPARATORS = ["  - ", " - ", "\t- ", "  -", " ", "  -  ", "-"]
ENDINGS = ["\n", "\r\n", "\r"]

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", "2019", "2019///", "10.1000/xyz", "https://doi.org/10.1000/A.B", "PMID: 123", "123 [PMID]",
        "383-98", "No", "Specified", "1234-5678", "978-0-12-345678-9", "Smith, J", "ER  - ", "  ",
        "http://ovidsp.ovid.com/x?T=JS&D=medp&NEWS=N&AN=39012781", "\u2028", "\x0c", "%2F",
    ]),
)

tag_line = st.builds(lambda tag, sep, value: f"{tag}{sep}{value}", st.sampled_from(TAGS),
                     st.sampled_from(SEPARATORS), values)
type_line = st.builds(lambda sep, code: f"TY{sep}{code}", st.sampled_from(SEPARATORS), st.sampled_from(TYPES))
other_line = st.one_of(
    st.just(""), st.just("ER  - "), st.just("ER"), st.just("EF"), st.just("1."),
    st.builds(lambda v: "   " + v, values),  # continuation (WoS and RIS)
    st.text(max_size=30),
)
record = st.builds(
    lambda ty, body, end: [ty, *body, *end],
    type_line,
    st.lists(st.one_of(tag_line, other_line), max_size=12),
    st.sampled_from([["ER  - "], ["ER  -"], [], ["ER  - ", ""], ["ER -"]]),
)
ris_like = st.builds(
    lambda head, records, ending: ending.join(head + [line for rec in records for line in rec]),
    st.lists(st.one_of(other_line, tag_line), max_size=3),
    st.lists(record, max_size=5),
    st.sampled_from(ENDINGS),
)
wos_like = st.builds(
    lambda records, ending: ending.join(["FN Clarivate Analytics Web of Science", "VR 1.0"]
                                        + [line for rec in records for line in rec] + ["EF"]),
    st.lists(st.builds(lambda body, end: ["PT J", *body, *end],
                       st.lists(st.one_of(
                           st.builds(lambda t, v: f"{t} {v}", st.sampled_from(TAGS), values),
                           st.builds(lambda v: "   " + v, values), st.just("")), max_size=10),
                       st.sampled_from([["ER"], [], ["ER", ""]])), max_size=4),
    st.sampled_from(ENDINGS),
)
medline_like = st.builds(
    lambda records, ending: ending.join(line for rec in records for line in rec),
    st.lists(st.builds(
        lambda pmid, body: [f"PMID- {pmid}", *body, ""],
        st.integers(min_value=0, max_value=10**9),
        st.lists(st.one_of(
            st.builds(lambda t, v: f"{t:<4}- {v}", st.sampled_from(
                ["TI", "AB", "FAU", "AU", "CN", "DP", "JT", "TA", "LID", "AID", "PT", "BTI", "IS", "MH", "PG"]),
                values),
            st.builds(lambda v: "      " + v, values),
            st.text(max_size=20),
        ), max_size=10),
    ), max_size=4),
    st.sampled_from(ENDINGS),
)


def check_ris(text: str) -> None:
    try:
        refs = ris.read(text, "prop.ris")
    except ParseError as error:
        assert "prop.ris" in str(error)
        return
    assert isinstance(refs, list) and refs
    for ref in refs:
        assert isinstance(ref, Reference)
        assert ref.type in REFERENCE_TYPES
        assert ref.line >= 1
    back = ris.read(ris.write(refs), "back.ris")
    assert [match_keys(r) for r in back] == [match_keys(r) for r in refs]


def check_medline(text: str) -> None:
    try:
        refs = medline.read(text, "prop.nbib")
    except ParseError as error:
        assert "prop.nbib" in str(error)
        return
    assert refs and all(isinstance(r, Reference) and r.type in REFERENCE_TYPES for r in refs)
    back = ris.read(ris.write(refs), "back.ris")  # MEDLINE -> RIS keeps what matching needs
    assert [match_keys(r) for r in back] == [match_keys(r) for r in refs]


@SETTINGS
@given(st.text(max_size=300))
def test_ris_any_text(text):
    check_ris(text)


@pytest.mark.slow  # a property test (hypothesis)
@SETTINGS
@given(ris_like)
def test_ris_plausible_text(text):
    check_ris(text)


@settings(max_examples=150, deadline=None)
@given(wos_like)
def test_web_of_science_plausible_text(text):
    check_ris(text)


@pytest.mark.slow  # a property test (hypothesis)
@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), medline_like))
def test_medline_any_text(text):
    check_medline(text)
