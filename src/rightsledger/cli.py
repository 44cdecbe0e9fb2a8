"""The `rightsledger` command: a thin Typer layer over `rightsledger.ledger`.

Each command parses its options, calls one library function and formats the result: Rich for
people (stdout; progress and errors on stderr), plain JSON for programs (`--json`). Library
errors are turned into one line plus a hint here, and nowhere else.
Exit codes: 0 ok, 1 some items failed (or verification found problems), 2 usage or fatal error.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from rightsledger import ledger as lg
from rightsledger import settings
from rightsledger.errors import RightsLedgerError
from rightsledger.model import Document, Incident

OK, SOME_FAILED, FATAL, INTERRUPTED = 0, 1, 2, 130

def _consoles() -> tuple[Console, Console]:
    return Console(highlight=False), Console(stderr=True, highlight=False, soft_wrap=True)


out, err = _consoles()

app = typer.Typer(
    name="rightsledger",
    help="Turn open-source reporting on human-rights violations into an evidence-grade incident ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Colours for facts in `show`, by kind (the legend is printed with the text).
KIND_STYLES = {
    "type": "bold red",
    "date": "bold cyan",
    "place": "bold green",
    "victims": "bold magenta",
    "perpetrator": "bold yellow",
    "source": "bold blue",
    "cite": "underline",
}


@dataclass(slots=True)
class State:
    db: str | None = None
    quiet: bool = False
    json: bool = False

    def ledger(self) -> lg.Ledger:
        return lg.Ledger(self.db)


def _state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


F = TypeVar("F", bound=Callable[..., Any])


def translated(fn: F) -> F:
    """Turn library errors into one line and a hint, with the documented exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RightsLedgerError as exc:
            message = exc.args[0] if exc.args else type(exc).__name__
            err.print(Text("error: ", style="bold red") + Text(safe(message)))
            if exc.hint:
                err.print(Text("hint: ", style="bold") + Text(safe(exc.hint)))
            raise typer.Exit(FATAL) from None
        except KeyboardInterrupt:
            err.print("interrupted: documents stored so far are complete; run the same command again to go on.")
            raise typer.Exit(INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(value: Any) -> str:
    """Text from a report, fit for a terminal: control characters (escape sequences) neutralised.

    Each is replaced by one character, so offsets into the text stay valid.
    """
    return _CONTROL.sub("\ufffd", "" if value is None else str(value))


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


@contextmanager
def progress_bar(enabled: bool, description: str) -> Iterator[Callable[..., None]]:
    """A Rich progress display on stderr (terminals only); yields `advance(description=None)`."""
    if not enabled or not err.is_terminal:
        yield lambda description=None: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False),
               TextColumn("{task.completed} items"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(description: str | None = None) -> None:
            bar.update(task, advance=1, **({"description": description} if description else {}))

        yield advance


def _version(value: bool) -> None:
    if value:
        out.print(lg.evidence.TOOL)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="URL",
                                           help="Ledger database: a file path, sqlite:///path or postgresql+psycopg://… "
                                                "\\[env: RIGHTSLEDGER_DB; default: ./rightsledger.db]")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and requested output; no progress.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output (for commands that print results).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the library does (to stderr).")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Evidence-grade ledger of human-rights incidents from open-source reporting."""
    global out, err
    out, err = _consoles()  # for the streams and terminal size of this invocation
    ctx.obj = State(db=db, quiet=quiet, json=json_)
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and requested output; no progress.")]
MaxBytesOpt = Annotated[int | None, typer.Option("--max-bytes", metavar="N", min=1,
                                                  help="Largest item accepted, in bytes \\[env: RIGHTSLEDGER_MAX_BYTES; default: 20 MB].")]
PrivateOpt = Annotated[bool, typer.Option("--allow-private-urls",
                                          help="Let --url fetch addresses on private or local networks.")]
UrlOpt = Annotated[list[str] | None, typer.Option("--url", metavar="URL",
                                                  help="Fetch and ingest a web page (repeatable). Nothing is fetched without it.")]


# -- ingest -----------------------------------------------------------------------------------
def _report_item(r: lg.ItemResult) -> None:
    if r.status == lg.FAILED:
        err.print(Text("✗ ", style="red") + Text(safe(r.source), style="bold") + Text(": " + safe(r.reason)))
    for w in r.warnings:
        err.print(Text("! ", style="yellow") + Text(safe(r.source), style="bold") + Text(": " + safe(w)))


def _run_ingest(state: State, ledger: lg.Ledger, run: Callable[[lg.Progress], lg.IngestReport]) -> lg.IngestReport:
    with progress_bar(not (state.quiet or state.json), "Ingesting") as advance:
        def on_item(r: lg.ItemResult) -> None:
            _report_item(r)
            advance(safe(f"Ingesting {Path(r.source).name[:40]}"))

        return run(on_item)


def _ingest_summary(report: lg.IngestReport) -> str:
    incidents = sum(r.incidents for r in report.ingested)
    return (f"Ingested {len(report.ingested)} new document(s) with {incidents} incident(s); "
            f"{len(report.repeats)} already in the ledger; {len(report.failed)} failed.")


@app.command()
@translated
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATH...",
                                                       help="Files (.txt, .html, .htm, .jsonl bundles) or directories (recursive).")] = None,
    url: UrlOpt = None,
    max_bytes: MaxBytesOpt = None,
    allow_private_urls: PrivateOpt = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Ingest reports: store each original, its clean text and the incidents extracted from it."""
    state = _state(ctx)
    state.json |= json_
    state.quiet |= quiet
    if not paths and not url:
        raise typer.BadParameter("give at least one PATH or --url", param_hint="PATH")
    with state.ledger() as ledger:
        report = _run_ingest(state, ledger, lambda cb: ledger.ingest(
            paths or [], url or [], max_bytes=max_bytes, allow_private=allow_private_urls or None, progress=cb))
    if state.json:
        emit_json(report.to_dict())
    elif not state.quiet:
        out.print(_ingest_summary(report), soft_wrap=True)
    raise typer.Exit(OK if report.ok else SOME_FAILED)


# -- reading ----------------------------------------------------------------------------------
@app.command("list")
@translated
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List documents with outlet, publication date, title and incident count."""
    state = _state(ctx)
    with state.ledger() as ledger:
        rows = ledger.documents()
    if state.json or json_:
        emit_json(rows)
        return
    table = Table("id", "published", "outlet", "title", "incidents", title=f"{len(rows)} document(s)")
    for r in rows:
        n = str(r["incidents"]) + (f" (+{r['unconfirmed']} unconfirmed)" if r["unconfirmed"] else "")
        table.add_row(r["id"], r["published"] or "", Text(safe(r["outlet"] or "")),
                      Text(safe(r["title"] or r["url"] or ""), overflow="ellipsis", no_wrap=True), n)
    out.print(table)


