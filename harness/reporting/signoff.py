"""The PDF sign-off report (``reports/<run-id>/signoff.pdf``), rendered from the run record alone."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from statistics import median

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import CondPageBreak, Flowable, Image, KeepTogether, PageBreak, Spacer, Table, TableStyle

from harness.reporting.charts import Bar, measurement_chart
from harness.reporting.pdfdoc import (
    NOT_READY,
    READY,
    RULE,
    STATUS_BG,
    STATUS_MEANING,
    WIDTH,
    ReportDoc,
    Styles,
    footer_canvas,
    grid,
    styles,
)
from harness.reporting.record import AttachmentKind, Measurement, Outcome, RunRecord, TestRecord, load_record
from harness.reporting.traceability import Row, traceability
from harness.reporting.verdict import (
    LAB_ROW,
    Status,
    Verdict,
    failure_class,
    matrix,
    plural,
    short_test,
    statuses,
    verdict,
)

log = logging.getLogger(__name__)

SIGNOFF_NAME = "signoff.pdf"
TREND_DAYS = 30
SIGNERS = ("QA lead", "Firmware engineering", "Release manager")
THUMB_WIDTH = 90 * mm
THUMB_HEIGHT = 60 * mm


def write_signoff(run_dir: Path, *, history_url: str | None = None) -> Path:
    """Render ``run_dir/run.json`` as ``run_dir/signoff.pdf``; with ``history_url``, add the nightly trend."""
    record = load_record(run_dir)
    st = styles()
    found = verdict(record)
    story: list[Flowable] = []
    story += cover(record, found, st)
    if history_url is not None:
        story += since_previous_run(record, history_url, st)
    story += [PageBreak(), *matrix_section(record, st)]
    story += traceability_section(record, st)
    story += failures_section(record, run_dir, st)
    story += measurements_section(record, st)
    story += devices_section(record, st)
    if history_url is not None:
        story += trend_section(history_url, run_dir, st)
    story += signoff_block(found, st)
    out = run_dir / SIGNOFF_NAME
    doc = ReportDoc(out, title=f"Sign-off report — run {record.run_id}",
                    subject=f"{found.label}: Epson OAuth 2.0 e-mail with Exchange Online")
    doc.build(story, canvasmaker=footer_canvas("epson-hil sign-off report", f"run {record.run_id}", st.fonts))
    return out


def products(record: RunRecord) -> str:
    models = list(dict.fromkeys(d.model for d in record.devices))
    return ", ".join(models) if models else "(no devices in the record)"


def cover(record: RunRecord, found: Verdict, st: Styles) -> list[Flowable]:
    revision = record.git_revision or "unknown"
    if record.git_dirty:
        revision += " (with uncommitted changes)"
    facts = [
        ("Product", products(record)),
        ("Run", record.run_id),
        ("Started", _when(record.started)),
        ("Finished", _when(record.finished) if record.finished else "did not finish"),
        ("Harness", f"epson-hil {record.harness_version}, revision {revision}"),
        ("Microsoft tier", {"builtin": "built-in (virtual lab)", "real": "real tenant"}.get(record.tier, record.tier)),
        ("Inventory", f"{record.inventory_path} (sha256 {record.inventory_digest[:12]})"),
        ("Host", record.host or "unknown"),
    ]
    rows = [[st.text(k, st.cell_bold), st.text(v, st.cell)] for k, v in facts]
    banner = Table([[st.text(found.label, st.verdict)]], colWidths=[WIDTH], rowHeights=[22 * mm])
    banner.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), READY if found.ready else NOT_READY),
                                ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story: list[Flowable] = [
        st.text("Epson OAuth 2.0 e-mail with Exchange Online", st.title),
        st.text("Hardware-in-the-loop certification — release sign-off report", st.muted),
        Spacer(0, 6 * mm),
        grid(rows, [32 * mm, WIDTH - 32 * mm], header=False),
        Spacer(0, 8 * mm),
        banner,
        Spacer(0, 4 * mm),
    ]
    if found.ready:
        story.append(st.text("Every expected test ran on every device and passed; no device defect, harness "
                             "error or lab-infrastructure failure remains."))
    else:
        story.append(st.text("Reasons:", st.subhead))
        story += [st.markup(f"•&nbsp;{st.fonts.markup(r)}") for r in found.reasons]
    story += [Spacer(0, 4 * mm), st.text(_tally(record), st.muted)]
    trace = traceability(record)
    uncovered = [r.key for r in trace.error_codes + trace.claims if r.uncovered]
    if uncovered:
        story.append(st.text(f"Not part of the verdict, but to note: no test covers {', '.join(uncovered)} "
                             "(see Traceability).", st.muted))
    return story


def since_previous_run(record: RunRecord, history_url: str, st: Styles, shown: int = 8) -> list[Flowable]:
    """The nightly view on the cover: what newly fails since the previous run (regressions first), then what
    newly passes; nothing when the history has no earlier run or its latest run is not this one."""
    try:
        from harness.reporting.trend import load_trend

        trend = load_trend(history_url, TREND_DAYS)
    except Exception:  # the trend section says why; the cover stays as it is
        log.exception("trend from %s failed", history_url)
        return []
    if trend.latest != record.run_id or trend.previous is None:
        return []
    story: list[Flowable] = [Spacer(0, 4 * mm), st.text(f"Since the previous run ({trend.previous})", st.subhead)]
    if not trend.regressions:
        story.append(st.text("No test newly fails.", st.muted))
    for change in trend.regressions[:shown]:
        why = change.failure_class or change.after
        before = f"was {change.before}" if change.before else "not in the previous run"
        story.append(st.text(f"• newly {change.after}: {short_test(change.test)} on {change.device or 'the lab'}"
                             f" ({why}; {before})"))
    if len(trend.regressions) > shown:
        story.append(st.text(f"… and {len(trend.regressions) - shown} more (see Nightly trend)", st.muted))
    fixed = len(trend.newly_passing)
    story.append(st.text(f"{plural(fixed, 'test')} newly pass{'es' if fixed == 1 else ''}.", st.muted))
    return story


def _tally(record: RunRecord) -> str:
    """Devices, expected tests and each status's count per test and device; the results add up to the counts or
    the text says why not (a test with parameters has a result per parameter)."""
    found = statuses(record)
    counts = Counter(found.values())
    parts = [f"{counts[s]} {s.value}" for s in (Status.PASS, Status.FAIL, Status.NOT_RUN, Status.SKIPPED)]
    text = (f"{plural(len(record.devices), 'device')}, {plural(len(record.expected), 'expected test')}. "
            f"Per test and device: {', '.join(parts)}")
    if len(record.tests) != len({(t.test, t.device) for t in record.tests}):
        text += (f" ({plural(len(record.tests), 'result')}: a test with parameters has one per parameter and "
                 "counts once, at its worst)")
    return text + "."


def matrix_section(record: RunRecord, st: Styles) -> list[Flowable]:
    m = matrix(record)
    story: list[Flowable] = [st.text("Devices × guide sections", st.h1)]
    if not m.sections or not m.devices:
        return [*story, st.text("The record has no tests with a guide section.")]
    first = 34 * mm
    width = (WIDTH - first) / len(m.sections)
    rows: list[list[object]] = [[st.text("Device", st.cell_bold), *(st.text(s, st.cell_bold) for s in m.sections)]]
    extra: list[tuple[object, ...]] = [("ALIGN", (1, 0), (-1, -1), "CENTER")]
    for r, device in enumerate(m.devices, 1):
        row: list[object] = [st.text(device, st.cell_bold)]
        for c, section in enumerate(m.sections, 1):
            cell = m.cell(device, section)
            row.append(st.text(cell.text, st.cell))
            extra.append(("BACKGROUND", (c, r), (c, r), STATUS_BG[cell.status]))
        rows.append(row)
    story += [grid(rows, [first] + [width] * len(m.sections), extra=extra), Spacer(0, 3 * mm), _legend(st),
              Spacer(0, 2 * mm),
              st.text("A cell shows its worst status and how many of the device's tests in that section had it. "
                      "A skip counts as “not run” when the device was expected to run the test.", st.muted)]
    return story


def _legend(st: Styles) -> Table:
    rows = [["", st.text(f"{s.value}: {STATUS_MEANING[s]}", st.small)] for s in Status]
    extra = [("BACKGROUND", (0, i), (0, i), STATUS_BG[s]) for i, s in enumerate(Status)]
    return grid(rows, [8 * mm, 90 * mm], header=False, extra=extra)


def traceability_section(record: RunRecord, st: Styles) -> list[Flowable]:
    trace = traceability(record)
    story: list[Flowable] = [Spacer(0, 6 * mm), CondPageBreak(80 * mm),
                             st.text("Traceability: the guide to the tests", st.h1),
                             st.text("Error codes (§7 Job History)", st.h2),
                             _trace_table("Code", trace.error_codes, trace.devices, st),
                             st.text("Claims of the guide", st.h2)]
    if not trace.claims:
        return [*story, st.text("The record carries no claims catalogue.", st.muted)]
    uncovered = [r.key for r in trace.claims if r.uncovered]
    if uncovered:
        noun = "claim has" if len(uncovered) == 1 else "claims have"
        story.append(st.text(f"{len(uncovered)} {noun} no test: {', '.join(uncovered)}."))
    return [*story, _trace_table("Claim", trace.claims, trace.devices, st)]


def _trace_table(what: str, rows: list[Row], devices: list[str], st: Styles) -> Table:
    key_w, text_w, test_w = 18 * mm, 52 * mm, 46 * mm
    dev_w = (WIDTH - key_w - text_w - test_w) / max(len(devices), 1)
    table: list[list[object]] = [[*(st.text(h, st.cell_bold) for h in (what, "Guide says", "Test")),
                                   *(st.fitted(d, dev_w, st.cell_bold) for d in devices)]]
    extra: list[tuple[object, ...]] = []
    for row in rows:
        start = len(table)
        label = [st.text(f"{row.key} ({row.section})" if what == "Claim" else row.key, st.cell_bold),
                 st.text(row.text, st.cell)]
        if row.uncovered:
            table.append([*label, st.text("NO TEST covers this", st.cell_bold), *[""] * len(devices)])
            extra += [("SPAN", (2, start), (-1, start)),
                      ("BACKGROUND", (2, start), (-1, start), STATUS_BG[Status.FAIL])]
            continue
        for i, cov in enumerate(row.tests):
            cells = [st.text(cov.on[d].value, st.cell) for d in devices]
            table.append([*(label if i == 0 else ["", ""]), st.text(short_test(cov.test), st.mono), *cells])
            extra += [("BACKGROUND", (3 + c, len(table) - 1), (3 + c, len(table) - 1), STATUS_BG[cov.on[d]])
                      for c, d in enumerate(devices)]
        extra += [("SPAN", (0, start), (0, len(table) - 1)), ("SPAN", (1, start), (1, len(table) - 1))]
    return grid(table, [key_w, text_w, test_w] + [dev_w] * len(devices), extra=extra)


def failures_section(record: RunRecord, run_dir: Path, st: Styles) -> list[Flowable]:
    failed = [t for t in record.tests if t.outcome in (Outcome.FAILED, Outcome.ERROR)]
    not_run = [(test, device) for (test, device), s in statuses(record).items() if s is Status.NOT_RUN]
    story: list[Flowable] = [PageBreak(), st.text("Failures", st.h1)]
    if not failed:
        story.append(st.text("No test failed."))
    for test in failed:
        story += _failure(test, run_dir, st)
    story += retried_section(record, st)
    story.append(st.text("Expected tests not run", st.h2))
    if not not_run:
        return [*story, st.text("None: every expected test has a result.")]
    reasons = {(t.test, t.device): t.skip_reason for t in record.tests if t.outcome is Outcome.SKIPPED}
    rows = [[st.text(h, st.cell_bold) for h in ("Test", "Device", "Why")]]
    rows += [[st.text(short_test(t), st.mono), st.text(d or "(lab)", st.cell),
              st.text(f"skipped: {reasons[(t, d)]}" if reasons.get((t, d)) else "no result in the record", st.cell)]
             for t, d in not_run]
    return [*story, grid(rows, [80 * mm, 30 * mm, WIDTH - 110 * mm])]


def retried_section(record: RunRecord, st: Styles) -> list[Flowable]:
    """Tests that passed only on a retry: the lab failed them first, and a QA lead should know how often."""
    retried = [t for t in record.tests if t.outcome is Outcome.PASSED and len(t.attempts) > 1]
    if not retried:
        return []
    rows = [[st.text(h, st.cell_bold) for h in ("Test", "Device", "Attempts", "First failure")]]
    for test in retried:
        first = next((a for a in test.attempts if a.outcome is not Outcome.PASSED), test.attempts[0])
        rows.append([st.text(short_test(test.test), st.mono), st.text(test.device or "(lab)", st.cell),
                     st.text(str(len(test.attempts)), st.cell),
                     st.text(f"{first.failure_class or 'unclassified'}: {first.message or '(no message)'}", st.cell)])
    return [st.text("Passed on a retry", st.h2),
            st.text(f"{plural(len(retried), 'test')} failed for the lab at first and passed on a retry: counted as "
                    "passed. Frequent retries mean an unhealthy lab.", st.muted),
            grid(rows, [62 * mm, 28 * mm, 18 * mm, WIDTH - 108 * mm])]


def _failure(test: TestRecord, run_dir: Path, st: Styles) -> list[Flowable]:
    title = f"{short_test(test.test)} on {test.device}" if test.device else short_test(test.test)
    facts: list[tuple[str, object]] = [
        ("Class", failure_class(test)),
        ("Section", test.section or "—"),
        ("Test", test.title or test.test),
        ("Where", f"{test.outcome.value} in {test.phase or 'call'}"),
        ("Message", test.message or "—"),
        ("Device said", test.device_words or "— (the harness read no message from the device)"),
    ]
    if len(test.attempts) > 1:
        facts.append(("Attempts", "; ".join(f"#{a.attempt} {a.outcome.value}"
                                            + (f" ({a.failure_class})" if a.failure_class else "")
                                            for a in test.attempts)))
    rows = [[st.text(k, st.cell_bold), st.text(v, st.mono if k == "Message" else st.cell)] for k, v in facts]
    block: list[Flowable] = [st.text(title, st.h2), grid(rows, [26 * mm, WIDTH - 26 * mm], header=False)]
    shots = [a for a in test.attachments if a.kind is AttachmentKind.SCREENSHOT]
    for shot in shots:
        caption = shot.name if shot.name.lower().startswith("screenshot") else f"Screenshot: {shot.name}"
        block += [Spacer(0, 2 * mm), _thumbnail(run_dir, shot.path, st), st.text(caption[:1].upper() + caption[1:],
                                                                                  st.small)]
    return [KeepTogether(block[:3]), *block[3:], Spacer(0, 3 * mm)]


def _thumbnail(run_dir: Path, relative: str, st: Styles) -> Flowable:
    """The screenshot scaled to fit the thumbnail box, or a note when it is missing or outside the run."""
    root = run_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return st.text(f"(screenshot {relative} is not in the run directory)", st.muted)
    try:
        w, h = ImageReader(str(path)).getSize()
    except OSError as exc:
        return st.text(f"(screenshot {relative} cannot be read: {exc})", st.muted)
    scale = min(THUMB_WIDTH / w, THUMB_HEIGHT / h, 1.0)
    image = Image(str(path), width=w * scale, height=h * scale, hAlign="LEFT")
    frame = Table([[image]], hAlign="LEFT")
    frame.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, RULE)]))
    return frame


def measurements_section(record: RunRecord, st: Styles) -> list[Flowable]:
    """Per measurement, a chart of each device's worst value against the limits and a table of each device's
    count, median and range; then every value out of limits with its test. Each value is in run.json and Allure."""
    story: list[Flowable] = [Spacer(0, 6 * mm), CondPageBreak(80 * mm), st.text("Measurements", st.h1)]
    measured = [(t, m) for t in record.tests for m in t.measurements]
    if not measured:
        return [*story, st.text("The record has no measurements.")]
    order = {d.name: i for i, d in enumerate(record.devices)}
    measured.sort(key=lambda tm: order.get(tm[0].device or LAB_ROW, len(order)))  # stable: the tests' order within
    groups: dict[tuple[str, str], dict[str, list[Measurement]]] = {}
    for test, m in measured:
        groups.setdefault((m.name, m.unit), {}).setdefault(test.device or LAB_ROW, []).append(m)
    out = [(t, m) for t, m in measured if not m.passed]
    story.append(st.text(f"{plural(len(measured), 'value')} of {plural(len(groups), 'measurement')}, "
                         f"{len(out)} out of limits. A bar is a device's worst value (red when any of its values is "
                         "out of limits); the dashed lines are the limits.", st.muted))
    for (name, unit), by_device in groups.items():
        values = [m for ms in by_device.values() for m in ms]
        low, high = _common_limit(values, "low"), _common_limit(values, "high")
        bars = [Bar(f"{device} ({len(ms)})", _worst(ms), all(m.passed for m in ms)) for device, ms in by_device.items()]
        chart = measurement_chart(f"{name}, worst per device", unit, bars, low, high, st.fonts, WIDTH)
        story += [KeepTogether([chart, Spacer(0, 2 * mm)])]
    rows = [[st.text(h, st.cell_bold) for h in ("Measurement", "Device", "Values", "Median", "Range", "Limits",
                                                 "Result")]]
    extra: list[tuple[object, ...]] = []
    for (name, unit), by_device in groups.items():
        for device, ms in by_device.items():
            numbers = sorted(m.value for m in ms)
            bad = sum(not m.passed for m in ms)
            low, high = _common_limit(ms, "low"), _common_limit(ms, "high")
            rows.append([st.text(name, st.cell), st.text(device, st.cell), st.text(len(ms), st.cell),
                         st.text(f"{_number(median(numbers))} {unit}", st.cell),
                         st.text(f"{_number(numbers[0])} – {_number(numbers[-1])} {unit}", st.cell),
                         st.text(_limits(low, high, unit) if _same_limits(ms) else "differ per test", st.cell),
                         st.text(f"{bad} of {len(ms)} OUT OF LIMITS" if bad else "within", st.cell_bold)])
            extra.append(("BACKGROUND", (6, len(rows) - 1), (6, len(rows) - 1),
                          STATUS_BG[Status.FAIL if bad else Status.PASS]))
    widths = [28 * mm, 24 * mm, 12 * mm, 18 * mm, 30 * mm, 20 * mm]
    story.append(grid(rows, [*widths, WIDTH - sum(widths)], extra=extra))
    if out:
        rows = [[st.text(h, st.cell_bold) for h in ("Measurement", "Test", "Device", "Value", "Limits")]]
        rows += [[st.text(m.name, st.cell), st.text(short_test(t.test), st.mono), st.text(t.device or LAB_ROW, st.cell),
                  st.text(f"{_number(m.value)} {m.unit}", st.cell), st.text(_limits(m.low, m.high, m.unit), st.cell)]
                 for t, m in out]
        widths = [30 * mm, 70 * mm, 26 * mm, 20 * mm]
        story += [st.text("Out of limits", st.h2), grid(rows, [*widths, WIDTH - sum(widths)])]
    return story


def _worst(values: list[Measurement]) -> float:
    """The value furthest on the wrong side: the largest against a high limit (or none), the smallest against a
    low limit alone."""
    numbers = [m.value for m in values]
    only_low = any(m.low is not None for m in values) and all(m.high is None for m in values)
    return min(numbers) if only_low else max(numbers)


def _common_limit(values: list[Measurement], which: str) -> float | None:
    """The limit all ``values`` share, or None when they have none or differ."""
    limits = {getattr(m, which) for m in values}
    return limits.pop() if len(limits) == 1 else None


def _same_limits(values: list[Measurement]) -> bool:
    return len({(m.low, m.high) for m in values}) == 1


def _number(value: float) -> str:
    """Two decimals from 1 up (so a value just past a limit does not print as the limit), three significant
    digits below."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"


