"""Show statistics: a compact text summary, and a self-contained HTML report with embedded plots."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from datacraft.io.writers import atomic_write
from datacraft.stats.conversations import TURN_FIELDS, turn_buckets, turns_line

# Fonts with CJK glyphs matplotlib may find; without one, plot labels stay ASCII (tables show CJK).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
             "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN", "Arial Unicode MS")
STATS_COLUMNS = ("count", "min", "p50", "p90", "p99", "max", "mean")


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def format_summary(stats: dict[str, Any]) -> str:
    """A short plain-text summary for the terminal."""
    n = stats["records"]
    skipped = [f"{what} {stats[key]}" for key, what in (("unreadable", "unreadable rows"),
                                                         ("unrecognised", "records of no known shape")) if stats[key]]
    lines = [f"records {n}" + (f"  ({', '.join(skipped)})" if skipped else "")]
    lines.append("formats   " + ", ".join(f"{k} {v}" for k, v in stats["formats"].items()))
    chats = stats["conversations"]
    lines.append("kinds     " + ", ".join(f"{k} {v}" for k, v in chats["kinds"].items()))
    lines.append("languages " + ", ".join(f"{k} {_pct(v / n)}" for k, v in stats["languages"].items()))
    present = stats["fields_present"]
    lines.append("non-empty " + ", ".join(f"{k} {v}" for k, v in present.items()))
    dup = stats["duplicates"]
    near = "not computed" if dup["near"] is None else f"{dup['near']} ({_pct(dup['near_rate'])})"
    lines.append(f"duplicates exact {dup['exact']} ({_pct(dup['exact_rate'])}), near incl. exact {near}")
    for unit, table in stats["lengths"].items():
        lines.append(f"length ({unit})   " + "".join(f"{c:>8}" for c in STATS_COLUMNS))
        first_turn_row = next((f for f in table if f in TURN_FIELDS), None)
        for field, s in table.items():
            if field == first_turn_row:
                lines.append("  per turn, by role")
            lines.append(f"  {field:<13}" + "".join(f"{s[c]:>8}" for c in STATS_COLUMNS))
    if chats["turns"]:
        lines.append(f"turns     {turns_line(chats['turns'], chats['turns_summary'])}")
    lines.extend(conversation_lines(stats))
    if stats["openings"]:
        lines.append("top openings")
        for row in stats["openings"][:10]:
            lines.append(f"  {row['count']:>6}  {_pct(row['share']):>6}  {row['opening']}")
    lines.extend(f"note: {note}" for note in stats["notes"])
    return "\n".join(lines)


def conversation_lines(stats: dict[str, Any]) -> list[str]:
    """Tools and tool calls, preference length bias and KTO tags: a line each, where the data has them."""
    chats, n, lines = stats["conversations"], stats["records"], []
    tools = chats["tools"]
    if tools["records_with_tools"] or tools["calls"] or tools["observations"]:
        lines.append(f"tools     records with tools {tools['records_with_tools']} ({_pct(tools['records_with_tools'] / n)}),"
                     f" tool calls {tools['calls']} in {tools['records_with_calls']} records,"
                     f" observations {tools['observations']}")
    pref = chats["preference"]
    if pref["pairs"]:
        lines.append(f"preference {pref['pairs']} pairs: chosen longer {_pct(pref['chosen_longer'] / pref['pairs'])},"
                     f" rejected longer {_pct(pref['rejected_longer'] / pref['pairs'])},"
                     f" equal {_pct(pref['equal'] / pref['pairs'])}")
    kto = chats["kto"]
    if kto["desirable"] or kto["undesirable"]:
        lines.append(f"kto       desirable {kto['desirable']}, undesirable {kto['undesirable']}")
    return lines


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Any:
    # The object API (not pyplot) renders with Agg and leaves the caller's backend alone.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def plot_lengths(histograms: dict[str, Any], unit: str) -> str:
    """One histogram per field, as a PNG data URI."""
    fields = list(histograms)
    cols = min(3, len(fields))
    rows = -(-len(fields) // cols)
    fig = _figure(4.2 * cols, 2.8 * rows)
    for i, field in enumerate(fields, start=1):
        h = histograms[field]
        ax = fig.add_subplot(rows, cols, i)
        edges = h["edges"]
        ax.bar(edges[:-1], h["counts"], width=[b - a for a, b in zip(edges, edges[1:], strict=False)],
               align="edge", color="#4C72B0", edgecolor="white", linewidth=0.5)
        title = field + (f"  (+{h['above']} above p99)" if h["above"] else "")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _png(fig)


def plot_bars(labels: list[str], values: list[float], title: str, xlabel: str, fmt: str = "{:g}") -> str:
    """A horizontal bar chart, largest at the top, as a PNG data URI."""
    fig = _figure(7, 0.32 * len(labels) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    bars = ax.barh(range(len(labels)), values, color="#55A868")
    ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8, padding=2)
    ax.margins(x=0.1)
    ax.set_yticks(range(len(labels)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _label(text: str, rank: int, cjk_ok: bool) -> str:
    """The opening itself when the plot font can draw it, else its rank in the table."""
    return text if cjk_ok or text.isascii() else f"#{rank}"


def _cell(value: Any) -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f'<td{" class=n" if numeric else ""}>{html.escape(str(value))}</td>'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(data_uri: str, alt: str) -> str:
    return f'<img src="{data_uri}" alt="{html.escape(alt)}">'


def _overview(stats: dict[str, Any], n: int) -> list[list[Any]]:
    dup = stats["duplicates"]
    near = "not computed" if dup["near"] is None else f"{dup['near']} ({_pct(dup['near_rate'])})"
    rows = [["records", stats["records"]], ["unreadable rows", stats["unreadable"]],
            ["records of no known shape", stats["unrecognised"]],
            ["formats", ", ".join(f"{k} {v}" for k, v in stats["formats"].items())],
            ["kinds", ", ".join(f"{k} {v}" for k, v in stats["conversations"]["kinds"].items())],
            ["exact duplicates", f"{dup['exact']} ({_pct(dup['exact_rate'])})"], ["near duplicates (incl. exact)", near],
            ["tokenizer", stats["tokenizer"] or "none"]]
    return rows + [[f"non-empty {k}", f"{v} ({_pct(v / n)})"] for k, v in stats["fields_present"].items()]


def _conversations_html(stats: dict[str, Any]) -> str:
    chats = stats["conversations"]
    rows = [[turns, count, _pct(count / (stats["records"] or 1))] for turns, count in turn_buckets(chats["turns"])]
    part = "<h2>Conversations</h2><p>Turns per record (a preference record's answer counts as one turn).</p>"
    part += _table(["turns", "records", "share"], rows)
    for line in conversation_lines(stats):
        label, _, text = line.partition(" ")
        part += f"<p><b>{html.escape(label)}</b> {html.escape(text.strip())}</p>"
    return part


def render_html(stats: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (plots embedded as base64 PNGs)."""
    import matplotlib

    n = stats["records"] or 1
    font = _cjk_font()
    parts = [f"<h1>Dataset statistics</h1><p>{html.escape(', '.join(stats['files']))}</p>",
             "<h2>Overview</h2>" + _table(["", ""], _overview(stats, n)), _conversations_html(stats)]
    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"]} if font else {}):
        for unit, table in stats["lengths"].items():
            rows = [[field, *(s[c] for c in STATS_COLUMNS)] for field, s in table.items()]
            parts.append(f"<h2>Lengths ({unit})</h2>" + _table(["field", *STATS_COLUMNS], rows))
            if stats["histograms"].get(unit):
                parts.append(_img(plot_lengths(stats["histograms"][unit], unit), f"length histograms ({unit})"))
        langs = stats["languages"]
        if langs:
            shares = [v / n * 100 for v in langs.values()]
            parts.append("<h2>Languages</h2>" + _table(["language", "records", "share"],
                                                       [[k, v, _pct(v / n)] for k, v in langs.items()]))
            parts.append(_img(plot_bars(list(langs), shares, "Language mix", "% of records", "{:.1f}%"), "languages"))
        openings = stats["openings"]
        if openings:
            labels = [_label(row["opening"], i, font is not None) for i, row in enumerate(openings, start=1)]
            parts.append("<h2>Top instruction openings</h2><p>First two words, or first characters of CJK text"
                         " (the Self-Instruct verb-noun view).</p>")
            if labels != [row["opening"] for row in openings]:
                parts.append("<p>No CJK font is installed for the plot: #N labels refer to the table.</p>")
            counts = [row["count"] for row in openings]
            table = _table(["#", "opening", "records", "share"],
                           [[i, r["opening"], r["count"], _pct(r["share"])] for i, r in enumerate(openings, start=1)])
            # Side by side, so #N plot labels can be read off the table at a glance.
            parts.append(f'<div class="row">{_img(plot_bars(labels, counts, "Top instruction openings", "records"), "top openings")}'
                         f"{table}</div>")
    if stats["notes"]:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in stats["notes"]) + "</ul>")
    return _PAGE.format(body="\n".join(parts))


def write_html_report(stats: dict[str, Any], path: str) -> None:
    """Write the HTML report to `path` atomically."""
    page = render_html(stats)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(page)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>datacraft stats</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; font-size: 14px; }}
th, td {{ border: 1px solid #ddd; padding: 4px 10px; text-align: left; }}
th {{ background: #f4f4f4; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
img {{ max-width: 100%; display: block; margin: 0.5em 0 1.5em; }}
h2 {{ margin-top: 1.5em; border-bottom: 1px solid #eee; }}
.row {{ display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }} .row img {{ max-width: 640px; }}
</style></head>
<body>
{body}
</body></html>
"""