def _fact_spans(doc: Document) -> Iterator[tuple[str, int, int]]:
    for c in doc.cites:
        yield "cite", c.evidence.start, c.evidence.end
    for inc in doc.incidents:
        for t in inc.type_facts:
            yield "type", t.evidence.start, t.evidence.end
        if inc.date.evidence:
            yield "date", inc.date.evidence.start, inc.date.evidence.end
        for kind, facts in (("place", inc.places), ("victims", inc.victims),
                            ("perpetrator", inc.perpetrators), ("source", inc.sources)):
            for f in facts:
                yield kind, f.evidence.start, f.evidence.end


def highlighted(doc: Document) -> Text:
    """The clean text with every fact's evidence coloured by kind."""
    text = Text(safe(doc.text))
    for kind, start, end in _fact_spans(doc):
        if 0 <= start < end <= len(doc.text):
            text.stylize(KIND_STYLES[kind], start, end)
    return text


def _legend() -> Text:
    legend = Text("facts: ")
    for kind, style in KIND_STYLES.items():
        legend.append(kind, style=style).append("  ")
    return legend


def _date_label(inc: Incident) -> str:
    d = inc.date
    if not d.start:
        return ""
    if d.precision == "month":
        return d.start.isoformat()[:7]
    if d.precision == "year":
        return str(d.start.year)
    if d.end and d.end != d.start:
        return f"{d.start}…{d.end}"
    return d.start.isoformat()


def _victims_short(inc: Incident) -> str:
    parts = []
    for v in inc.victims:
        count = "?" if v.count is None else ("~" if v.approximate else "") + str(v.count)
        parts.append(f"{count} {v.unit}")
    return "\n".join(parts)


def _places_short(inc: Incident) -> str:
    prefix = {"origin": "from ", "destination": "to "}
    return "\n".join(prefix.get(p.role, "") + p.name for p in inc.places)


def _incident_table(rows: list[tuple[Document, Incident]], title: str) -> Table:
    """One row per incident, compact; `explain` has every detail."""
    table = Table(title=title, show_lines=True)
    table.add_column("document", overflow="fold", ratio=2)
    table.add_column("#", no_wrap=True)
    table.add_column("types", no_wrap=True)
    for name in ("date", "places", "victims"):
        table.add_column(name, overflow="fold", ratio=1)
    if any(inc.case_id for _, inc in rows):
        table.add_column("case", overflow="fold")
    for doc, inc in rows:
        who = doc.title or doc.outlet or doc.url or ""
        title_short = who if len(who) <= 48 else who[:47] + "…"
        cells = [Text(doc.id[:8], style="bold") + Text(safe(f" {title_short}")),
                 Text(inc.id.rsplit("-", 1)[-1] + ("" if inc.modality == "asserted" else f"\n({inc.modality})")),
                 Text("\n".join(inc.types)), Text(_date_label(inc)), Text(safe(_places_short(inc))),
                 Text(_victims_short(inc))]
        if len(table.columns) == 7:
            cells.append(Text(inc.case_id or ""))
        table.add_row(*cells)
    return table


@app.command()
@translated
def show(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="Document id (a unique prefix is enough) or SHA-256.")],
    json_: JsonOpt = False,
    text: Annotated[bool, typer.Option("--text/--no-text", help="Print the clean text with facts highlighted.")] = True,
    original: Annotated[bool, typer.Option("--original", help="Write the verified original bytes to stdout instead.")] = False,
) -> None:
    """Show a document: metadata, chain of custody, incidents and the clean text with facts highlighted."""
    state = _state(ctx)
    with state.ledger() as ledger:
        if original:
            data = ledger.original(doc_id)
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        doc = ledger.document(doc_id)
        record = ledger.record(doc.id)
    if state.json or json_:
        emit_json({**doc.explain(), "text": doc.text, "custody": record["custody"],
                   "stored": {k: record[k] for k in ("media_type", "size", "extractor", "created_at")}})
        return
    meta = Table.grid(padding=(0, 2))
    for key, value in (("id", doc.id), ("sha256", doc.sha256), ("title", doc.title), ("url", doc.url),
                       ("outlet", doc.outlet), ("published", doc.published), ("language", doc.language),
                       ("original", f"{record['media_type']}, {record['size']} bytes"),
                       ("extracted by", record["extractor"]), ("duplicate of", doc.duplicate_of),
                       ("cites", ", ".join(dict.fromkeys(c.outlet for c in doc.cites)))):
        if value:
            meta.add_row(Text(key, style="bold"), Text(safe(value)))
    out.print(meta)
    custody = Table(title="chain of custody")
    for name in ("event", "recorded (UTC)", "retrieved (UTC)", "source", "user", "tool"):
        custody.add_column(name, overflow="fold")
    for c in record["custody"]:
        custody.add_row(c["event"], _when(c["recorded_at"]), _when(c["retrieved_at"]), Text(safe(c["source"])),
                        Text(safe(c["user"])), c["tool"])
    out.print(custody)
    if doc.incidents:
        out.print(_incident_table([(doc, i) for i in doc.incidents], f"{len(doc.incidents)} incident(s)"))
    else:
        out.print("No incidents extracted.")
    if text:
        out.print(_legend())
        out.print(highlighted(doc))


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


def _span_text(span: dict[str, Any] | None) -> Text:
    if not span:
        return Text("(no evidence span)", style="dim")
    return Text(f"[{span['start']}-{span['end']}] ", style="dim") + Text(safe(repr(span["text"])))


def _why_text(why: dict[str, Any] | None) -> Text:
    if not why:
        return Text("(no explanation recorded)", style="dim")
    detail = f" — {why['detail']}" if why.get("detail") else ""
    return Text(safe(f"{why['component']} · {why['rule']}{detail}"), style="italic")


