"""The conflicts widget: records the reviewers disagree on, their decisions side by side, resolved
as the protocol says (by its named resolver, or by consensus with a note).

A record is listed only once every reviewer the stage needs has decided (ScreeningState.outcome
is "conflict" then), so nobody sees a colleague's decision while still screening it blind.
Resolutions are written by review.screening.resolve, the same call the CLI and scripts use.
"""

from __future__ import annotations

import anywidget
import traitlets

from review import screening
from review.widgets.html import escape, local_minute, term_pattern
from review.widgets.screening import DECISION_LABELS, STATIC, _text, record_card


class ConflictsFace(anywidget.AnyWidget):
    _esm = STATIC / "conflicts.js"
    _css = STATIC / "screening.css"
    reasons = traitlets.List().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)


class ConflictsWidget:
    def __init__(self, review, stage: str, who: str):
        protocol = review.protocol
        self.review, self.stage, self.who = review, stage, who
        self.stage_def = protocol.stage(stage)
        self._include = term_pattern(protocol.include_terms)
        self._exclude = term_pattern(protocol.exclude_terms)
        self.reason_labels = {r.code: r.label or r.code for r in protocol.exclusion_reasons}
        self.names = {r.id: r.name for r in protocol.reviewers}
        usable = [r for r in protocol.exclusion_reasons if not r.stages or stage in r.stages]
        self.face = ConflictsFace(reasons=[{"code": r.code, "label": r.label or r.code,
                                            "key": str(i) if i <= 9 else ""} for i, r in enumerate(usable, 1)])
        self.face.on_msg(lambda _widget, content, _buffers: self.handle(content))
        self.records = review.records_frame().set_index("record_id")
        self.current: int | None = None
        self._load()
        self.current = next((c for c in self.conflicts if c not in self.state.resolutions[stage]), None)
        self.show()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.face)

    def _load(self) -> None:
        """Every record of the stage that came to a conflict, resolved or not, in import order."""
        self.state = screening.ScreeningState.load(self.review)
        stage = self.stage
        self.conflicts = []
        for cluster in self.state.screenable(stage):
            decided = self.state.decisions[stage].get(cluster, {})
            if len(decided) < self.state.required[stage]:
                continue  # someone has still to decide: nothing is shown yet (blind screening)
            kinds = {d.decision for d in decided.values()}
            if len(kinds) > 1 or kinds == {screening.MAYBE}:
                self.conflicts.append(cluster)

    @property
    def can_resolve(self) -> bool:
        return self.stage_def.resolution != "third_reviewer" or self.who == self.stage_def.resolver

    def _who(self, reviewer: str) -> str:
        name = self.names.get(reviewer)
        return f"{name} ({reviewer})" if name else reviewer

    # --- requests from the page -------------------------------------------------------------------

    def handle(self, content: dict) -> None:
        action = content.get("action")
        try:
            if action == "open":
                self.open(int(content.get("record")))
            elif action == "resolve":
                self.resolve(content.get("decision", ""), content.get("reasons") or [], content.get("note") or "",
                             record=content.get("record"))
            else:
                self.show(f"Unknown request {action!r} from the page; nothing changed.", error=True)
        except (screening.ScreeningError, TypeError, ValueError) as exc:
            self.show(str(exc), error=True)

    def open(self, record_id: int) -> None:
        cluster = self.state.cluster_of(int(record_id))
        if cluster not in self.conflicts:
            raise screening.ScreeningError(f"record {record_id} has no conflict at stage {self.stage!r}")
        self.current = cluster
        self.show()

    def resolve(self, decision: str, reasons=(), note: str = "", record: int | None = None):
        """Settle the conflict on screen; a refusal is shown, never silent. Returns the Resolution or None."""
        if record is not None and int(record) != self.current:
            raise screening.ScreeningError(f"That resolution was for record {record}, but record {self.current} "
                                           "is on screen now: nothing saved.")
        if self.current is None:
            raise screening.ScreeningError("no conflict is open")
        note = note.strip()
        if self.stage_def.resolution != "third_reviewer" and not note:
            self.show("Not saved: a consensus resolution needs a note (who agreed, and why).", error=True)
            return None
        try:
            made = screening.resolve(self.review, self.stage, self.current, decision, self.who, reasons, note)
        except screening.ScreeningError as exc:
            self.show(f"Not saved: {exc}", error=True)
            return None
        resolved = self.current
        self._load()
        open_ones = [c for c in self.conflicts if c not in self.state.resolutions[self.stage]]
        later = [c for c in open_ones if self.conflicts.index(c) > self.conflicts.index(resolved)]
        self.current = (later or open_ones or [resolved])[0]
        self.show(f"Resolved record {resolved} as {DECISION_LABELS[made.decision]}.")
        return made

    # --- what the page shows --------------------------------------------------------------------

    def frame(self):
        """The conflicts as a table with labels (resolved ones too), for notebooks."""
        import pandas as pd

        rows = []
        for cluster in self.conflicts:
            row = {"record": cluster, "title": _text(self.records.at[cluster, "title"])}
            for reviewer, d in sorted(self.state.decisions[self.stage][cluster].items()):
                row[self._who(reviewer)] = DECISION_LABELS[d.decision] + (
                    f" ({'; '.join(self.reason_labels.get(r, r) for r in d.reasons)})" if d.reasons else "")
            resolution = self.state.resolutions[self.stage].get(cluster)
            row["resolved as"] = DECISION_LABELS[resolution.decision] if resolution else ""
            rows.append(row)
        return pd.DataFrame(rows)

    def show(self, message: str = "", error: bool = False) -> None:
        stage, resolutions = self.stage, self.state.resolutions[self.stage]
        items = []
        for cluster in self.conflicts:
            resolution = resolutions.get(cluster)
            items.append({"record": cluster, "title": _text(self.records.at[cluster, "title"]),
                          "status": "resolved" if resolution else "open",
                          "resolved_as": DECISION_LABELS[resolution.decision] if resolution else ""})
        if self.stage_def.resolution == "third_reviewer":
            resolver = self._who(self.stage_def.resolver)
            method = (f"Resolved by the protocol's third reviewer, {resolver}." if self.can_resolve else
                      f"Conflicts at this stage are resolved by {resolver}; you ({self._who(self.who)}) can read "
                      "them but not resolve them.")
        else:
            method = f"Resolved by consensus, recorded by {self._who(self.who)}: say in the note who agreed and why."
        view = {"header": f"<b>Conflicts · {escape(self.stage_def.label or stage)}</b>",
                "items": items, "total": len(items), "resolved": sum(1 for i in items if i["status"] == "resolved"),
                "record": self.current, "method": method, "can_resolve": self.can_resolve,
                "message": message, "message_kind": "error" if error else "ok"}
        if self.current is None:
            view["card"] = ("<div class='rv-card'><h3>No conflicts at this stage.</h3></div>" if not items else
                            "<div class='rv-card'><h3>Every conflict at this stage is resolved.</h3></div>")
        else:
            cluster = self.current
            view["card"] = record_card(cluster, self.records.loc[cluster], self._include, self._exclude)
            view["reviewers"] = [
                {"who": self._who(reviewer), "decision": DECISION_LABELS[d.decision],
                 "reasons": "; ".join(self.reason_labels.get(r, r) for r in d.reasons), "note": d.note,
                 "when": local_minute(d.decided_at)}
                for reviewer, d in sorted(self.state.decisions[stage][cluster].items())]
            resolution = resolutions.get(cluster)
            if resolution is not None:
                reasons = "; ".join(self.reason_labels.get(r, r) for r in resolution.reasons)
                view["resolution"] = (f"Resolved as {DECISION_LABELS[resolution.decision]}"
                                      + (f" ({reasons})" if reasons else "")
                                      + f" by {self._who(resolution.resolved_by)}"
                                      + (f": {resolution.note}" if resolution.note else "")
                                      + ". A new resolution replaces it.")
        self.face.view = view