def _limits(low: float | None, high: float | None, unit: str) -> str:
    if low is None and high is None:
        return "none"
    if low is None:
        return f"≤ {high:g} {unit}"
    if high is None:
        return f"≥ {low:g} {unit}"
    return f"{low:g} – {high:g} {unit}"


def devices_section(record: RunRecord, st: Styles) -> list[Flowable]:
    story: list[Flowable] = [st.text("Devices", st.h1)]
    if not record.devices:
        return [*story, st.text("The record names no devices.")]
    head = ("Device", "Model", "Firmware", "Serial", "MAC", "Address", "Capabilities")
    rows = [[st.text(h, st.cell_bold) for h in head]]
    for d in record.devices:
        kind = d.kind + (f"; defects on: {', '.join(d.defects)}" if d.defects else "")
        rows.append([st.text(f"{d.name}\n({kind})", st.cell), st.text(d.model, st.cell),
                     st.text(d.firmware or "unknown", st.mono), st.text(d.serial or "unknown", st.mono),
                     st.text(d.mac or "—", st.mono), st.text(d.address or "—", st.cell),
                     st.text(", ".join(d.capabilities) or "—", st.cell)])
    widths = [28 * mm, 22 * mm, 21 * mm, 21 * mm, 30 * mm, 25 * mm]
    return [KeepTogether([*story, grid(rows, [*widths, WIDTH - sum(widths)])])]  # no heading alone at a page's foot


