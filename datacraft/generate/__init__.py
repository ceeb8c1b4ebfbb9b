"""Seed-based and document-grounded generation with an LLM, in resumable rounds with error feedback."""

from datacraft.generate.config import GenerateConfig, ReviewConfig, load_sections
from datacraft.generate.docs import Chunk, iter_chunks, load_documents
from datacraft.generate.feedback import Feedback, FeedbackEntry, append_feedback, load_feedback
from datacraft.generate.novelty import NoveltyChecker, rouge_l
from datacraft.generate.parse import ParsedReply, parse_items, to_record
from datacraft.generate.prompts import render, template_source
from datacraft.generate.run import manifest_path, run_generation, state_dir
from datacraft.generate.seeds import load_seeds, seed_record, seed_warnings, seeds_language

__all__ = [
    "Chunk",
    "Feedback",
    "FeedbackEntry",
    "GenerateConfig",
    "NoveltyChecker",
    "ParsedReply",
    "ReviewConfig",
    "append_feedback",
    "iter_chunks",
    "load_documents",
    "load_feedback",
    "load_sections",
    "load_seeds",
    "manifest_path",
    "parse_items",
    "render",
    "rouge_l",
    "run_generation",
    "seed_record",
    "seed_warnings",
    "seeds_language",
    "state_dir",
    "template_source",
    "to_record",
]