def explain_tree(doc: Document) -> Tree:
    """Every fact with the component, rule and detail that proposed it and its evidence."""
    data = doc.explain()
    root = Tree(Text(safe(f"{doc.id} {doc.title or doc.url or ''}"), style="bold"))
    if data["document"]["cites"]:
        node = root.add(Text("cites", style=KIND_STYLES["cite"]))
        for c in data["document"]["cites"]:
            node.add(Text(safe(c["outlet"]), style="bold") + " " + _span_text(c["evidence"])).add(_why_text(c["why"]))
    for inc in data["incidents"]:
        head = Text(f"incident {inc['id']}", style="bold") + Text(f" ({inc['modality']})")
        if inc.get("case_id"):
            head += Text(f" case {inc['case_id']}")
        node = root.add(head)
        for t in inc["type_facts"]:
            node.add(Text(t["code"], style=KIND_STYLES["type"]) + " " + _span_text(t["evidence"])).add(_why_text(t["why"]))
        d = inc["date"]
        if d["start"] or d["evidence"] or d["text"]:
            label = f"date {d['start'] or '?'}" + (f"…{d['end']}" if d["end"] and d["end"] != d["start"] else "")
            node.add(Text(f"{label} ({d['precision']})", style=KIND_STYLES["date"]) + " " + _span_text(d["evidence"])).add(_why_text(d["why"]))
        for p in inc["places"]:
            where = ", ".join(x for x in (p.get("county"), p.get("province"), p.get("country")) if x)
            coords = f" {p['lat']:.4f},{p['lon']:.4f}" if p["lat"] is not None and p["lon"] is not None else " (no coordinates)"
            label = Text(safe(f"{p['name']} ({p['role']}, {p['level']}{', ' + where if where else ''}){coords}"),
                         style=KIND_STYLES["place"])
            node.add(label + " " + _span_text(p["evidence"])).add(_why_text(p["why"]))
        for v in inc["victims"]:
            count = "?" if v["count"] is None else ("~" if v["approximate"] else "") + str(v["count"])
            node.add(Text(safe(f"victims {count} {v['unit']}: {v['description']}"), style=KIND_STYLES["victims"])
                     + " " + _span_text(v["evidence"])).add(_why_text(v["why"]))
        for a in inc["perpetrators"]:
            node.add(Text(safe(f"perpetrator {a['name']} ({a['kind']})"), style=KIND_STYLES["perpetrator"])
                     + " " + _span_text(a["evidence"])).add(_why_text(a["why"]))
        for a in inc["sources"]:
            src = node.add(Text(safe(f"source {a['description']} ({a['kind']})"), style=KIND_STYLES["source"])
                           + " " + _span_text(a["evidence"]))
            src.add(_why_text(a["why"]))
            for q in a.get("quotes", []):
                src.add(Text("quote ", style="dim") + _span_text(q))
        if inc["evidence"]:
            ev = node.add(Text("evidence", style="dim"))
            for s in inc["evidence"]:
                ev.add(_span_text(s))
    if not data["incidents"]:
        root.add(Text("no incidents extracted", style="dim"))
    return root


@app.command()
@translated
def explain(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(metavar="DOC", help="Document id (a unique prefix is enough) or SHA-256.")],
    json_: JsonOpt = False,
) -> None:
    """Explain every fact of a document: the component, rule and evidence that proposed it."""
    state = _state(ctx)
    with state.ledger() as ledger:
        doc = ledger.document(doc_id)
    if state.json or json_:
        emit_json(doc.explain())
        return
    out.print(explain_tree(doc))


# -- trying the pipeline without a ledger -------------------------------------------------------
@app.command()
@translated
def extract(
    ctx: typer.Context,
    files: Annotated[list[Path] | None, typer.Argument(metavar="FILE...", help="Reports to read (as for ingest).")] = None,
    url: UrlOpt = None,
    json_: JsonOpt = False,
    explain_: Annotated[bool, typer.Option("--explain", help="With --json: include why each fact was proposed.")] = False,
    show_pipeline: Annotated[bool, typer.Option("--show-pipeline", help="Print the extraction pipeline (components, requires, assigns, settings).")] = False,
    max_bytes: MaxBytesOpt = None,
    allow_private_urls: PrivateOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run extraction on reports without storing them (for trying rules); JSON lines as in the export.

    Unlike `export`, every incident is printed, with its `modality` (asserted, hedged, negated).
    """
    state = _state(ctx)
    state.quiet |= quiet
    as_json = state.json or json_
    if show_pipeline:
        steps = lg.describe_pipeline()
        if as_json:
            emit_json(steps)
        else:
            table = Table("#", "component", "requires", "assigns", "settings", title="extraction pipeline")
            for n, s in enumerate(steps, 1):
                table.add_row(str(n), str(s.get("name", "")), ", ".join(s.get("requires", [])),
                              ", ".join(s.get("assigns", [])), Text(json.dumps(s.get("settings", {}), default=str)))
            out.print(table)
        if not files and not url:
            return
    if not files and not url:
        raise typer.BadParameter("give at least one FILE or --url", param_hint="FILE")
    failed = 0
    for item in lg.analyse(files or [], url or [], max_bytes=max_bytes, allow_private=allow_private_urls or None):
        if not isinstance(item, Document):
            failed += 1
            err.print(Text("✗ ", style="red") + Text(safe(item.source), style="bold") + Text(": " + safe(item.reason)))
            continue
        if as_json:
            emit_json(item.explain() if explain_ else item.to_dict())
        elif not state.quiet or item.incidents:
            title = f"{item.id} {item.title or item.url or ''}".strip()
            if item.incidents:
                out.print(_incident_table([(item, i) for i in item.incidents], safe(title)))
            else:
                out.print(Text(safe(f"{title}: no incidents")))
    raise typer.Exit(SOME_FAILED if failed else OK)


@app.command()
@translated
def places(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="Text to geoparse (or use --file).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", metavar="PATH", help="Read the text from a UTF-8 file.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Show the places the geoparser finds in a text, and why (candidates with scores)."""
    state = _state(ctx)
    if (text is None) == (file is None):
        raise typer.BadParameter("give either TEXT or --file PATH", param_hint="TEXT")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {file}: {exc}", param_hint="--file") from None
    assert text is not None
    if state.json or json_:
        emit_json(lg.find_places(text))
        return
    found = lg.explain_places(text)
    root = Tree(Text(f"{len(found)} place(s)", style="bold"))
    for t in found:
        node = root.add(Text(safe(repr(t.get("name"))), style=KIND_STYLES["place"])
                        + Text(f" [{t.get('start')}-{t.get('end')}] → ") + _place_label(t))
        chosen = t.get("gazetteer_id")
        for c in t.get("candidates") or []:
            if not isinstance(c, dict):
                node.add(Text(safe(c)))
                continue
            mark = "✓ " if chosen and c.get("gazetteer_id") == chosen else "  "
            score = c.get("score")
            head = Text(mark + (f"{score:6.2f} " if isinstance(score, (int, float)) else ""))
            reasons = c.get("reasons") or c.get("reason") or []
            reasons = "; ".join(map(str, reasons)) if isinstance(reasons, list) else str(reasons)
            node.add(head + _place_label(c) + Text(safe(f" {c.get('gazetteer_id') or ''}"), style="dim")
                     + Text(safe(f" — {reasons}" if reasons else ""), style="italic"))
    out.print(root)


def _place_label(p: dict[str, Any]) -> Text:
    """"Name (level; county, province, country) lat, lon" from a toponym or candidate record."""
    name = p.get("resolved", p.get("name")) if "resolved" in p else p.get("name")
    within = ", ".join(str(x) for x in (p.get("county"), p.get("province"), p.get("country")) if x and x != name)
    label = f"{name or 'unresolved'} ({p.get('level') or '?'}{'; ' + within if within else ''})"
    lat, lon = p.get("lat"), p.get("lon")
    if lat is not None and lon is not None:
        label += f" {lat:.4f}, {lon:.4f}"
    if p.get("role") and p.get("role") != "site":
        label += f" as {p['role']}"
    return Text(safe(label), style="bold" if name else "dim")


# -- output -----------------------------------------------------------------------------------
@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    """stdout, or a file written atomically (a half-written export never replaces a good one)."""
    if path is None:
        yield sys.stdout
        return
    folder = path.resolve().parent
    if not folder.is_dir():
        raise typer.BadParameter(f"folder {folder} does not exist", param_hint="--output")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@app.command()
@translated
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help=f"One of: {', '.join(lg.FORMATS)}.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")] = None,
    include_unconfirmed: Annotated[bool, typer.Option("--include-unconfirmed",
                                                      help="Also export hedged and negated incidents (marked by `modality`).")] = False,
    quiet: QuietOpt = False,
    public: Annotated[bool, typer.Option("--public", help="For publication: no informant details, no evidence text, "
                                          "no confidential documents; sensitive places generalised.")] = False,
    place_level: Annotated[str, typer.Option("--place-level", metavar="LEVEL",
                                             help="With --public: the finest place level kept for sensitive "
                                                  "documents and cases (country, province, county).")] = "province",
) -> None:
    """Export the ledger: JSON Lines (one document per line), CSV (one row per incident) or GeoJSON (one point per place).

    Without --public the export includes informant details (and is recorded in the audit log)."""
    state = _state(ctx)
    state.quiet |= quiet
    if fmt not in lg.FORMATS:
        raise typer.BadParameter(f"{fmt!r} is not a format; use one of: {', '.join(lg.FORMATS)}", param_hint="--format")
    if place_level not in lg.PLACE_LEVELS:
        raise typer.BadParameter(f"{place_level!r} is not a level; use one of: {', '.join(lg.PLACE_LEVELS)}",
                                 param_hint="--place-level")
    locked: list[str] = []
    with state.ledger() as ledger, _output(output) as f:
        if public:
            n = ledger.export_public(fmt, f, place_level=place_level, include_unconfirmed=include_unconfirmed)
        else:
            locked = ledger.locked()["locked_documents"]
            n = ledger.export(fmt, f, include_unconfirmed=include_unconfirmed)
    if locked:
        err.print(Text(f"left out {len(locked)} confidential document(s), locked (encrypted at rest): "
                       f"{', '.join(locked[:10])}{' …' if len(locked) > 10 else ''}", style="yellow"))
        err.print(Text("hint: ", style="bold") + Text(_unlock_hint()))
    if output is not None and not state.quiet:
        err.print(f"Wrote {n} {'document' if fmt == 'jsonl' else 'incident' if fmt == 'csv' else 'feature'}(s) to {output}")


