"""The `review` command: a thin front end over the Python API in review.project."""

from __future__ import annotations

import argparse
import errno
import json
import sys
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.exc import OperationalError

from review import io as readers
from review.io.base import ParseError
from review.project import SOURCE_KINDS, Review, ReviewError, default_actor
from review.errors import WorkbenchError
from review import team, team_mode, transfer

FORMAT_CHOICES = ("auto", *readers.FORMATS)


def _cmd_init(args) -> int:
    review = Review.init(args.dir, title=args.title, protocol=args.protocol, reviewers=args.reviewer,
                         database_url=args.database)
    where = f" on {team_mode.where(args.database)}" if args.database else ""
    print(f"created review {review.protocol.title!r} in {review.path}{where}")
    print("reviewers: " + ", ".join(f"{r.id} ({r.name})" if r.name else r.id for r in review.protocol.reviewers))
    review.close()
    return 0


def _cmd_push(args) -> int:
    print(transfer.push(args.dir, args.url))
    return 0


def _cmd_clone(args) -> int:
    with transfer.clone(args.url, args.dir) as review:
        print(f"cloned {review.protocol.title!r} ({team_mode.where(args.url)}) into {review.path}")
    return 0


def _cmd_pull(args) -> int:
    print(transfer.pull(args.source, args.dir))
    return 0


def _cmd_team_add_reviewer(args) -> int:
    with Review.open(args.dir) as review:
        member = team.add_reviewer(review.engine, args.name, args.role)
    print(f"{member.role_name}: {member.team_role} (role created or updated and granted)")
    return 0


def _cmd_team_list(args) -> int:
    with Review.open(args.dir) as review:
        found = team.members(review.engine)
    if args.json:
        print(json.dumps([m.__dict__ for m in found], indent=2))
        return 0
    for m in found:
        print(f"{m.role_name}\t{m.team_role}\tadded by {m.added_by} at {m.added_at}")
    if not found:
        print("no members yet (review team add-reviewer DIR NAME --role screener)")
    return 0


def _cmd_reviewers_add(args) -> int:
    with Review.open(args.dir) as review:
        for reviewer in args.reviewers:
            review.add_reviewer(reviewer, stages=args.stage)
        print("reviewers: " + ", ".join(f"{r.id} ({r.name})" if r.name else r.id for r in review.protocol.reviewers))
    return 0


def _cmd_import(args) -> int:
    options = {}
    if args.map:
        options["mapping"] = dict(_parse_mapping(m) for m in args.map)
    failed = 0
    with Review.open(args.dir) as review:
        for file in args.files:
            try:
                result = review.import_file(
                    file, source=args.source, format=args.format, search_date=args.search_date,
                    source_kind=args.source_kind,
                    who=args.who, force=args.force, progress=not args.quiet, **options,
                )
            except ParseError as exc:
                print(f"error: {exc}", file=sys.stderr)
                print(f"error: {file}: nothing imported from this file", file=sys.stderr)
                failed += 1
                continue
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            if result.skipped:
                print(result.message)
            else:
                print(f"{file}: imported {result.records} records "
                      f"({result.format}, {result.encoding}) as import {result.import_id}")
    return 1 if failed else 0


