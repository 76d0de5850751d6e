"""`review init --reviewer`, `review reviewers add`, search dates checked, dedupe says how to review pairs."""

from review import cli, screening
from review import resources
from review.project import Review

RIS = resources.bundled("references/mason2014_reference_list.ris")


def test_init_with_named_reviewers_then_add_one(tmp_path, capsys):
    folder = tmp_path / "r"
    assert cli.main(["init", str(folder), "--title", "T", "--reviewer", 'am="Alison Mason"',
                     "--reviewer", "mg=Mark Gale"]) == 0
    assert "reviewers: am (Alison Mason), mg (Mark Gale)" in capsys.readouterr().out
    with Review.open(folder) as review:
        assert [(r.id, r.name) for r in review.protocol.reviewers] == [("am", "Alison Mason"), ("mg", "Mark Gale")]
        assert [s.reviewers for s in review.protocol.stages] == [["am", "mg"], ["am", "mg"]]
        review.import_file(RIS, source="S")
        screening.decide(review, "title_abstract", "am", 1, "include")  # the first decision works as named
    assert cli.main(["reviewers", "add", str(folder), "jb=Jo Bloggs", "--stage", "full_text"]) == 0
    with Review.open(folder) as review:
        assert review.protocol.stage("full_text").reviewers == ["am", "mg", "jb"]
        assert review.protocol.stage("title_abstract").reviewers == ["am", "mg"]
    assert cli.main(["reviewers", "add", str(folder), "am"]) == 1
    assert "reviewer 'am' is already in the protocol" in capsys.readouterr().err
    assert cli.main(["init", str(tmp_path / "x"), "--title", "T", "--reviewer", "a b=Name"]) == 1
    assert "give an id such as am" in capsys.readouterr().err


def test_search_date_must_be_a_real_date(tmp_path, capsys):
    folder = tmp_path / "r"
    assert cli.main(["init", str(folder), "--title", "T"]) == 0
    for bad in ("2013-13-45", "2013-02-30", "13/02/2013", "yesterday"):
        assert cli.main(["import", str(folder), str(RIS), "--source", "S", "--search-date", bad, "--quiet"]) == 1
        assert f"search date {bad!r} is not a real date" in capsys.readouterr().err
    with Review.open(folder) as review:
        assert review.status().records == 0  # nothing imported by a refused command
    assert cli.main(["import", str(folder), str(RIS), "--source", "S", "--search-date", "2013-02", "--quiet"]) == 0
    with Review.open(folder) as review:
        assert review.status().imports[0].search_date == "2013-02"


def test_dedupe_says_how_to_review_the_pairs(tmp_path, capsys):
    folder = tmp_path / "r"
    assert cli.main(["init", str(folder), "--title", "T"]) == 0
    assert cli.main(["import", str(folder), str(RIS), "--source", "S", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["dedupe", str(folder), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "needs review: 5 pairs" in out
    assert "to review the 5 pairs" in out and "DuplicateReview(Review.open(" in out


def test_screen_page_refuses_an_unknown_reviewer_or_stage_at_once(tmp_path, capsys):
    folder = tmp_path / "r"
    assert cli.main(["init", str(folder), "--title", "T", "--reviewer", "am"]) == 0
    assert cli.main(["screen", str(folder), "--stage", "title_abstract", "--reviewer", "zz", "--no-browser"]) == 1
    assert "reviewer 'zz' does not screen stage 'title_abstract' (its reviewers: am" in capsys.readouterr().err
    assert cli.main(["screen", str(folder), "--stage", "nope", "--reviewer", "am", "--no-browser"]) == 1
    assert "no stage 'nope'" in capsys.readouterr().err