@app.command()
@translated
def stats(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Counts: documents, originals, custody events, incidents, facts, types and outlets."""
    state = _state(ctx)
    with state.ledger() as ledger:
        s = ledger.stats()
    if state.json or json_:
        emit_json(s)
        return
    grid = Table.grid(padding=(0, 2))
    for key, value in (("database", s["database"]), ("documents", s["documents"]),
                       ("published", f"{s['published_first'] or '?'} … {s['published_last'] or '?'}"),
                       ("originals", f"{s['originals']} ({s['original_bytes']:,} bytes)"),
                       ("custody", _pairs(s["custody_events"])), ("incidents", _pairs(s["incidents"])),
                       ("cases", s["cases"]), ("facts", _pairs(s["facts"])),
                       ("sealed", _sealed_line(s["sealed"]))):
        grid.add_row(Text(key, style="bold"), Text(safe(value)))
    out.print(grid)
    for title, counts in (("incidents by type (asserted)", s["types"]), ("documents by outlet", s["outlets"])):
        if counts:
            table = Table(title.split(" by ")[1].split(" ")[0], "count", title=title)
            for k, v in counts.items():
                table.add_row(Text(safe(k)), str(v))
            out.print(table)


def _unlock_hint() -> str:
    from rightsledger.protect import sealed

    return sealed.UNLOCK_HINT


def _sealed_line(sealed: dict[str, Any]) -> str:
    if not sealed["values"]:
        return "nothing is sealed"
    state = {"ok": "open (key set)", "none": "LOCKED (no key set)", "wrong": "LOCKED (the key set is wrong)"}
    return (f"{sealed['values']} value(s) encrypted at rest ({sealed['documents']} confidential document(s), "
            f"{sealed['notes']} confidential note(s)); {sealed['locked']} locked; "
            f"key {sealed['key_id']}: {state.get(sealed['key'], sealed['key'])}")


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items()) or "0"


@app.command()
@translated
def verify(ctx: typer.Context, json_: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Re-hash every stored original, check every document has its original and custody record, and
    check the audit log's hash chain (reporting its first broken link)."""
    state = _state(ctx)
    state.quiet |= quiet
    with state.ledger() as ledger, progress_bar(not (state.quiet or state.json or json_), "Verifying") as advance:
        report = ledger.verify(progress=lambda n: advance())
    if state.json or json_:
        emit_json(report.to_dict())
    else:
        for p in report.problems:
            err.print(Text("✗ ", style="red") + Text(f"{p.document_id or '(no document)'} {p.sha256}: {p.problem}"))
        chain = report.chain
        if not chain.ok:
            err.print(Text("✗ ", style="red") + Text(f"audit log: first broken link at entry {chain.broken_at}: "
                                                     f"{chain.problem}"))
        if report.ok and not state.quiet:
            out.print(f"OK: {report.checked} original(s) match their SHA-256; {report.documents} document(s) complete; "
                      f"audit log of {chain.checked} entries intact (head {chain.head[:16]}).")
        if report.sealed_checked and not state.quiet:
            out.print(f"{report.sealed_checked} sealed (confidential) value(s) opened and match their SHA-256.")
        if report.locked:
            err.print(Text(f"{report.locked} sealed (confidential) value(s) locked, not checked"
                           f"{': ' + report.key_problem if report.key_problem else ''}.", style="yellow"))
            err.print(Text("hint: ", style="bold") + Text(_unlock_hint()))
        elif not report.ok:
            err.print(f"{len(report.problems) + (not chain.ok)} problem(s) in {report.checked} original(s) and "
                      f"{chain.checked + (not chain.ok)} audit entries. "
                      "The ledger was altered outside RightsLedger: restore it from a backup.")
    raise typer.Exit(OK if report.ok else SOME_FAILED)


# -- cases: copies, citation chains, corroboration ----------------------------------------------
def _short(doc_id: str) -> str:
    return doc_id[:8]


def _cases_table(found: list[lg.Case], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("case", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("origins", overflow="fold", ratio=2)
    table.add_column("reports", justify="right")
    table.add_column("types", overflow="fold", ratio=2)
    table.add_column("places", overflow="fold", ratio=2)
    styles = {"corroborated": "green", "contested": "bold yellow", "single_source": "dim"}
    for c in found:
        origins = f"{len(c.independent_origins)}: " + "; ".join(c.independent_origins)
        table.add_row(c.id, Text(c.status, style=styles.get(c.status, "")), Text(safe(origins)), str(len(c.members)),
                      ", ".join(c.types), Text(safe(", ".join(c.places[:4]) + (" …" if len(c.places) > 4 else ""))))
    return table


@app.command("cases")
@translated
def cases_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", metavar="STATUS",
                                               help="Only cases with this status: single_source, corroborated or contested.")] = None,
    type_: Annotated[str | None, typer.Option("--type", metavar="TYPE", help="Only cases with this violation type (e.g. forced_relocation).")] = None,
    place: Annotated[str | None, typer.Option("--place", metavar="NAME", help="Only cases naming this place, county or province (part of the name).")] = None,
    json_: JsonOpt = False,
) -> None:
    """List cases: incidents reported by one or more documents, with independent origins and status."""
    state = _state(ctx)
    with state.ledger() as ledger:
        found = ledger.cases(status=status, type=type_, place=place)
    if state.json or json_:
        emit_json([c.to_json() for c in found])
        return
    out.print(_cases_table(found, f"{len(found)} case(s)"))


