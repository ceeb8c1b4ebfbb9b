"""LLM paraphrase (`--method paraphrase`): each rewritable field reworded in its own language, in one hop.

It is back-translation without the pivot: the same planning (fields by task kind), masking of
protected spans with sentinels that must come back exactly once, batching by language, the same
LLM client (cache, retries, concurrency, budget) and the same guard afterwards. Only the prompt
(prompts/paraphrase.j2) and the single hop differ.
"""

from __future__ import annotations

from datacraft.augment.backtranslate import BackTranslator, _Job
from datacraft.augment.config import ParaphraseConfig
from datacraft.augment.translate import LANGUAGE_NAMES, LLMTranslator
from datacraft.generate.prompts import render
from datacraft.llm import LLMClient


class LLMParaphraser(LLMTranslator):
    """Rewording with any OpenAI-compatible chat model, one batch of texts per request."""

    name = "llm-paraphrase"

    def __init__(self, client: LLMClient, config: ParaphraseConfig | None = None, seed: int = 0):
        super().__init__(client, config or ParaphraseConfig(), seed)  # type: ignore[arg-type]

    def messages(self, texts: list[str], source: str, target: str) -> list[dict[str, str]]:
        """The paraphrase prompt for a batch (source and target are the same language)."""
        return render("paraphrase", self.config.prompt, texts=texts, language=LANGUAGE_NAMES.get(source, source),
                      language_code=source)


class Paraphraser(BackTranslator):
    """`await paraphraser.rewrite(records)` -> for each record, `copies` Rewrites."""

    def __init__(self, paraphraser: LLMParaphraser, config: ParaphraseConfig | None = None, *,
                 fields: list[str] | tuple[str, ...] = ("instruction", "input", "output"),
                 protect_factual: bool = True, copies: int = 1):
        super().__init__(paraphraser, config or ParaphraseConfig(), fields=fields,  # type: ignore[arg-type]
                         protect_factual=protect_factual, copies=copies)

    def pivot_for(self, source: str) -> str:
        return source

    async def _round_trip(self, batch: list[_Job]) -> None:
        source, copy = batch[0].source, batch[0].copy
        results = await self.translator.translate([j.masked.text for j in batch], source, source, copy)
        for job, result in zip(batch, results, strict=True):
            job.result = result
