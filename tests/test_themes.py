"""Codebook, passages, coding, agreement and theme outputs, against counts worked out by hand.

The review (tests/qualitative_fixtures.py): schemes A, B (England) and C (Sweden);
A and C pool funds, B aligns budgets. Coder jh codes:
    A1 pool | A2 pool, geo | A3 vision | B1 geo | B2 vision | C1 pool | passage p.2 (for C) pool
coder jc double-codes five of them:
    A1 pool | A2 pool | A3 geo | B1 geo | B2 vision
pool and geo sit under org, vision under rel.
"""

from __future__ import annotations

import math

import pytest
import yaml
from sqlalchemy import func, select

from review import codebook, coding, passages, store, themes

import qualitative_fixtures as qf


@pytest.fixture
def review(tmp_path):
    review = qf.build(tmp_path / "rev")
    qf.code_by_hand(review)
    yield review
    review.close()


def _events(review) -> int:
    with store.read_connection(review.engine) as conn:
        return conn.execute(select(func.count()).select_from(store.events)).scalar_one()


def test_matrix_by_scheme_for_one_coder(review):
    # jh only. org: A1, A2 | B1 | C1, passage. pool: A1, A2 | - | C1, passage.
    table = themes.matrix(review, "scheme", coder="jh").table()
    assert table.loc["org", ["A", "B", "C"]].tolist() == [2, 1, 2]
    assert table.loc["pool", ["A", "B", "C"]].tolist() == [2, 0, 2]
    assert table.loc["geo", ["A", "B", "C"]].tolist() == [1, 1, 0]
    assert table.loc["rel", ["A", "B", "C"]].tolist() == [1, 1, 0]
    assert table.loc["vision", ["A", "B", "C"]].tolist() == [1, 1, 0]
    assert table["schemes"].tolist() == [3, 2, 2, 2, 2]


def test_matrix_counts_a_unit_once_across_coders(review):
    # Union of the coders: jc adds geo on A3 (so org on A3 too); everything else jc said, jh said as well.
    table = themes.matrix(review, "scheme").table()
    assert table.loc["org", ["A", "B", "C"]].tolist() == [3, 1, 2]
    assert table.loc["geo", ["A", "B", "C"]].tolist() == [2, 1, 0]
    assert table.loc["pool", ["A", "B", "C"]].tolist() == [2, 0, 2]


def test_matrix_by_country_and_irm_type(review):
    by_country = themes.matrix(review, "country", coder="jh").table()
    assert list(by_country.columns) == ["theme", "England", "Sweden", "schemes"]
    # England = A + B; Sweden = C.
    assert by_country.loc["org", ["England", "Sweden"]].tolist() == [3, 2]
    assert by_country.loc["pool", ["England", "Sweden"]].tolist() == [2, 2]
    assert by_country.loc["vision", ["England", "Sweden"]].tolist() == [2, 0]
    by_irm = themes.matrix(review, "irm_type", coder="jh").table(labels=False)
    # pooled_funds = A + C; aligned_budgets = B.
    assert by_irm.loc["pool", ["aligned_budgets", "pooled_funds"]].tolist() == [0, 4]
    assert by_irm.loc["geo", ["aligned_budgets", "pooled_funds"]].tolist() == [1, 1]


def test_quotes_on_demand(review):
    m = themes.matrix(review, "scheme", coder="jh")
    cell = m.quotes("pool", "C")
    assert sorted(cell["quote"]) == ["Co-financing was hard to set up.", "how much money is mine"]
    passage_row = cell[cell["unit"].str.startswith("passage")].iloc[0]
    assert passage_row["location"].startswith("p. 2")
    assert len(m.quotes("org")) == 5  # A1, A2, B1, C1, passage
    with pytest.raises(themes.ThemeError):
        m.quotes("nope")


def test_agreement_per_code_worked_by_hand(review):
    frame = coding.agreement(review).set_index("code")
    # 5 units both coded. pool: both 2, neither 3 -> po 1, pe .4*.4+.6*.6=.52 -> kappa 1.
    assert frame.loc["pool", ["units", "both", "a_only", "b_only", "neither"]].tolist() == [5, 2, 0, 0, 3]
    assert frame.loc["pool", "kappa"] == 1.0
    # geo: jc (a) yes A3,B1; jh (b) yes A2,B1 -> po .6, pe .52 -> (.6-.52)/.48 = .1667
    assert frame.loc["geo", ["both", "a_only", "b_only", "neither"]].tolist() == [1, 1, 1, 2]
    assert frame.loc["geo", "percent_agreement"] == 60.0
    assert frame.loc["geo", "kappa"] == pytest.approx(0.167, abs=1e-3)
    # vision: jc yes B2; jh yes A3,B2 -> po .8, pe .2*.4+.8*.6=.56 -> .24/.44 = .5455
    assert frame.loc["vision", "kappa"] == pytest.approx(0.545, abs=1e-3)
    assert set(frame["measure"]) == {"kappa"}
    assert "org" not in frame.index  # nobody applied the parent itself