def _case_view(c: lg.Case) -> list[Any]:
    """The parts of `rightsledger case ID`: summary, members, chains, links, facts, conflicts."""
    parts: list[Any] = []
    head = Table.grid(padding=(0, 2))
    for key, value in (("case", c.id), ("status", c.status), ("types", ", ".join(c.types)),
                       ("independent origins", f"{len(c.independent_origins)}: " + "; ".join(c.independent_origins))):
        head.add_row(Text(key, style="bold"), Text(safe(value)))
    parts.append(head)
    members = Table(title="member reports", show_lines=False)
    for name in ("document", "published", "outlet", "role", "rests on", "url"):
        members.add_column(name, overflow="fold")
    for m in c.members:
        members.add_row(_short(m.document_id), m.published.isoformat() if m.published else "", Text(safe(m.outlet or "")),
                        m.role, Text(safe(", ".join(m.origins))), Text(safe(m.url or "")))
    parts.append(members)
    outlet = {m.document_id: m.outlet or _short(m.document_id) for m in c.members}
    chains = Tree(Text("who relays whom", style="bold"))
    for m in c.members:
        steps = [f"{_short(d)} ({outlet.get(d, '?')})" for d in m.chain]
        chains.add(Text(safe(" → ".join(steps + [", ".join(m.origins)]))))
    parts.append(chains)
    if c.links:
        links = Tree(Text("document links", style="bold"))
        for lk in c.links:
            links.add(Text(safe(f"{lk.kind}: {_short(lk.a)} → {_short(lk.b)} — {lk.detail}")))
        parts.append(links)
    facts = Tree(Text("facts, with the reports that state them", style="bold"))
    for kind, values in c.facts.items():
        if values:
            node = facts.add(Text(kind, style="bold"))
            for value, docs in values.items():
                node.add(Text(safe(value)) + Text("  " + ", ".join(_short(d) for d in docs), style="dim"))
    parts.append(facts)
    if c.conflicts:
        conflicts = Tree(Text("conflicts", style="bold yellow"))
        for cf in c.conflicts:
            what = cf["fact"] + (f" ({cf['unit']})" if cf.get("unit") else "")
            node = conflicts.add(Text(what, style="bold"))
            for value, docs in cf["values"].items():
                node.add(Text(safe(value)) + Text("  " + ", ".join(_short(d) for d in docs), style="dim"))
        parts.append(conflicts)
    if c.reasons:
        why = Tree(Text("why these reports were grouped", style="bold"))
        for r in c.reasons:
            rules = "; ".join(f"{x.rule} {x.weight:+g}" + (f" ({x.detail})" if x.detail else "") for x in r.reasons)
            why.add(Text(safe(f"{_short(r.a[0])} ~ {_short(r.b[0])}: {r.score:.2f} — {rules}")))
        parts.append(why)
    return parts


@app.command("case")
@translated
def case_(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(metavar="ID", help="Case id (a unique prefix is enough).")],
    json_: JsonOpt = False,
) -> None:
    """Show a case: member reports and roles, who relays whom, facts with supporting reports, conflicts."""
    state = _state(ctx)
    with state.ledger() as ledger:
        c = ledger.case(case_id)
    if state.json or json_:
        emit_json(c.explain())
        return
    for part in _case_view(c):
        out.print(part)


