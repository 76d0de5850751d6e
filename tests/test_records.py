import pytest

from review.records import (
    Reference, first_page, fold, is_corporate, match_keys, normalise_doi, normalise_journal,
    normalise_number, normalise_pmid, normalise_title, normalise_year, surname,
)


@pytest.mark.parametrize("raw, doi", [
    ("10.1136/BMJ.331.7524.1064", "10.1136/bmj.331.7524.1064"),
    ("https://doi.org/10.1136/bmj.331.7524.1064", "10.1136/bmj.331.7524.1064"),
    ("http://dx.doi.org/10.1002/(SICI)1099-1751(199904/06)14:2<97::AID-HPM540>3.0.CO;2-F",
     "10.1002/(sici)1099-1751(199904/06)14:2<97::aid-hpm540>3.0.co;2-f"),
    ("doi: 10.5334/ijic.1234.", "10.5334/ijic.1234"),
    ("DOI:10.1111/j.1365-2524.2008.00783.x", "10.1111/j.1365-2524.2008.00783.x"),
    ("not a doi", ""),
    ("", ""),
])
def test_doi(raw, doi):
    assert normalise_doi(raw) == doi


@pytest.mark.parametrize("title, folded", [
    ("<i>Cross-charging</i> for delayed discharges: a review", "cross charging for delayed discharges a review"),
    ("Évaluation des réseaux  intégrés", "evaluation des reseaux integres"),
    ("Health &amp; social care", "health and social care"),
    ("{PACE}: All-inclusive care", "pace all inclusive care"),
    ("老年人综合护理", "老年人综合护理"),
    ("", ""),
])
def test_title(title, folded):
    assert normalise_title(title) == folded


@pytest.mark.parametrize("author, key", [
    ("Smith, John", "smith"), ("Smith J", "smith"), ("Smith JA", "smith"), ("John Smith", "smith"),
    ("van der Berg, A", "van der berg"), ("Trägårdh B", "tragardh"), ("Trägårdh, Bengt", "tragardh"),
    ("Department of Health", "department of health"), ("Audit Commission", "audit commission"),
    ("PricewaterhouseCoopers", "pricewaterhousecoopers"), ("", ""),
])
def test_surname(author, key):
    assert surname(author) == key


def test_corporate_detection():
    assert is_corporate("Australian Government Department of Health and Ageing")
    assert is_corporate("NHS Confederation")
    assert not is_corporate("Mason, Anne")
    assert not is_corporate("Goddard M")


@pytest.mark.parametrize("pages, first", [("383-98", "383"), ("383–398", "383"), ("e1234", "e1234"),
                                          ("pp. 12-19", "12"), ("S12-S19", "s12"), ("007", "7"), ("", "")])
def test_first_page(pages, first):
    assert first_page(pages) == first


def test_small_normalisers():
    assert normalise_year("2004///") == 2004
    assert normalise_year("Spring 1999") == 1999
    assert normalise_year("n.d.") is None
    assert normalise_pmid("PMID: 0012345") == "12345"
    assert normalise_journal("The Milbank Quarterly") == "milbank quarterly"
    assert normalise_number("07") == "7"
    assert fold("Care  Trusts!") == "care trusts"


def test_match_keys_of_a_reference():
    ref = Reference(title="Integrated care: <b>a</b> review", authors=["Mason, Anne", "Goddard, M"], year=2014,
                    journal="J Integr Care", volume="022", issue="3", pages="100-9", doi="https://doi.org/10.1234/ABC")
    keys = match_keys(ref)
    assert (keys.title, keys.first_author, keys.year, keys.volume, keys.first_page, keys.doi) == (
        "integrated care a review", "mason", 2014, "22", "100", "10.1234/abc")
