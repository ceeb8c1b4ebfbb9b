"""Reviewing generated records: by a person in the terminal, or by an LLM judge (`--auto`)."""

from datacraft.review.judge import Verdict, auto_review, judge_messages, parse_verdict
from datacraft.review.session import ReviewSession, load_for_review

__all__ = ["ReviewSession", "Verdict", "auto_review", "judge_messages", "load_for_review", "parse_verdict"]
