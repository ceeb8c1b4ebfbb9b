"""The training extra is optional: check for it before importing torch, with a message that says how to fix it."""

from __future__ import annotations

import importlib.util

from datacraft.errors import ConfigError

TRAIN_PACKAGES = ("torch", "transformers", "peft", "accelerate")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ValueError, AttributeError):  # a module blocked or half-imported in sys.modules
        return False


def require_train(*extra: str) -> None:
    """Raise ConfigError naming the missing packages when `datacraft[train]` is not installed."""
    missing = [name for name in (*TRAIN_PACKAGES, *extra) if not _installed(name)]
    if missing:
        raise ConfigError(
            f"this command needs {', '.join(missing)}: install datacraft[train] "
            "(pip install 'datacraft[train]'; on a CPU-only machine pin torch, e.g. 'torch==2.13.0', "
            "to get the CPU wheel)"
        )


def quiet_libraries() -> None:
    """Silence transformers/peft progress bars and deprecation chatter; datacraft reports what matters."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft|accelerate)\b")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(transformers|peft)\b")
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