def _parse_mapping(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ReviewError(f"--map expects FIELD=COLUMN, got {text!r}")
    field, column = text.split("=", 1)
    return field.strip(), column.strip()


def _cmd_status(args) -> int:
    from review.pipeline import pipeline_status

    with Review.open(args.dir) as review:
        status = review.status()
        pipeline = pipeline_status(review)
    if args.json:
        # The same content as the text: the whole pipeline, plus the imports in detail.
        print(json.dumps({**status.to_dict(), "pipeline": pipeline.to_dict()}, ensure_ascii=False, indent=2))
        return 0
    print(f"{status.title}  ({status.path}, schema v{status.schema_version})")
    if not status.imports:
        print("no imports yet")
    for s in status.imports:
        date = f", searched {s.search_date}" if s.search_date else ""
        kind = "" if s.source_kind == "database" else f", {s.source_kind}"
        print(f"  import {s.import_id}: {s.file_name}  [{s.source_name}{kind}{date}]  {s.format}  {s.records} records")
    print(f"records: {status.records} in {len(status.imports)} imports")
    for warning in status.warnings:  # e.g. events written by a newer version (review.readmodel)
        print(f"warning: {warning}")
    print()
    print("\n".join(pipeline.lines()[2:]))  # the title line is printed above
    return 0


def _emit(text: str, out: str | None) -> int:
    """Text the API already wrote to `out`, or that goes to standard output."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    else:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _cmd_verify(args) -> int:
    from review.verify import verify

    result = verify(args.dir)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        for problem in result.problems:
            print(f"problem: {problem}")
        print(f"{result.path}: schema v{result.schema_version}, {result.events} events checked, "
              f"{'ok' if result.ok else f'{len(result.problems)} problem(s)'}")
        if result.head_hash:
            print(f"head of the log: {result.head_hash}  (keep it elsewhere to detect a rewritten chain)")
    return 0 if result.ok else 1


def _cmd_export(args) -> int:
    if args.json:
        with Review.open(args.dir) as review:
            return _write(_records_json(review), args.out)
    if not args.format:
        raise ReviewError("give --format (ris, bibtex or csv) or --json")
    with Review.open(args.dir) as review:
        return _emit(review.export(args.format, args.out, stage=args.stage, decision=args.decision), args.out)


def _cmd_dedupe(args) -> int:
    with Review.open(args.dir) as review:
        summary = review.dedupe(who=args.who, progress=not args.quiet and not args.json)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    print(f"records: {summary.records}")
    print(f"clusters: {summary.clusters}  (duplicates removed: {summary.duplicates})")
    print(f"auto-merged pairs: {summary.auto_merged}")
    print(f"needs review: {summary.needs_review} pairs ({summary.pending_review} not yet decided)")
    if summary.decided_same or summary.decided_different:
        print(f"reviewer decisions: {summary.decided_same} same, {summary.decided_different} different")
    if summary.pending_review:
        print(f"to review the {summary.pending_review} pairs: in JupyterLab, run\n"
              f"    from review.project import Review\n"
              f"    from review.widgets.dedup_review import DuplicateReview\n"
              f"    DuplicateReview(Review.open({args.dir!r}), who=\"YOUR_ID\")\n"
              f"  (as in notebooks/01_import_and_deduplicate.ipynb); `review status {args.dir}` shows how many remain")
    return 0


def _cmd_screen(args) -> int:
    from review.screening import ScreeningError
    from review.widgets.screening import ScreeningWidget
    from review.widgets.serve import WidgetPage

    review = Review.open(args.dir)
    try:
        stage = review.protocol.stage(args.stage)
        allowed = stage.reviewers or [r.id for r in review.protocol.reviewers]
        if args.reviewer not in allowed:  # say so now, not at the first click
            raise ScreeningError(f"reviewer {args.reviewer!r} does not screen stage {args.stage!r} "
                                 f"(its reviewers: {', '.join(allowed)}; add one with `review reviewers add`)")
        widget = ScreeningWidget(review, args.stage, args.reviewer, order=args.order,
                                 sentence_model=False if args.no_sentence_model else None)
    except KeyError as exc:  # an unknown stage
        review.close()
        raise ScreeningError(str(exc.args[0])) from None
    except ScreeningError:
        review.close()
        raise
    page = WidgetPage(widget, f"{review.protocol.title} · screening as {args.reviewer}", port=args.port)
    return _serve(review, page, args)


def _cmd_conflicts(args) -> int:
    from review.screening import ScreeningError
    from review.widgets.conflicts import ConflictsWidget
    from review.widgets.serve import WidgetPage

    review = Review.open(args.dir)
    try:
        widget = ConflictsWidget(review, args.stage, args.reviewer)
    except KeyError as exc:
        review.close()
        raise ScreeningError(str(exc.args[0])) from None
    page = WidgetPage(widget, f"{review.protocol.title} · conflicts, {args.reviewer}", port=args.port)
    return _serve(review, page, args)


def _serve(review, page, args) -> int:
    print(f"serving on {page.url}  (open it in your browser; Ctrl-C to stop)", flush=True)
    try:
        page.serve(open_browser=not args.no_browser)
    finally:
        review.close()
    return 0


def _cmd_decisions_import(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        count = screening.import_decisions(review, args.file, who=args.who or default_actor())
    print(f"{args.file}: imported {count} decisions")
    return 0


def _cmd_decisions_export(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        if args.json:
            import csv
            import io

            rows = list(csv.DictReader(io.StringIO(screening.export_decisions(review))))
            return _write(json.dumps(rows, ensure_ascii=False, indent=2), args.out)
        return _emit(screening.export_decisions(review, args.out), args.out)


def _cmd_screening_status(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        stages = screening.stage_status(review)
    if args.json:
        print(json.dumps({"stages": [s.to_dict() for s in stages]}, indent=2))
        return 0
    for s in stages:
        extra = f", not retrieved {s.not_retrieved}" if s.not_retrieved else ""
        # "Decided" means every reviewer the stage needs has decided, so a reviewer's own count
        # ("am: 22 decided") never sits beside a stage total that seems to deny it.
        print(f"{s.stage}: {s.eligible} records; decided by every reviewer needed {s.screened} (included "
              f"{s.included}, excluded {s.excluded}), conflicts {s.conflicts}, waiting for a reviewer "
              f"{s.pending}{extra}")
        for reviewer, count in s.per_reviewer.items():
            print(f"    {reviewer}: {count} decided, {s.eligible - s.not_retrieved - count} to do")
    return 0


def _cmd_screening_stopping(args) -> int:
    from review import stopping

    with Review.open(args.dir) as review:
        result = stopping.check(review, _stage(review, args.stage), args.reviewer, args.recall, args.confidence,
                                who=_who(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(stopping.describe(result))
    return 0


def _cmd_extract_import(args) -> int:
    from review import extraction

    with Review.open(args.dir) as review:
        count = extraction.import_extractions(review, args.template, args.file, who=args.who or default_actor())
    print(f"{args.file}: imported {count} extractions ({args.template})")
    return 0


def _cmd_extract_export(args) -> int:
    from review import extraction

    with Review.open(args.dir) as review:
        format = "json" if args.json else args.format
        return _emit(extraction.export_extractions(review, args.template, format, args.out), args.out)


def _cmd_schemes_list(args) -> int:
    from review import schemes

    with Review.open(args.dir) as review:
        frame = schemes.schemes_frame(review)
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    elif frame.empty:
        print("no schemes yet")
    else:
        print(frame.to_string(index=False))
    return 0


def _cmd_screening_remove(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        removed = screening.remove_before_screening(review, args.record_ids, args.reason,
                                                    who=args.who or default_actor(), automated=args.automated)
    kind = "marked ineligible by an automation tool" if args.automated else "removed for other reasons"
    print(f"{len(removed)} records {kind} before screening ({args.reason})")
    return 0


def _cmd_screening_restore(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        restored = screening.restore_removed(review, args.record_ids, who=args.who or default_actor())
    print(f"{len(restored)} records restored to screening")
    return 0


def _codes(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _where(args) -> dict:
    where = {}
    for item in args.where or []:
        field, sep, codes = item.partition("=")
        if not sep or not field.strip() or not codes.strip():
            raise ReviewError(f"--where expects FIELD=CODE,... (e.g. country=england,wales), got {item!r}")
        where[field.strip()] = _codes(codes)
    if getattr(args, "country", None):
        where["country"] = _codes(args.country)
    return where


def _write(text: str, out: str | None) -> int:
    if out is None:
        return _emit(text, None)
    from pathlib import Path

    Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return _emit(text, out)


def _cmd_tabulate(args) -> int:
    from review import synthesis

    with Review.open(args.dir) as review:
        table = synthesis.tabulate(review, args.rows, args.cols, domain=args.domain, evidence=_codes(args.evidence),
                                   where=_where(args), template=args.template)
    if args.json:
        frame = table.table(labels=False, cells=args.cells)
        frame.index.name = args.rows
        return _write(json.dumps(_frame_json(frame.reset_index()), ensure_ascii=False, indent=2), args.out)
    return _write(table.render(args.format, cells=args.cells), args.out)


def _cmd_votes(args) -> int:
    from review import synthesis

    with Review.open(args.dir) as review:
        counted = synthesis.votes(review, by=args.by, domain=args.domain, evidence=_codes(args.evidence),
                                  where=_where(args), template=args.template)
    if args.json:
        return _write(json.dumps(_frame_json(counted.table(labels=False)), ensure_ascii=False, indent=2), args.out)
    return _write(counted.render(args.format), args.out)


def _cmd_plot(args) -> int:
    from review import report

    with Review.open(args.dir) as review:
        path = report.plot(review, args.kind, args.out, by=args.by, domain=args.domain,
                           evidence=_codes(args.evidence), where=_where(args), template=args.template)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _cmd_prisma(args) -> int:
    from review import prisma

    with Review.open(args.dir) as review:
        flow = prisma.flow(review, previous_studies=args.previous_studies, previous_reports=args.previous_reports)
        if args.box:
            frame = prisma.box(review, args.box, flow)
            if args.json:
                return _print_json(_frame_json(frame))
            sys.stdout.write(frame.to_csv(index=False) if args.format == "csv" else frame.to_string(index=False)
                             + "\n")
            return 0
    for line in flow.missing:
        print(f"missing: {line}", file=sys.stderr)
    for line in flow.warnings:
        print(f"warning: {line}", file=sys.stderr)
    status = 0
    if args.csv:
        from review import prisma_template

        _write(prisma_template.to_csv(flow.to_json()), args.csv)
    if args.svg:
        try:
            flow.check()
        except prisma.PrismaError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
        else:
            from review import prisma_diagram

            _write(prisma_diagram.draw_svg(flow.to_json(), title=args.title), args.svg)
    if args.json:
        print(json.dumps(flow.to_json(), ensure_ascii=False, indent=2))
    elif not (args.csv or args.svg):
        frame = flow.frame()
        frame["n"] = frame["n"].map(lambda v: "unknown" if v is None else f"{v:,}")
        print(frame.to_string(index=False))
        print()
        for identity in flow.identities():
            print(identity)
        if flow.failures():
            status = 1
    return status


def _cmd_methods(args) -> int:
    from review import methods

    with Review.open(args.dir) as review:
        text = methods.methods_text(review)
    if args.json:
        return _write(json.dumps([asdict(s) for s in text.sections], ensure_ascii=False, indent=2), args.out)
    rendered = {"text": text.to_text, "markdown": text.to_markdown, "html": text.to_html}[args.format]()
    return _write(rendered, args.out)


def _cmd_report(args) -> int:
    from review import report

    with Review.open(args.dir) as review:
        index = report.write_report(review, args.out, template=args.template, progress=not args.quiet)
    print(f"report: {index}")
    return 0


def _cmd_demo(args) -> int:
    from review.example import build_example

    build_example(args.dir, fresh=not args.keep)
    return 0


def _cmd_codes(args) -> int:
    from review import codebook

    with Review.open(args.dir) as review:
        if args.load:
            counts = codebook.import_file(review, args.load, who=args.who or default_actor())
            print(f"{args.load}: " + ", ".join(f"{n} {what}" for what, n in counts.items()), file=sys.stderr)
        book = codebook.current(review)
        if args.write:
            codebook.export_file(review, args.write)
            print(f"wrote {args.write}", file=sys.stderr)
    if args.json:
        codes = [{**c.to_dict(), "depth": book.depth(c.code)} for c in book.walk()]
        print(json.dumps({"version": book.version, "levels": list(book.levels), "codes": codes,
                          "retired": book.gone}, ensure_ascii=False, indent=2))
        return 0
    if not book.codes:
        print("the codebook is empty (load one with --load FILE.yaml)")
        return 0
    if args.action == "tree":
        print("\n".join(book.tree_lines()))
    else:
        print(book.frame().drop(columns=["depth", "definition"]).to_string(index=False))
    print(f"{len(book.codes)} codes, codebook version {book.version}", file=sys.stderr)
    return 0


def _cmd_themes(args) -> int:
    from review import themes

    with Review.open(args.dir) as review:
        matrix = themes.matrix(review, args.by, coder=args.coder)
        if args.quotes:
            code, _, column = args.quotes.partition(":")
            frame = matrix.quotes(code, column or None)
            if args.json:
                return _print_json(_frame_json(frame))
            from review import tables

            return _write(tables.render(frame, args.format, index=False), args.out)
    if args.json:
        return _print_json(_frame_json(matrix.table(labels=False).reset_index()))
    return _write(matrix.render(args.format), args.out)
def _print_json(data) -> int:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


def _frame_json(frame) -> list[dict]:
    """A DataFrame as a list of objects (NaN as null), the shape every --json listing prints."""
    return json.loads(frame.to_json(orient="records", force_ascii=False)) if len(frame) else []


def _print_frame(frame, empty: str) -> int:
    print(empty if frame.empty else frame.to_string(index=False))
    return 0


def _who(args) -> str:
    return args.who or default_actor()


def _stage(review, name: str) -> str:
    """A stage the protocol names, or an error naming the ones it has (not a KeyError from deep inside)."""
    from review.screening import ScreeningError

    stages = [s.name for s in review.protocol.stages]
    if name not in stages:
        raise ScreeningError(f"no stage {name!r} in the protocol (stages: {', '.join(stages)})", "stage")
    return name


def _cmd_screening_decide(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        made = screening.decide(review, args.stage, args.reviewer, args.record_id, args.decision,
                                reasons=args.reason or (), note=args.note or "")
    if args.json:
        return _print_json(asdict(made))
    reasons = f" ({', '.join(made.reasons)})" if made.reasons else ""
    cluster = "" if made.record_id == args.record_id else f" (deduplicated record {made.record_id})"
    print(f"record {args.record_id}{cluster}: {made.reviewer} decided {made.decision}{reasons} at {made.stage} "
          f"(event {made.event_id})")
    return 0


def _cmd_screening_undo(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        undone = screening.undo_last(review, _stage(review, args.stage), args.reviewer)
    if args.json:
        return _print_json(None if undone is None else asdict(undone))
    if undone is None:
        print(f"{args.reviewer} has no decision at {args.stage} to undo")
    else:
        print(f"undid {undone.reviewer}'s {undone.decision} on record {undone.record_id} at {undone.stage} "
              f"(event {undone.event_id})")
    return 0


def _cmd_screening_conflicts(args) -> int:
    import pandas as pd
    from review import screening

    with Review.open(args.dir) as review:
        stages = [_stage(review, args.stage)] if args.stage else [s.name for s in review.protocol.stages]
        # Labels for people reading the table; codes in --json, as in every export.
        parts = [screening.conflicts(review, stage, labels=not args.json).assign(stage=stage) for stage in stages]
    frame = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=["stage", "record_id"])],
                      ignore_index=True)
    frame = frame[["stage", *[c for c in frame.columns if c != "stage"]]]
    if args.json:
        return _print_json(_frame_json(frame))
    return _print_frame(frame, "no conflicts")


def _cmd_screening_resolve(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        made = screening.resolve(review, args.stage, args.record_id, args.decision, _who(args),
                                 reasons=args.reason or (), note=args.note or "")
    if args.json:
        return _print_json(asdict(made))
    reasons = f" ({', '.join(made.reasons)})" if made.reasons else ""
    print(f"record {made.record_id} at {made.stage}: {made.decision}{reasons}, resolved by {made.resolved_by} "
          f"({made.method.replace('_', ' ')}, event {made.event_id})")
    return 0


def _cmd_screening_agreement(args) -> int:
    from review import screening

    with Review.open(args.dir) as review:
        frame = screening.agreement(review)
    if args.json:
        return _print_json(_frame_json(frame))
    return _print_frame(frame, "no record screened by two reviewers yet")


def _cmd_dedupe_decide(args) -> int:
    from review import clusters

    with Review.open(args.dir) as review:
        event_id = clusters.decide(review, args.record_a, args.record_b, args.decision, _who(args),
                                   note=args.note or "")
        ids = review.cluster_ids()
    together = ids.get(args.record_a) == ids.get(args.record_b)
    if args.json:
        return _print_json({"record_a": args.record_a, "record_b": args.record_b, "decision": args.decision,
                            "event_id": event_id, "same_cluster": together})
    print(f"records {args.record_a} and {args.record_b}: {args.decision} (event {event_id}); they are now in "
          f"{'one cluster' if together else 'different clusters'}")
    return 0


def _cmd_dedupe_split(args) -> int:
    from review import clusters

    with Review.open(args.dir) as review:
        others = clusters.split(review, args.record_id, _who(args), note=args.note or "")
    if args.json:
        return _print_json({"record_id": args.record_id, "split_from": others})
    if others:
        print(f"record {args.record_id} split from {', '.join(map(str, others))}")
    else:
        print(f"record {args.record_id} was not merged with any other record")
    return 0


def _cmd_dedupe_queue(args) -> int:
    from review import clusters

    with Review.open(args.dir) as review:
        frame = clusters.queue_frame(review, pending_only=not args.all)
    if args.json:
        return _print_json(_frame_json(frame))
    return _print_frame(frame, "no pairs to review" if not args.all else "no pairs flagged for review")


def _records_json(review) -> str:
    return json.dumps(_frame_json(review.records_frame()), ensure_ascii=False, indent=2)


def _synthesis_options(q, domain: bool = True) -> None:
    if domain:
        q.add_argument("--domain", help="outcome domain code, e.g. health_outcomes")
    q.add_argument("--evidence", metavar="CODE,...",
                   help="count only findings of these kinds of evidence (e.g. measured_comparator,perceived; "
                        "not_recorded keeps findings with no kind recorded)")
    q.add_argument("--country", metavar="CODE,...", help="only schemes in these countries")
    q.add_argument("--where", action="append", metavar="FIELD=CODE,...",
                   help="only schemes with one of these codes in a choice field (repeatable)")
    q.add_argument("--template", default="irm_scheme", help="extraction template (default irm_scheme)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("review")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


# Every command's first argument; the same words everywhere so `--help` reads alike.
def _dir(p) -> None:
    p.add_argument("dir", metavar="DIR", help="the review folder (holds review.yaml and review.db)")


def _json(p, what: str = "the result") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _who_option(p, what: str) -> None:
    p.add_argument("--who", help=f"who {what} (default $REVIEW_USER or login name)")


def _out(p) -> None:
    p.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")


def _record(p, help: str = "record id (as `review export` lists them)") -> None:
    p.add_argument("record_id", metavar="RECORD", type=int, help=help)


def _note(p) -> None:
    p.add_argument("--note", help="free-text note kept with the event")


# `review dedupe DIR` (run) predates the dedupe subcommands; it stays as a short form.
DEDUPE_ACTIONS = ("run", "decide", "split", "queue")


def build_parser() -> argparse.ArgumentParser:
    from review.clusters import PAIR_DECISIONS
    from review.screening import DECISIONS, EXCLUDE, INCLUDE

    parser = argparse.ArgumentParser(prog="review", description="Evidence review workbench: every command calls "
                                     "the same Python functions the notebooks use.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a review folder (review.yaml + review.db)")
    _dir(p)
    p.add_argument("--title", help="the review's title")
    p.add_argument("--protocol", metavar="FILE", help="start from this review.yaml")
    p.add_argument("--reviewer", action="append", metavar='ID="NAME"',
                   help='a reviewer who screens every stage, e.g. --reviewer am="Alison Mason" (repeatable)')
    p.add_argument("--database", metavar="URL",
                   help="keep the review on a PostgreSQL server (postgresql://HOST/DB; the password comes from "
                        "PGPASSWORD, ~/.pgpass or a service file, never from review.yaml)")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("push", help="copy a local review into an empty database on a PostgreSQL server")
    _dir(p)
    p.add_argument("url", metavar="URL", help="the empty database: postgresql://HOST/DB")
    p.set_defaults(func=_cmd_push)

    p = sub.add_parser("clone", help="a new folder for a review kept on a PostgreSQL server")
    p.add_argument("url", metavar="URL", help="the review's database: postgresql://HOST/DB")
    p.add_argument("dir", metavar="DIR", help="the new folder (its review.yaml points at the server)")
    p.set_defaults(func=_cmd_clone)

    p = sub.add_parser("pull", help="copy a review from a server into a new local (SQLite) folder")
    p.add_argument("source", metavar="SOURCE", help="postgresql://HOST/DB, or a folder cloned from one")
    p.add_argument("dir", metavar="DIR", help="the new local folder")
    p.set_defaults(func=_cmd_pull)

    p = sub.add_parser("team", help="reviewers of a review on a PostgreSQL server")
    tsub = p.add_subparsers(dest="team_command", required=True, metavar="ACTION")
    q = tsub.add_parser("add-reviewer", help="create a reviewer's role and grant what their team role may do")
    _dir(q)
    q.add_argument("name", metavar="NAME", help="the reviewer's id (their PostgreSQL role)")
    q.add_argument("--role", choices=team.TEAM_ROLES, default="screener",
                   help="screener (blind), resolver or lead (read every decision); default screener")
    q.set_defaults(func=_cmd_team_add_reviewer)
    q = tsub.add_parser("list", help="members and their team roles")
    _dir(q)
    _json(q, "the members")
    q.set_defaults(func=_cmd_team_list)

    p = sub.add_parser("reviewers", help="the review's reviewers")
    rsub = p.add_subparsers(dest="action", required=True)
    q = rsub.add_parser("add", help='add reviewers to review.yaml and its stages, e.g. mg="Mark Gale"')
    _dir(q)
    q.add_argument("reviewers", nargs="+", metavar='ID="NAME"', help='reviewer ids, each optionally with a name')
    q.add_argument("--stage", action="append", help="only at this stage (repeatable; default: every stage)")
    q.set_defaults(func=_cmd_reviewers_add)

    p = sub.add_parser("import", help="import search export files")
    _dir(p)
    p.add_argument("files", nargs="+", metavar="FILE", help="search exports: RIS, MEDLINE, BibTeX, CSV/TSV/Excel, "
                                                            "EndNote XML")
    p.add_argument("--source", required=True, help='the database searched, e.g. "MEDLINE (Ovid)"')
    p.add_argument("--source-kind", default="database", choices=SOURCE_KINDS,
                   help="PRISMA 2020 kind of source (default: database); website, organisation and citation "
                        "searching are counted under 'other methods'")
    p.add_argument("--format", default="auto", choices=FORMAT_CHOICES,
                   help="file format (default: detected from the content)")
    p.add_argument("--search-date", help="when the search was run: YYYY-MM-DD, or YYYY-MM / YYYY if only "
                                         "that is known")
    _who_option(p, "is importing")
    p.add_argument("--force", action="store_true", help="import even if this exact file was imported before")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="CSV column for a field (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("status", help="the whole pipeline: identified, duplicates, each screening stage and "
                                      "reviewer, schemes, extraction")
    _dir(p)
    _json(p, "the same content")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("verify", help="check the log's hash chain, the database's integrity and the stored files")
    _dir(p)
    _json(p, "every check's outcome")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("export", help="export every record, or those with a decision at a stage")
    _dir(p)
    p.add_argument("--format", choices=tuple(readers.WRITERS), help="file format (required unless --json)")
    p.add_argument("--stage", help="only deduplicated records screened at this stage, with their decision and reasons")
    p.add_argument("--decision", choices=("include", "exclude", "conflict", "pending"),
                   help="with --stage: only records with this outcome there")
    _json(p, "every record (display fields, keys and provenance)")
    _out(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("dedupe", help="duplicates: run (the default: `review dedupe DIR`), queue, decide, split",
                       description="`review dedupe DIR` is short for `review dedupe run DIR`.")
    dsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = dsub.add_parser("run", help="find duplicates: exact identifiers, then blocking and fuzzy matching")
    _dir(q)
    _json(q, "the counts as one JSON object")
    _who_option(q, "runs it")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_cmd_dedupe)
    q = dsub.add_parser("queue", help="pairs that need a person's decision, most similar first")
    _dir(q)
    q.add_argument("--all", action="store_true", help="also the pairs already decided, with their decision")
    _json(q, "the pairs")
    q.set_defaults(func=_cmd_dedupe_queue)
    q = dsub.add_parser("decide", help="decide whether two records are the same work (takes effect at once)")
    _dir(q)
    q.add_argument("record_a", metavar="A", type=int, help="one record id")
    q.add_argument("record_b", metavar="B", type=int, help="the other record id")
    q.add_argument("decision", choices=PAIR_DECISIONS,
                   help="same: always one cluster; different: never merged again; skip: decide later")
    _note(q)
    _who_option(q, "decides")
    _json(q)
    q.set_defaults(func=_cmd_dedupe_decide)
    q = dsub.add_parser("split", help="take a record out of its cluster for good (undo a merge)")
    _dir(q)
    _record(q, "the record to take out of its cluster")
    _note(q)
    _who_option(q, "splits it")
    _json(q)
    q.set_defaults(func=_cmd_dedupe_split)

    p = sub.add_parser("screen", help="a screening page in the browser (localhost), no notebook needed")
    _dir(p)
    p.add_argument("--stage", required=True, help="e.g. title_abstract or full_text")
    p.add_argument("--reviewer", required=True, help="your reviewer id in the protocol, e.g. am")
    p.add_argument("--order", default="model", choices=("model", "random", "import"),
                   help="most likely relevant first (model, the default), random, or import order")
    p.add_argument("--no-sentence-model", action="store_true",
                   help="rank by terms alone, even when the sentence model (review.embeddings) is installed")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the address")
    p.set_defaults(func=_cmd_screen)

    p = sub.add_parser("conflicts", help="a page to resolve screening conflicts in the browser (localhost)")
    _dir(p)
    p.add_argument("--stage", required=True, help="the screening stage, e.g. title_abstract")
    p.add_argument("--reviewer", required=True, help="who resolves (the protocol's resolver, or for consensus)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the address")
    p.set_defaults(func=_cmd_conflicts)

    p = sub.add_parser("decisions", help="screening decisions in bulk (CSV)")
    dsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = dsub.add_parser("import", help="import decisions: record_id or source_id, stage, reviewer, decision, "
                                       "reasons, note, time")
    _dir(q)
    q.add_argument("file", metavar="FILE", help="CSV of decisions (e.g. from Rayyan or Covidence)")
    _who_option(q, "imports")
    q.set_defaults(func=_cmd_decisions_import)
    q = dsub.add_parser("export", help="every reviewer's current decisions as CSV")
    _dir(q)
    _out(q)
    _json(q, "the decisions (the CSV's columns) instead of CSV")
    q.set_defaults(func=_cmd_decisions_export)

    p = sub.add_parser("screening", help="screening: status, decide, undo, conflicts, resolve, agreement, "
                                         "remove, restore")
    ssub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = ssub.add_parser("status", help="per stage: screened, included, excluded, conflicts, pending")
    _dir(q)
    _json(q, "the counts")
    q.set_defaults(func=_cmd_screening_status)
    q = ssub.add_parser("stopping", help="may this reviewer stop? statistical stopping rule (logs the rule and "
                                         "when it fired)")
    _dir(q)
    q.add_argument("--stage", required=True, help="the protocol's stage, e.g. title_abstract")
    q.add_argument("--reviewer", required=True, help="whose screening to test (their own decisions only)")
    q.add_argument("--recall", type=float, help="target recall (default: last set, else 0.95)")
    q.add_argument("--confidence", type=float, help="confidence (default: last set, else 0.95)")
    _who_option(q, "runs it")
    _json(q, "the rule's verdict")
    q.set_defaults(func=_cmd_screening_stopping)
    q = ssub.add_parser("decide", help="record one reviewer's decision on a record at a stage")
    _dir(q)
    _record(q)
    q.add_argument("--stage", required=True, help="screening stage named in the protocol, e.g. title_abstract")
    q.add_argument("--reviewer", required=True, help="reviewer id from the protocol")
    q.add_argument("--decision", required=True, choices=DECISIONS, help="the decision")
    q.add_argument("--reason", action="extend", nargs="+", metavar="CODE",
                   help="exclusion reason code(s) from the protocol (with exclude)")
    _note(q)
    _json(q, "the decision")
    q.set_defaults(func=_cmd_screening_decide)
    q = ssub.add_parser("undo", help="withdraw a reviewer's latest decision at a stage")
    _dir(q)
    q.add_argument("--stage", required=True, help="screening stage named in the protocol")
    q.add_argument("--reviewer", required=True, help="reviewer id from the protocol")
    _json(q, "the decision undone (null if none)")
    q.set_defaults(func=_cmd_screening_undo)
    q = ssub.add_parser("conflicts", help="unresolved conflicts with every reviewer's decision")
    _dir(q)
    q.add_argument("--stage", help="only this stage (default: every stage)")
    _json(q, "the conflicts")
    q.set_defaults(func=_cmd_screening_conflicts)
    q = ssub.add_parser("resolve", help="settle a conflict as the protocol says (third reviewer or consensus)")
    _dir(q)
    _record(q)
    q.add_argument("--stage", required=True, help="screening stage named in the protocol")
    q.add_argument("--decision", required=True, choices=(INCLUDE, EXCLUDE), help="the final decision")
    q.add_argument("--reason", action="extend", nargs="+", metavar="CODE",
                   help="exclusion reason code(s) from the protocol (with exclude)")
    _note(q)
    _who_option(q, "resolves it (the protocol's resolver at a third-reviewer stage)")
    _json(q, "the resolution")
    q.set_defaults(func=_cmd_screening_resolve)
    q = ssub.add_parser("agreement", help="per stage and reviewer pair: records both screened, agreement, kappa")
    _dir(q)
    _json(q, "the table")
    q.set_defaults(func=_cmd_screening_agreement)
    q = ssub.add_parser("remove", help="remove records before screening (PRISMA: automation tools or other reasons)")
    _dir(q)
    q.add_argument("record_ids", nargs="+", type=int, metavar="RECORD_ID", help="record ids to remove")
    q.add_argument("--reason", required=True, help="why, e.g. 'retracted' or 'published before 1999'")
    q.add_argument("--automated", action="store_true", help="an automation tool marked them ineligible")
    _who_option(q, "removes them")
    q.set_defaults(func=_cmd_screening_remove)
    q = ssub.add_parser("restore", help="bring records removed before screening back")
    _dir(q)
    q.add_argument("record_ids", nargs="+", type=int, metavar="RECORD_ID", help="record ids to restore")
    _who_option(q, "restores them")
    q.set_defaults(func=_cmd_screening_restore)

    p = sub.add_parser("extract", help="data extraction per scheme through templates")
    esub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = esub.add_parser("import", help="import extractions (CSV: one row per scheme; JSON: a list of objects)")
    _dir(q)
    q.add_argument("file", metavar="FILE", help="CSV or JSON of extracted values")
    q.add_argument("--template", required=True, help="template name, e.g. irm_scheme")
    _who_option(q, "imports")
    q.set_defaults(func=_cmd_extract_import)
    q = esub.add_parser("export", help="final values per scheme (agreed, else the only complete version)")
    _dir(q)
    q.add_argument("--template", required=True, help="template name, e.g. irm_scheme")
    q.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    _json(q, "the values (same as --format json)")
    _out(q)
    q.set_defaults(func=_cmd_extract_export)

    p = sub.add_parser("schemes", help="schemes (studies) and their reports")
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = csub.add_parser("list", help="every scheme with its reports")
    _dir(q)
    _json(q, "the schemes")
    q.set_defaults(func=_cmd_schemes_list)

    p = sub.add_parser("tabulate", help="cross-tabulate two extracted choice fields over schemes")
    _dir(p)
    p.add_argument("--rows", required=True, help="field for the rows, e.g. irm_type or country")
    p.add_argument("--cols", required=True, help="field for the columns, e.g. direction or study_designs")
    _synthesis_options(p)
    p.add_argument("--format", choices=("csv", "markdown", "html"), default="csv",
                   help="csv keeps codes (first column the row code, totals labelled total); markdown and html "
                        "show labels")
    p.add_argument("--cells", choices=("counts", "names"), default="counts",
                   help="names: list the schemes in each cell instead of counting them")
    _json(p, "the table (codes, one object per row) instead of --format")
    _out(p)
    p.set_defaults(func=_cmd_tabulate)

    p = sub.add_parser("votes", help="vote counting on the direction of effect (SWiM) with a sign test")
    _dir(p)
    p.add_argument("--by", default="irm_type", help="field to count by (default irm_type)")
    _synthesis_options(p)
    p.add_argument("--format", choices=("csv", "markdown", "html"), default="csv",
                   help="csv keeps codes; markdown and html show labels")
    _json(p, "the counts (codes, one object per row) instead of --format")
    _out(p)
    p.set_defaults(func=_cmd_votes)

    p = sub.add_parser("plot", help="effect direction plot or harvest plot (SVG or PNG)")
    _dir(p)
    p.add_argument("--kind", required=True, choices=("effect-direction", "harvest"), help="which plot")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.svg or FILE.png")
    p.add_argument("--by", default="irm_type", help="field grouping the rows of an effect direction plot")
    _synthesis_options(p)
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("prisma", help="PRISMA 2020 flow counts from the log: table, JSON, CSV, SVG, box contents")
    _dir(p)
    p.add_argument("--json", action="store_true", help="one JSON object with the PRISMA2020 R package's keys "
                                                       "(with --box: the records behind the box)")
    p.add_argument("--csv", metavar="FILE", help="the PRISMA2020 R package / Shiny app CSV template, filled in")
    p.add_argument("--svg", metavar="FILE", help="the flow diagram (refused if the counts do not add up)")
    p.add_argument("--box", metavar="NAME", help="list the records (or schemes) behind one box, e.g. records_excluded")
    p.add_argument("--format", choices=("table", "csv"), default="table", help="how --box lists them")
    p.add_argument("--title", help="title above the diagram")
    p.add_argument("--previous-studies", type=int, help="studies included in the previous version of the review")
    p.add_argument("--previous-reports", type=int, help="reports of those studies")
    p.set_defaults(func=_cmd_prisma)

    p = sub.add_parser("methods", help="methods text for PRISMA 2020 items 8, 9 and 16a, from the protocol and log")
    _dir(p)
    p.add_argument("--format", choices=("text", "markdown", "html"), default="text", help="text (default), "
                                                                                         "markdown or html")
    _json(p, "the sections (item, title, paragraphs)")
    _out(p)
    p.set_defaults(func=_cmd_methods)

    p = sub.add_parser("report", help="write every table, plot, the PRISMA diagram and methods into a folder")
    _dir(p)
    p.add_argument("--out", required=True, metavar="FOLDER", help="folder for the report (index.html and its files)")
    p.add_argument("--template", default="irm_scheme", help="extraction template (default irm_scheme)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("codes", help="the codebook of the qualitative synthesis: list or tree (load/write YAML)")
    p.add_argument("dir", help="the review folder")
    p.add_argument("action", nargs="?", choices=("list", "tree"), default="list",
                   help="list (a table, default) or tree (indented)")
    p.add_argument("--json", action="store_true", help="the codebook in force as JSON")
    p.add_argument("--load", metavar="FILE.yaml", help="bring the codebook in line with this YAML file first")
    p.add_argument("--write", metavar="FILE.yaml", help="write the codebook in force as YAML")
    p.add_argument("--who", help="who loads the file (default $REVIEW_USER or login)")
    p.set_defaults(func=_cmd_codes)

    p = sub.add_parser("themes", help="theme x scheme (country, IRM type) matrix of coded findings and passages")
    p.add_argument("dir", help="the review folder")
    p.add_argument("--by", choices=("scheme", "study", "country", "irm_type"), default="scheme",
                   help="the columns: schemes (ids), studies (names), countries or IRM types")
    p.add_argument("--format", choices=("csv", "markdown", "html"), default="csv",
                   help="csv keeps codes; markdown and html show labels")
    p.add_argument("--coder", help="only this coder's codings (default: a unit counts if any coder applied the code)")
    p.add_argument("--quotes", metavar="CODE[:COLUMN]", help="list the quotes behind a row or one cell instead")
    p.add_argument("--json", action="store_true", help="one object per theme (or per quote with --quotes)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=_cmd_themes)

    p = sub.add_parser("demo", help="build the bundled worked example (Mason et al. 2014) through its report")
    p.add_argument("dir", metavar="DIR", nargs="?", default="build/mason2014",
                   help="folder to build it in (default build/mason2014)")
    p.add_argument("--keep", action="store_true", help="reuse an existing example folder")
    p.set_defaults(func=_cmd_demo)
    return parser


def _with_default_actions(argv: list[str]) -> list[str]:
    """`review dedupe DIR ...` is short for `review dedupe run DIR ...`."""
    if len(argv) >= 2 and argv[0] == "dedupe" and argv[1] not in (*DEDUPE_ACTIONS, "-h", "--help"):
        return [argv[0], "run", *argv[1:]]
    return argv





def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_with_default_actions(sys.argv[1:] if argv is None else list(argv)))
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into head and the like
        return 0
    except WorkbenchError as exc:  # every expected failure: file:line: [field] message, no traceback
        print(f"error: {exc.describe()}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        if not type(getattr(exc, "orig", exc)).__module__.startswith("sqlite3"):
            # The server went away or refused mid-command; its transaction was rolled back.
            print(f"error: database: {' '.join(str(exc.orig).split())}; nothing was written", file=sys.stderr)
            return 1
        from review.project import database_problem  # read-only file, full disk: say so, no traceback

        print(f"error: {database_problem(exc, Path(getattr(args, 'dir', '.')) / 'review.db')}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            print(f"error: disk full ({exc.filename or 'writing'}); nothing more was written", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
