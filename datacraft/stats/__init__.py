"""Dataset statistics: lengths, languages, duplicates, instruction openings; text and HTML reports."""

from datacraft.stats.compute import compute_stats, opening, summarize
from datacraft.stats.report import format_summary, render_html, write_html_report

__all__ = ["compute_stats", "format_summary", "opening", "render_html", "summarize", "write_html_report"]