@app.command("link")
@translated
def link_(ctx: typer.Context, json_: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Re-run linking over the whole ledger from scratch (normally automatic after ingest); overrides are kept."""
    state = _state(ctx)
    with state.ledger() as ledger:
        report = ledger.link()
    if state.json or json_:
        emit_json(report.to_dict())
    elif not (state.quiet or quiet):
        d = report.to_dict()
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(d["statuses"].items())) or "none"
        out.print(f"Linked {d['documents']} document(s): {d['duplicates']} copies, {d['cases']} case(s) ({statuses}).")


NoteOpt = Annotated[str, typer.Option("--note", metavar="TEXT", help="Why (kept in the audit trail of overrides).")]


@app.command("merge-cases")
@translated
def merge_cases(
    ctx: typer.Context,
    case_a: Annotated[str, typer.Argument(metavar="CASE", help="A case id.")],
    case_b: Annotated[str, typer.Argument(metavar="OTHER", help="The case that describes the same event.")],
    note: NoteOpt = "",
    json_: JsonOpt = False,
) -> None:
    """Record that two cases are one event (an analyst override kept across re-linking)."""
    state = _state(ctx)
    with state.ledger() as ledger:
        c = ledger.merge_cases(case_a, case_b, note)
    if state.json or json_:
        emit_json(c.to_json())
    else:
        out.print(f"Merged into case {c.id} ({c.status}, {len(c.members)} report(s)).")


@app.command("mark")
@translated
def mark(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="DOC|CASE", help="A document id (or unique prefix) or, with --case, a case id.")],
    confidential: Annotated[bool, typer.Option("--confidential", help="Leave the document out of public exports.")] = False,
    sensitive: Annotated[bool, typer.Option("--sensitive", help="Generalise its places in public exports.")] = False,
    case: Annotated[bool, typer.Option("--case", help="REF is a case (cases can only be sensitive).")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the mark instead of setting it.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Mark a document confidential or sensitive, or a case sensitive (recorded in the audit log)."""
    chosen = [m for m, on in (("confidential", confidential), ("sensitive", sensitive)) if on]
    if not chosen:
        raise typer.BadParameter("say which mark: --confidential and/or --sensitive", param_hint="--confidential")
    state = _state(ctx)
    with state.ledger() as ledger:
        target = ""
        for m in chosen:
            target = ledger.mark("case" if case else "document", ref, m, on=not clear)
    if state.json or json_:
        emit_json({"target": target, "marks": chosen, "set": not clear})
    elif not state.quiet:
        out.print(Text(f"{'Cleared' if clear else 'Marked'} {'case' if case else 'document'} {target}: {', '.join(chosen)}."))


def _backup_key(salt: bytes, *, confirm: bool) -> bytes:
    """The key from RIGHTSLEDGER_KEY_FILE, RIGHTSLEDGER_PASSPHRASE or a prompt."""
    from rightsledger.protect import crypto

    key = crypto.key_from_env(salt)
    if key is None:
        passphrase = typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm)
        key = crypto.derive_key(passphrase, salt)
    return key


