"""Where a review stands, from records identified to studies extracted: what `review status` prints.

One pass over the log gives every stage. Words are chosen so that no two numbers seem to
contradict each other: a record is "decided" at a stage only once every reviewer the stage
needs has decided (it is then included, excluded or a conflict); each reviewer's own count
says how many they have decided and how many they still have to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from review import clusters as clusters_mod
from review import extraction, schemes, screening, templates

if TYPE_CHECKING:
    from review.project import Review


@dataclass
class ReviewerProgress:
    reviewer: str
    name: str
    decided: int
    to_do: int


@dataclass
class StageProgress:
    stage: str
    label: str
    entering: int  # records that enter the stage (all, or those included at the stage before)
    not_retrieved: int  # full text could not be had (later stages only)
    to_screen: int  # entering minus not retrieved
    decided: int  # every reviewer needed has decided (included + excluded + conflicts)
    included: int
    excluded: int
    conflicts: int  # decided, reviewers disagree, not yet resolved
    resolved: int  # conflicts settled (counted in included/excluded)
    waiting: int  # some reviewer needed has still to decide
    reviewers: list[ReviewerProgress] = field(default_factory=list)


@dataclass
class TemplateProgress:
    template: str
    schemes_extracted: int  # schemes with final values (agreed, or the only complete version)
    schemes_in_progress: int  # schemes with saves but no final values yet


@dataclass
class PipelineStatus:
    title: str
    path: str
    records_per_source: dict[str, int]
    records_identified: int
    deduplicated: bool
    duplicates_removed: int | None
    pairs_to_review: int | None
    unique_records: int
    removed_before_screening: int
    stages: list[StageProgress]
    schemes: int
    extraction: list[TemplateProgress]

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """The status as a person reads it (the CLI prints these)."""
        out = [f"{self.title}  ({self.path})", "",
               f"Records identified: {self.records_identified}"]
        out += [f"  {source}: {n}" for source, n in self.records_per_source.items()]
        if not self.deduplicated:
            out.append("Duplicates: not checked yet (run: review dedupe DIR)")
        else:
            pairs = (f"; {self.pairs_to_review} possible duplicate pairs still to review"
                     if self.pairs_to_review else "")
            out.append(f"Duplicates removed: {self.duplicates_removed}{pairs}")
        out.append(f"Unique records: {self.unique_records}")
        if self.removed_before_screening:
            out.append(f"Removed before screening: {self.removed_before_screening}")
        for stage in self.stages:
            out += ["", f"{stage.label}: {stage.entering} records enter this stage"]
            if stage.not_retrieved:
                out.append(f"  full text not retrieved: {stage.not_retrieved}; to assess: {stage.to_screen}")
            out.append(f"  decided by every reviewer needed: {stage.decided} of {stage.to_screen} "
                       f"(included {stage.included}, excluded {stage.excluded}, conflicts to resolve "
                       f"{stage.conflicts}" + (f", resolved {stage.resolved}" if stage.resolved else "") + ")")
            out.append(f"  waiting for a reviewer: {stage.waiting}")
            for r in stage.reviewers:
                who = f"{r.name} ({r.reviewer})" if r.name else r.reviewer
                out.append(f"    {who}: {r.decided} decided, {r.to_do} to do")
        out += ["", f"Schemes (studies): {self.schemes}"]
        for t in self.extraction:
            out.append(f"  extracted with {t.template}: {t.schemes_extracted} final"
                       + (f", {t.schemes_in_progress} in progress" if t.schemes_in_progress else ""))
        return out


def pipeline_status(review: "Review") -> PipelineStatus:
    status = review.status()
    dedup = clusters_mod.summary(review)
    state = screening.ScreeningState.load(review)
    protocol = review.protocol
    names = {r.id: r.name for r in protocol.reviewers}
    stages = []
    for index, stage_def in enumerate(protocol.stages):
        stage = stage_def.name
        entering = state.eligible(stage)
        pool = state.screenable(stage)
        outcomes = {c: state.outcome(stage, c) for c in pool}
        resolved = sum(1 for c in pool if c in state.resolutions[stage])
        reviewers = stage_def.reviewers or [r.id for r in protocol.reviewers]
        decided_by = {who: sum(1 for c in pool if who in state.decisions[stage].get(c, {})) for who in reviewers}
        extra = sorted({who for c in pool for who in state.decisions[stage].get(c, {})} - set(reviewers))
        for who in extra:  # someone outside the protocol's list decided (imported decisions)
            decided_by[who] = sum(1 for c in pool if who in state.decisions[stage].get(c, {}))
        included = sum(1 for o in outcomes.values() if o == screening.INCLUDE)
        excluded = sum(1 for o in outcomes.values() if o == screening.EXCLUDE)
        conflicts = sum(1 for o in outcomes.values() if o == "conflict")
        stages.append(StageProgress(
            stage=stage, label=stage_def.label or stage.replace("_", " ").capitalize(),
            entering=len(entering), not_retrieved=len(entering) - len(pool) if index else 0,
            to_screen=len(pool), decided=included + excluded + conflicts, included=included, excluded=excluded,
            conflicts=conflicts, resolved=resolved, waiting=sum(1 for o in outcomes.values() if o is None),
            reviewers=[ReviewerProgress(who, names.get(who, ""), n, len(pool) - n) for who, n in decided_by.items()],
        ))
    scheme_state = schemes.SchemeState.load(review)
    progress = []
    for name in protocol.extraction_templates:
        try:
            final = extraction.final_values(review, name)
            saved = extraction.schemes_with_saves(review, name)
        except (templates.TemplateError, extraction.ExtractionError):  # say so rather than crash
            progress.append(TemplateProgress(f"{name} (cannot be loaded)", 0, 0))
            continue
        progress.append(TemplateProgress(name, len(final), len(saved - set(final))))
    return PipelineStatus(
        title=status.title, path=status.path, records_per_source=status.records_per_source,
        records_identified=status.records, deduplicated=dedup.run_id is not None,
        duplicates_removed=dedup.duplicates if dedup.run_id is not None else None,
        pairs_to_review=dedup.pending_review if dedup.run_id is not None else None,
        unique_records=len(state.cluster_order), removed_before_screening=len(state.removed),
        stages=stages, schemes=len(scheme_state.active()), extraction=progress,
    )
