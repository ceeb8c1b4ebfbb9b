"""The switch every compiled kernel shares: numba when it is installed, unless DATACRAFT_NUMBA=0."""

from __future__ import annotations

import os
from typing import Any


def numba_jit() -> Any:
    """numba's `njit` as the kernels use it, or None when numba is missing or switched off.

    Not cached here: each kernel caches what it compiled, and clearing that cache re-reads the switch.
    """
    if os.environ.get("DATACRAFT_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except ImportError:
        return None
    # cache=True: compiled once per machine into __pycache__, loaded in milliseconds after that
    return numba.njit(cache=True, nogil=True)