def trend_section(history_url: str, run_dir: Path, st: Styles) -> list[Flowable]:
    """The history's trend (its own heading included), or a note saying why it is missing."""
    unavailable = [PageBreak(), st.text("Nightly trend", st.h1)]
    try:
        from harness.reporting.trend import trend_flowables
    except ImportError as exc:
        return [*unavailable, st.text(f"The trend is not available in this harness ({exc}).", st.muted)]
    render: Callable[..., list[Flowable]] = trend_flowables
    try:
        return [PageBreak(), *render(history_url, TREND_DAYS, run_dir, styles=st.sheet())]
    except Exception as exc:  # the sign-off must still be written when the history cannot be read
        log.exception("trend from %s failed", history_url)
        return [*unavailable, st.text(f"The trend could not be read from the history: {type(exc).__name__}: "
                                      f"{exc}", st.muted)]


def signoff_block(found: Verdict, st: Styles) -> list[Flowable]:
    rows: list[list[object]] = [[st.text(h, st.cell_bold) for h in ("Role", "Name", "Date", "Signature")]]
    rows += [[st.text(role, st.cell), "", "", ""] for role in SIGNERS]
    table = grid(rows, [38 * mm, 48 * mm, 30 * mm, WIDTH - 116 * mm],
                 extra=[("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white]), ("TOPPADDING", (0, 1), (-1, -1), 14),
                        ("BOTTOMPADDING", (0, 1), (-1, -1), 14)])
    note = (f"The verdict of this run is {found.label}. By signing, each role confirms it has reviewed the "
            "results above and accepts the release on that basis.")
    return [KeepTogether([st.text("Sign-off", st.h1), st.text(note), Spacer(0, 3 * mm), table,
                          Spacer(0, 2 * mm), st.text("Sign with name, date and signature in each row.", st.muted)])]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f" {moment.tzname()}" if moment.tzinfo else "")