def test_agreement_falls_back_to_percentage_when_kappa_undefined(tmp_path):
    review = qf.build(tmp_path / "rev")
    try:
        for coder in ("x", "y"):
            coding.code(review, coding.finding("A", 1), ["pool"], coder=coder)
        row = coding.agreement(review).iloc[0]
        assert (row["units"], row["both"], row["percent_agreement"]) == (1, 1, 100.0)
        assert math.isnan(row["kappa"]) and row["measure"] == "percent agreement"
    finally:
        review.close()


def test_summary_table(review):
    frame = themes.summary(review, coder="jh").set_index("code")
    assert frame.loc["pool", "schemes"] == 2 and frame.loc["pool", "units"] == 4
    assert frame.loc["pool", "theme"] == "Organisational issues › Managing pooled budgets"
    assert frame.loc["pool", "polarity"] == "barrier" and frame.loc["pool", "level"] == "local"
    assert "“Disaggregating spending was difficult.” (A, Results, p. 3; LA manager)" in \
        frame.loc["pool", "illustrative quotes"]
    assert frame.loc["org", "definition"] == "Managing budgets and boundaries."


def test_renders_are_safe(review):
    codebook.add_code(review, "evil", "=HYPERLINK(\"x\") <script>", who="t")
    coding.code(review, coding.finding("B", 2), ["evil"], coder="jh")
    csv_text = themes.themes(review, "scheme", "csv")
    assert "'=HYPERLINK" in csv_text
    html_text = themes.themes(review, "country", "html")
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "Managing pooled budgets | 2 | 0 | 2 | 2 |" in themes.themes(review, "scheme", "markdown")


def test_frequency_figure(review, tmp_path):
    from review import plots

    fig = themes.frequency_figure(review)
    path = plots.save_figure(fig, tmp_path / "themes.svg")
    text = path.read_text(encoding="utf-8")
    assert "Managing pooled budgets" in text and "barrier" in text


# --- codebook changes keep what was coded -------------------------------------------------------


def test_merge_moves_codings_and_old_code_is_gone(review):
    codebook.merge_codes(review, keep="pool", absorb="geo", who="t")
    table = themes.matrix(review, "scheme", coder="jh").table()
    assert "geo" not in table.index
    # pool now holds A1, A2 | B1 | C1, passage
    assert table.loc["pool", ["A", "B", "C"]].tolist() == [2, 1, 2]
    before = _events(review)
    with pytest.raises(coding.CodingError, match="merged into 'pool'"):
        coding.code(review, coding.finding("B", 1), ["geo"], coder="jh")
    assert _events(review) == before


def test_rename_carries_codings(review):
    codebook.rename_code(review, "vision", who="t", new_code="shared_vision", label="Shared vision")
    table = themes.matrix(review, "scheme", coder="jh").table()
    assert table.loc["shared_vision", ["A", "B", "C"]].tolist() == [1, 1, 0]
    assert table.loc["shared_vision", "theme"].strip() == "Shared vision"
    codebook.rename_code(review, "shared_vision", who="t", label="Vision")
    assert codebook.current(review).codes["shared_vision"].label == "Vision"


def test_split_asks_where_each_coding_goes(review):
    using = sorted(c.coding_id for c in coding.current_codings(review) if "pool" in c.codes)
    assert len(using) == 6  # jh: A1, A2, C1, the passage; jc: A1, A2
    into = [{"code": "pool_risk", "label": "Sharing financial risk"},
            {"code": "pool_flex", "label": "Budget flexibility"}]
    before = _events(review)
    with pytest.raises(codebook.CodebookError, match="not assigned"):
        codebook.split_code(review, "pool", into, {using[0]: "pool_risk"}, who="t")
    assert _events(review) == before
    assign = {cid: ("pool_risk" if i % 2 == 0 else "pool_flex") for i, cid in enumerate(using)}
    codebook.split_code(review, "pool", into, assign, who="t")
    after = {c.coding_id: c.codes for c in coding.current_codings(review)}
    for cid, target in assign.items():
        assert target in after[cid] and "pool" not in after[cid]
    book = codebook.current(review)
    assert book.codes["pool_risk"].parent == "org" and book.codes["pool_risk"].polarity == "barrier"