@app.command()
@translated
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the backup.")],
    encrypt: Annotated[bool, typer.Option("--encrypt", help="Seal the whole backup with AES-256-GCM (key from "
                                          "RIGHTSLEDGER_KEY_FILE, RIGHTSLEDGER_PASSPHRASE or a prompt).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Write a consistent snapshot of the ledger, originals included, while it stays in use."""
    import os

    from rightsledger.protect import crypto

    state = _state(ctx)
    key = salt = None
    if encrypt:
        salt = b"" if os.environ.get(crypto.KEY_FILE_ENV) else crypto.new_salt()
        key = _backup_key(salt, confirm=True)
    with state.ledger() as ledger:
        report = ledger.backup(file, key=key, salt=salt)
    if state.json or json_:
        emit_json(report.to_dict())
    elif not state.quiet:
        out.print(Text(f"Backed up {sum(report.rows.values())} rows ({report.originals} originals) to {file}"
                       f"{' (encrypted)' if encrypt else ''}; audit head {report.audit_head[:16]}."))


@app.command()
@translated
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A file written by `rightsledger backup`.")],
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help="The ledger to restore into (default: --db before the command).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Replace a ledger that is not empty without asking.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check a backup completely (manifest, every hash, the audit chain), then restore it."""
    from rightsledger.protect import backup as backups

    state = _state(ctx)
    key = _backup_key(backups.salt_of(file), confirm=False) if backups.is_encrypted(file) else None
    with lg.Ledger(db or state.db) as ledger:
        backups.read(file, key)  # verify before asking anything
        replace = yes
        with ledger.db.read() as conn:
            empty = backups.is_empty(conn)
        if not yes and not empty:
            replace = typer.confirm(f"The ledger {ledger.stats()['database']} is not empty. Replace it?", default=False)
            if not replace:
                raise typer.Exit(FATAL)
        report = ledger.restore(file, key=key, replace=replace)
    if state.json or json_:
        emit_json(report.to_dict())
    elif not state.quiet:
        out.print(Text(f"Restored {sum(report.rows.values())} rows{' (replacing the ledger)' if report.replaced else ''};"
                       f" audit head {report.audit_head[:16]}."))


@app.command("split-case")
@translated
def split_case(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(metavar="CASE", help="A case id.")],
    document: Annotated[str, typer.Argument(metavar="DOC", help="The document to take out of the case.")],
    note: NoteOpt = "",
    json_: JsonOpt = False,
) -> None:
    """Record that a report is not about a case (an analyst override kept across re-linking)."""
    state = _state(ctx)
    with state.ledger() as ledger:
        c = ledger.split_case(case_id, document, note)
    if state.json or json_:
        emit_json(c.to_json())
    else:
        out.print(f"Case {c.id} now has {len(c.members)} report(s) ({c.status}).")


@app.command()
@translated
def demo(ctx: typer.Context, json_: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Ingest the bundled example reports into a fresh ledger (rightsledger-demo.db) and summarise them."""
    state = _state(ctx)
    state.json |= json_
    state.quiet |= quiet
    with lg.demo_ledger(state.db) as ledger:
        report = _run_ingest(state, ledger, lambda cb: ledger.ingest_examples(progress=cb))
        docs = list(ledger.iter_documents(report.document_ids()))
        found = ledger.cases()
        where = settings.redact_url(ledger.url)
    rows = [(d, i) for d in docs for i in d.incidents if i.modality == "asserted"]
    if state.json:
        emit_json({**report.to_dict(), "database": where, "documents": [d.to_dict() for d in docs],
                   "cases": [c.to_json() for c in found]})
    else:
        out.print(_incident_table(rows, f"{len(rows)} incident(s) in {len(docs)} example report(s)"))
        several = [c for c in found if len(c.members) > 1]
        if several:
            out.print(_cases_table(several, f"{len(several)} of {len(found)} case(s) are reported by more than one document"))
        if found:
            out.print(f"{len(found)} case(s); {len(several)} reported by more than one document; "
                      f"{sum(1 for c in found if c.status == 'corroborated')} corroborated by independent origins, "
                      f"{sum(1 for c in found if c.status == 'contested')} contested.", soft_wrap=True)
        if not state.quiet:
            out.print(_ingest_summary(report), soft_wrap=True)
            db_opt = "" if state.db else f" --db {settings.DEMO_DB}"
            first = docs[0].id[:8] if docs else "ID"
            case_hint = f"  rightsledger{db_opt} case {several[0].id}\n" if several else ""
            out.print(f"Ledger: {where}\nNext:\n  rightsledger{db_opt} show {first}\n  rightsledger{db_opt} explain {first}\n"
                      f"  rightsledger{db_opt} cases\n{case_hint}"
                      f"  rightsledger{db_opt} export --format csv -o incidents.csv", soft_wrap=True)
    raise typer.Exit(OK if report.ok else SOME_FAILED)


# -- scale: batch on Dask, bulk load ------------------------------------------------------------
@app.command()
@translated
def batch(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT...",
                                                 help="Files, .jsonl bundles, directories (recursive) or .warc/.warc.gz web archives.")],
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder for the Parquet results (re-use it to resume).")],
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS",
                                                  help="An existing Dask cluster (tcp://host:8786); its workers must see DIR.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", metavar="N", min=0,
                                                help="Local worker processes (default: one per core; 0 = in this process, no Dask).")] = None,
    partition_size: Annotated[int, typer.Option("--partition-size", metavar="N", min=1,
                                                help="Items per partition: the unit of work, memory and resumption.")] = 500,
    filter_: Annotated[str | None, typer.Option("--filter", metavar="north-korea|FILE",
                                                help="Keep only reports mentioning a term of this list (packaged name or file).")] = None,
    max_bytes: MaxBytesOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Prepare and extract many reports on Dask into Parquet partitions (then `rightsledger load DIR`)."""
    state = _state(ctx)
    state.json |= json_
    state.quiet |= quiet
    with progress_bar(not (state.quiet or state.json), "Batch") as advance:
        done = {"items": 0, "documents": 0}

        def on_event(e: dict[str, Any]) -> None:
            if e["event"] == "failed":
                err.print(Text("✗ ", style="red") + Text(f"partition {e['partition']}: {safe(e['error'])}"))
            done["items"] += int(e.get("items", 0))
            done["documents"] += int(e.get("documents", 0))
            verb = "skipped" if e["event"] == "skipped" else "done"
            advance(f"Partition {e['partition']} {verb}: {done['items']} items read, "
                    f"{done['documents']} documents extracted")

        report = lg.run_batch(inputs, out_dir, scheduler=scheduler, workers=workers, partition_size=partition_size,
                              relevance=filter_, max_bytes=max_bytes, progress=on_event)
    if state.json:
        emit_json(report.to_dict())
    elif not state.quiet:
        t = report.totals
        rate = t.get("items", 0) / report.seconds if report.seconds else 0.0
        where = f"on {report.workers} worker(s)" if report.workers else "in this process"
        out.print(f"{len(report.processed)} partition(s) processed, {len(report.skipped)} already done, "
                  f"{len(report.failed)} failed, in {report.seconds:.1f} s {where}. Totals: {t.get('items', 0)} items, {t.get('documents', 0)} documents, "
                  f"{t.get('incidents', 0)} incidents, {t.get('filtered', 0)} filtered out, "
                  f"{t.get('errors', 0)} unreadable ({rate:.0f} items/s this run).", soft_wrap=True)
        if report.ok:
            out.print(f"Next: rightsledger load {safe(str(out_dir))}", soft_wrap=True)
        else:
            out.print("Run the same command again to retry the failed partitions.", soft_wrap=True)
    raise typer.Exit(OK if report.ok and not report.totals.get("errors") else SOME_FAILED)


@app.command()
@translated
def load(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The --out folder of `rightsledger batch`.")],
    link: Annotated[bool, typer.Option("--link/--no-link", help="Link the new documents into cases afterwards.")] = True,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Bulk-load batch results into the ledger (idempotent: loading twice adds nothing)."""
    state = _state(ctx)
    state.json |= json_
    state.quiet |= quiet
    with state.ledger() as ledger, progress_bar(not (state.quiet or state.json), "Loading") as advance:
        report = ledger.load(directory, link=link,
                             progress=lambda pid, stats: advance(f"Loaded {pid}: {stats['documents']} new document(s)"))
    if state.json:
        emit_json(report.to_dict())
    elif not state.quiet:
        rows = sum(report.rows.values())
        rate = rows / report.seconds if report.seconds else 0.0
        linked = (f"; linked into {len(report.link.cases)} case(s) in {report.link_seconds:.1f} s"
                  if report.link else "")
        out.print(f"Loaded {report.documents} new document(s) from {report.partitions} partition(s); "
                  f"{report.known} already in the ledger; {rows} rows in {report.seconds:.1f} s "
                  f"({rate:.0f} rows/s){linked}.", soft_wrap=True)


# -- review workspace ---------------------------------------------------------------------------
@app.command()
@translated
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Keep 127.0.0.1 unless behind an HTTPS proxy.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    tile_url: Annotated[str | None, typer.Option("--tile-url", metavar="URL",
                                                 help="Online map tiles, e.g. https://tile.example/{z}/{x}/{y}.png (default: none; the map works offline).")] = None,
) -> None:
    """Run the review workspace (web app) on this ledger: search, map, timeline, review and correct facts."""
    import uvicorn

    from rightsledger.review import ReviewSettings, create_app

    state = _state(ctx)
    with state.ledger() as ledger:
        if not ledger.users():
            err.print("No users yet: create one first with `rightsledger user add NAME --role admin`.")
            raise typer.Exit(FATAL)
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(f"Listening on {host}: anyone who can reach it can try to sign in. Put it behind HTTPS.")
        err.print(f"Review workspace on http://{host if ':' not in host else f'[{host}]'}:{port}/ (Ctrl+C to stop)")
        uvicorn.run(create_app(ledger, ReviewSettings(tile_url=tile_url)), host=host, port=port,
                    log_level="warning", proxy_headers=False, server_header=False)


# -- confidential values: notes, informant details, keys ------------------------------------------
@app.command("note")
@translated
def note(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="KIND", help="What the note is about: case, document or fact.")],
    target: Annotated[str, typer.Argument(metavar="ID", help="The case, document or fact id.")],
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="The note; without it, list the notes.")] = None,
    confidential: Annotated[bool, typer.Option("--confidential", help="Encrypt the note at rest (needs the key).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Add an analyst's note (or list the notes) on a case, document or fact."""
    state = _state(ctx)
    with state.ledger() as ledger:
        if text is not None:
            note_id = ledger.add_note(kind, target, settings.current_user(), text, confidential=confidential)
            if not state.quiet:
                out.print(f"Added {'confidential ' if confidential else ''}note {note_id}.")
            return
        rows = ledger.notes(kind, target)
    _print_notes(rows, state.json or json_)


@app.command("informant")
@translated
def informant(
    ctx: typer.Context,
    fact_id: Annotated[int, typer.Argument(metavar="FACT", help="The id of a source (informant) fact.")],
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="Identity or contact details; without it, list them.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record (or show) details about an informant: always encrypted at rest, never exported."""
    state = _state(ctx)
    with state.ledger() as ledger:
        if text is not None:
            note_id = ledger.add_informant_detail(fact_id, settings.current_user(), text)
            if not state.quiet:
                out.print(f"Recorded informant detail {note_id} (encrypted).")
            return
        rows = ledger.informant_details(fact_id)
    _print_notes(rows, state.json or json_)


def _print_notes(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json([{k: r[k] for k in ("id", "user_name", "at", "body", "confidential", "locked")} for r in rows])
        return
    for r in rows:
        out.print(Text(f"[{r['id']}] {r['at'][:19]} {r['user_name']}{' (confidential)' if r['confidential'] else ''}: ",
                       style="bold") + Text(safe(r["body"])))
    if any(r["locked"] for r in rows):
        err.print(Text("hint: ", style="bold") + Text(_unlock_hint()))


key_app = typer.Typer(help="Keys that encrypt confidential values at rest.", no_args_is_help=True)
app.add_typer(key_app, name="key")


@key_app.command("new")
@translated
def key_new(file: Annotated[Path, typer.Argument(metavar="FILE", help="A new file to write the key to (never overwritten).")]) -> None:
    """Write a new random 256-bit key to FILE (readable by you only); use it with RIGHTSLEDGER_KEY_FILE=FILE."""
    from rightsledger.protect import crypto

    crypto.write_key_file(file)
    err.print(f"Wrote a new key to {file}. Keep a copy somewhere safe: without it confidential values cannot be read.")


@key_app.command("rotate")
@translated
def key_rotate(
    ctx: typer.Context,
    new_key_file: Annotated[Path | None, typer.Option("--new-key-file", metavar="FILE", help="The new key (see `key new`).")] = None,
    new_passphrase: Annotated[bool, typer.Option("--new-passphrase", help="Derive the new key from a passphrase (prompted).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Re-encrypt every confidential value with a new key, all or nothing (the current key comes
    from RIGHTSLEDGER_KEY_FILE or RIGHTSLEDGER_PASSPHRASE). Afterwards the old key opens nothing."""
    from rightsledger.protect import crypto

    if (new_key_file is None) == (not new_passphrase):
        raise typer.BadParameter("give exactly one of --new-key-file FILE or --new-passphrase", param_hint="--new-key-file")
    salt = b""
    if new_key_file is not None:
        key, kind = crypto.read_key_file(new_key_file), "file"
    else:
        salt, kind = crypto.new_salt(), "passphrase"
        key = crypto.derive_key(typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True), salt)
    state = _state(ctx)
    with state.ledger() as ledger:
        n = ledger.rotate_key(key, kind=kind, salt=salt)
    if state.json or json_:
        emit_json({"resealed": n, "kind": kind})
    elif not state.quiet:
        where = f"RIGHTSLEDGER_KEY_FILE={new_key_file}" if new_key_file else "RIGHTSLEDGER_PASSPHRASE to the new passphrase"
        out.print(f"Re-encrypted {n} value(s) with the new key. From now on set {where}; the old key opens nothing.")


user_app = typer.Typer(help="Manage review workspace accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@translated
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Login name (letters, digits, . @ - _).")],
    role: Annotated[str, typer.Option("--role", metavar="ROLE", help="viewer (reads), analyst (reviews), admin (users, confidential exports).")] = "viewer",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin instead of prompting.")] = False,
) -> None:
    """Create an account for the review workspace (the password is stored as an argon2 hash)."""
    from rightsledger.review import auth

    if role not in lg.ROLES:
        raise typer.BadParameter(f"{role!r} is not a role; use one of: {', '.join(lg.ROLES)}", param_hint="--role")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    state = _state(ctx)
    with state.ledger() as ledger:
        auth.add_user(ledger, name, role, password)
    if not state.quiet:
        out.print(Text(f"Added user {name} ({role})."))


@user_app.command("list")
@translated
def user_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List review workspace accounts with their roles."""
    state = _state(ctx)
    with state.ledger() as ledger:
        rows = ledger.users()
    if state.json or json_:
        emit_json([{k: r[k] for k in ("name", "role", "disabled", "created_by")} for r in rows])
        return
    table = Table("name", "role", "state", "created by", title=f"{len(rows)} user(s)")
    for r in rows:
        table.add_row(Text(safe(r["name"])), r["role"], "disabled" if r["disabled"] else "active", Text(safe(r["created_by"])))
    out.print(table)


token_app = typer.Typer(help="Manage API tokens for scripts using the review workspace's JSON API.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
@translated
def token_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(metavar="USER", help="The account the token acts for (with its role).")],
    name: Annotated[str, typer.Option("--name", metavar="LABEL", help="What the token is for, e.g. nightly-export.")] = "api",
    expires: Annotated[int | None, typer.Option("--expires", metavar="DAYS", min=1,
                                                help="Days until the token stops working (default: until revoked).")] = None,
) -> None:
    """Create an API token and print it once (only its SHA-256 is stored). Send it as `Authorization: Bearer TOKEN`."""
    from rightsledger.review import auth

    state = _state(ctx)
    with state.ledger() as ledger:
        token_id, token = auth.new_token(ledger, user, name, expires)
    if state.json:
        emit_json({"id": token_id, "user": user, "name": name, "expires_days": expires, "token": token})
        return
    print(token)  # plain, on its own line, so scripts can capture it
    if not state.quiet:
        err.print(Text(f"API token {token_id} for {user}; shown only now, keep it secret. "
                       f"Revoke it with `rightsledger token revoke {token_id}`."))


@token_app.command("list")
@translated
def token_list(ctx: typer.Context, user: Annotated[str | None, typer.Option("--user", metavar="USER", help="Only this user's tokens.")] = None,
               json_: JsonOpt = False) -> None:
    """List API tokens (never the tokens themselves): id, user, label, created, expiry, revoked."""
    state = _state(ctx)
    with state.ledger() as ledger:
        rows = ledger.tokens(user)
    if state.json or json_:
        emit_json(rows)
        return
    table = Table("id", "user", "role", "name", "created", "expires", "state", title=f"{len(rows)} token(s)")
    for r in rows:
        table.add_row(str(r["id"]), Text(safe(r["user"])), r["role"], Text(safe(r["name"])), r["created_at"][:19],
                      (r["expires_at"] or "never")[:19], "revoked" if r["revoked_at"] else "active")
    out.print(table)


@token_app.command("revoke")
@translated
def token_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (see `token list`).")]) -> None:
    """Revoke an API token at once."""
    state = _state(ctx)
    with state.ledger() as ledger:
        ledger.revoke_token(token_id)
    if not state.quiet:
        out.print(f"Revoked API token {token_id}.")


def main() -> None:
    """Console entry point (`rightsledger`)."""
    app()
