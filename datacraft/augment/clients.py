"""The LLM client (with its reply cache and budget) and the translator a run of `augment` needs, or none."""

from __future__ import annotations

from pathlib import Path

from datacraft.augment.config import AugmentConfig
from datacraft.augment.translate import LLMTranslator, Translator
from datacraft.errors import ConfigError
from datacraft.llm import Budget, LLMClient, LLMConfig, ResponseCache


def needs_llm(config: AugmentConfig) -> list[str]:
    """What in this config asks an LLM endpoint: the LLM translator, paraphrase, the judge."""
    wanted = []
    if "backtranslate" in config.methods and config.backtranslate.translator == "llm":
        wanted.append("back-translation with the LLM translator")
    if "paraphrase" in config.methods:
        wanted.append("--method paraphrase")
    if config.judge.enabled:
        wanted.append("--judge")
    return wanted


def make_resources(config: AugmentConfig, llm: LLMConfig | None, output: str | None, translator: Translator | None,
                    budget: Budget | None = None) -> tuple[Translator | None, LLMClient | None, ResponseCache | None]:
    """The translator, the one LLM client of the run (with its reply cache), as the config needs them."""
    wanted = needs_llm(config)
    if translator is not None and "backtranslate" in config.methods and config.backtranslate.translator == "llm":
        wanted.remove("back-translation with the LLM translator")  # the caller brought its own
    store: ResponseCache | None = None
    client: LLMClient | None = None
    if wanted:
        if llm is None:
            raise ConfigError(f"{' and '.join(wanted)} need{'s' if len(wanted) == 1 else ''} an endpoint: pass --model NAME "
                              "(and --base-url URL)" + (", or --translator marian --model-dir zh-en=PATH"
                                                        if "backtranslate" in config.methods and translator is None else ""))
        if llm.use_cache and (llm.cache or output not in (None, "-")):
            store = ResponseCache(llm.cache or Path(f"{output}.run") / "cache.sqlite")
        client = LLMClient(llm, cache=store, budget=budget)
    if "backtranslate" in config.methods and translator is None:
        settings = config.backtranslate
        if settings.translator == "marian":
            from datacraft.augment.marian import MarianTranslator, parse_model_dirs

            translator = MarianTranslator(parse_model_dirs(settings.model_dirs), settings)
        else:
            assert client is not None
            translator = LLMTranslator(client, settings, seed=config.seed)
    return translator, client, store