def test_move_and_cycle_refused(review):
    codebook.move_code(review, "geo", "rel", who="t")
    assert codebook.current(review).codes["geo"].parent == "rel"
    with pytest.raises(codebook.CodebookError, match="cycle"):
        codebook.move_code(review, "org", "pool", who="t")


def test_edit_polarity_and_level(review):
    codebook.edit_code(review, "geo", who="t", level="organisational")
    assert codebook.current(review).codes["geo"].level == "organisational"
    with pytest.raises(codebook.CodebookError, match="polarity"):
        codebook.edit_code(review, "geo", who="t", polarity="obstacle")
    with pytest.raises(codebook.CodebookError, match="level"):
        codebook.edit_code(review, "geo", who="t", level="galactic")


def test_codebook_round_trips_through_yaml(review, tmp_path):
    path = codebook.export_file(review, tmp_path / "book.yaml")
    codes, levels = codebook.load_file(path)
    assert [c.code for c in codes] == ["org", "pool", "geo", "rel", "vision"]
    assert levels == ("national", "organisational", "local")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["codes"].append({"code": "austerity", "label": "Financial austerity", "parent": "org"})
    data["codes"][2]["label"] = "Geography"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert codebook.import_file(review, path, who="t") == {"added": 1, "edited": 1, "moved": 0, "retired": 0}
    assert codebook.current(review).codes["geo"].label == "Geography"
    history = codebook.history(review)
    assert sorted(history["kind"].tolist()[-2:]) == ["add", "edit"]
    assert history["version"].tolist() == list(range(1, len(history) + 1))


