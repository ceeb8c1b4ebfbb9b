"""Rehearsal mixing: add a share of general data to a domain set, to counter catastrophic forgetting."""

from datacraft.mix.run import NOT_SAMPLED, SAMPLE_STAGE, mix_file, record_tokens
from datacraft.mix.sample import allocate, general_count, pick_tokens

__all__ = ["NOT_SAMPLED", "SAMPLE_STAGE", "allocate", "general_count", "mix_file", "pick_tokens", "record_tokens"]
