"""demo_review: notebooks 04 and 05 share the review `make demo` built instead of each making a copy."""

import shutil

from sqlalchemy import func, select

from review import store
from review.example import REPORT_DIR, demo_review


def _events(review) -> int:
    with store.read_connection(review.engine) as conn:
        return conn.execute(select(func.count()).select_from(store.events)).scalar()


def test_a_finished_build_is_opened_not_rebuilt(worked_example, tmp_path):
    folder = tmp_path / "mason2014"
    store.checkpoint(worked_example.engine)  # the copy must hold every write: fold the WAL in first
    shutil.copytree(worked_example.path, folder)
    (folder / REPORT_DIR).mkdir()
    (folder / REPORT_DIR / "index.html").write_text("<html></html>", encoding="utf-8")
    marker = folder / "kept.txt"
    marker.write_text("a file of the reviewer's", encoding="utf-8")
    before = _events(store_review := demo_review(folder))
    store_review.close()
    with demo_review(folder) as again:
        assert _events(again) == before  # nothing was rebuilt or written
    assert marker.exists()  # the folder was not wiped