def test_retiring_a_used_code_is_refused(review, tmp_path):
    with pytest.raises(codebook.CodebookError, match="merge it"):
        codebook.retire_code(review, "vision", who="t")
    codebook.add_code(review, "spare", "Spare", who="t")
    codebook.retire_code(review, "spare", who="t")
    assert "spare" not in codebook.current(review).codes


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, line, reason", [
    ("codes:\n  - code: a\n    label: A\n    parent: b\n  - code: b\n    label: B\n    parent: a\n", 4, "cycle"),
    ("codes:\n  - code: a\n    label: A\n  - code: a\n    label: Again\n", 4, "duplicate code 'a'"),
    ("codes:\n  - code: a\n    label: A\n    parent: ghost\n", 4, "parent 'ghost'"),
    ("codes:\n  - code: a\n    label: A\n    polarity: obstacle\n", 4, "polarity"),
    ("codes:\n  - code: a\n    lable: A\n", 3, "unknown field 'lable'"),
    ("codes:\n  - code: a\n    label: [unclosed\n", 4, "not valid YAML"),
])
def test_bad_codebook_names_file_line_and_reason(tmp_path, text, line, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(codebook.CodebookError) as info:
        codebook.load_file(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)


def test_bad_codebook_changes_nothing(review, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(qf.CODEBOOK_YAML + "  - code: new\n    label: New\n    parent: nowhere\n", encoding="utf-8")
    before = _events(review)
    with pytest.raises(codebook.CodebookError, match="bad.yaml:2[0-9]: "):
        codebook.import_file(review, path, who="t")
    assert _events(review) == before
    # Dropping a code in use from the file is refused too.
    path.write_text(qf.CODEBOOK_YAML.split("  - code: rel")[0], encoding="utf-8")
    with pytest.raises(codebook.CodebookError, match="coded but missing"):
        codebook.import_file(review, path, who="t")
    assert _events(review) == before


def test_passage_out_of_bounds_is_refused(review):
    before = _events(review)
    with pytest.raises(coding.CodingError, match="page 3 is outside"):
        coding.code(review, coding.passage(1, 3, 0, 5), ["pool"], coder="jh")
    page_two = passages.for_record(review, 1).pages[1].text
    with pytest.raises(coding.CodingError, match="outside the text"):
        coding.code(review, coding.passage(1, 2, 10, len(page_two) + 1), ["pool"], coder="jh")
    with pytest.raises(coding.CodingError, match="no row 4"):
        coding.code(review, coding.finding("A", 4), ["pool"], coder="jh")
    with pytest.raises(coding.CodingError, match="no code 'ghost'"):
        coding.code(review, coding.finding("A", 1), ["ghost"], coder="jh")
    with pytest.raises(coding.CodingError, match="nothing coded"):
        coding.code_many(review, [{"unit": coding.finding("A", 1), "codes": ["pool"], "coder": "z"},
                                  {"unit": coding.finding("A", 9), "codes": ["pool"], "coder": "z"}], who="t")
    assert _events(review) == before


def test_quote_survives_a_new_extraction(review):
    (review.path / "fulltext.txt").write_text("Something else entirely.\n", encoding="utf-8")
    quotes = [c.quote for c in coding.current_codings(review) if c.unit.kind == "passage"]
    assert quotes == ["how much money is mine"]


# --- passages ------------------------------------------------------------------------------


def test_margin_line_numbers_are_stripped_and_pages_inferred():
    text = "\n".join(["Front matter"] + [f"{i} line {i} of page one" for i in range(1, 9)]
                     + [f"{i} line {i} of page two" for i in range(1, 7)]
                     + ["7 Barriers, facilitators and central support"])
    document = passages.from_text(text)
    assert len(document.pages) == 2
    assert "1 line" not in document.text and "line 3 of page one" in document.pages[0].text
    assert document.pages[1].text.startswith("line 1 of page two")
    # a lone numbered heading after the run's end would be stripped only if it continued the run
    lone = passages.from_text("Intro\n\n7 Barriers, facilitators and central support\n\nText")
    assert "7 Barriers, facilitators" in lone.pages[0].text


def test_seed_001_loses_its_margin_numbers():
    document = passages.extract(qf.seed("001_fd596cdeacf1b5f4.txt"))
    assert len(document.pages) > 5
    page, start, end = document.find("Everyone starts from a slightly different point")
    assert document.pages[page - 1].text[start:end] == "Everyone starts from a slightly different point"
    assert "\n12 towards the government" not in document.text
    assert "towards the government's stated goal" in document.text


def test_form_feeds_are_pages():
    document = passages.from_text("one\fzwei\fdrei")
    assert [p.text for p in document.pages] == ["one", "zwei", "drei"]


def test_pdf_pages(tmp_path):
    path = tmp_path / "paper.pdf"
    page_one = "\n".join(f"{i} Line {i} of the first page" for i in range(1, 7))
    path.write_bytes(qf.minimal_pdf([page_one, "Results\nPooled budgets were hard."]))
    document = passages.extract(path)
    assert len(document.pages) == 2
    assert "Line 3 of the first page" in document.pages[0].text
    assert "3 Line 3" not in document.pages[0].text
    assert document.find("Pooled budgets were hard.")[0] == 2


def test_unreadable_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf")
    with pytest.raises(passages.PassageError, match="broken.pdf"):
        passages.extract(path)


def test_codings_follow_a_scheme_merge(review):
    from review import schemes

    schemes.merge_schemes(review, keep="A", absorb="B", who="t")
    table = themes.matrix(review, "scheme", coder="jh").table()
    assert list(table.columns) == ["theme", "A", "C", "schemes"]
    # A now holds A1-A3 and B1-B2: org on A1, A2, B1; geo on A2, B1
    assert table.loc["org", ["A", "C"]].tolist() == [3, 2]
    assert table.loc["geo", ["A", "C"]].tolist() == [2, 0]


def test_kappa_matches_scikit_learn(review):
    """The same ratings through scikit-learn's cohen_kappa_score (a peer implementation)."""
    from sklearn.metrics import cohen_kappa_score

    codings = {(c.key, c.coder): set(c.codes) for c in coding.current_codings(review)}
    common = sorted({k for k, who in codings if who == "jc"} & {k for k, who in codings if who == "jh"})
    frame = coding.agreement(review).set_index("code")
    for code_id in ("geo", "vision"):
        a = [code_id in codings[(u, "jc")] for u in common]
        b = [code_id in codings[(u, "jh")] for u in common]
        assert frame.loc[code_id, "kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=5e-4)


def test_a_table_of_contents_keeps_its_numbers():
    toc = "Contents\n" + "\n".join(f"{i}\tSection {i}\t{i * 10}" for i in range(1, 8))
    assert passages.from_text(toc).pages[0].text == toc
