"""robots.txt as RFC 9309 reads it: groups by user agent, `*` and `$` in paths, longest match wins.

Python's `urllib.robotparser` predates the RFC: it ignores wildcards, takes the first matching
rule instead of the longest, and treats `Allow` and `Disallow` alike on a tie. This is the RFC's
matching, plus the widely used `Crawl-delay` extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit


@dataclass
class Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[int, bool, re.Pattern[str]]] = field(default_factory=list)  # (length, allow, pattern)
    crawl_delay: float | None = None


class Robots:
    """Parsed robots.txt rules: `Robots.parse(text).allowed("datacraft", url)`."""

    def __init__(self, groups: list[Group], *, allow_all: bool = False, disallow_all: bool = False):
        self.groups = groups
        self.allow_all, self.disallow_all = allow_all, disallow_all

    @classmethod
    def parse(cls, text: str) -> Robots:
        """Parse robots.txt text; unknown lines and lines without a colon are ignored, as the RFC asks."""
        groups: list[Group] = []
        current: Group | None = None
        in_agents = False
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key, value = key.strip().lower(), value.strip()
            if key in ("user-agent", "useragent"):
                if current is None or not in_agents:
                    current = Group()
                    groups.append(current)
                current.agents.append(value.lower())
                in_agents = True
                continue
            in_agents = False
            if current is None:
                continue  # rules before any user-agent line belong to no group
            if key in ("allow", "disallow"):
                if value:  # an empty Disallow matches nothing
                    current.rules.append((len(_normalise(value)), key == "allow", _compile(value)))
            elif key in ("crawl-delay", "crawldelay"):
                try:
                    current.crawl_delay = max(0.0, float(value))
                except ValueError:
                    pass
        return cls(groups)

    def _groups_for(self, user_agent: str) -> list[Group]:
        token = product_token(user_agent)
        mine = [g for g in self.groups if token in g.agents]
        # Several groups for one agent are merged (RFC 9309 2.2.1); with none, the `*` groups apply.
        return mine or [g for g in self.groups if "*" in g.agents]

    def allowed(self, user_agent: str, url: str) -> bool:
        """True when `user_agent` may fetch `url`."""
        if self.allow_all:
            return True
        if self.disallow_all:
            return False
        target = _path_of(url)
        if target == "/robots.txt":
            return True  # always allowed (RFC 9309 2.2.2)
        best: tuple[int, bool] | None = None
        for group in self._groups_for(user_agent):
            for length, allow, pattern in group.rules:
                if pattern.match(target) and (best is None or (length, allow) > best):
                    best = (length, allow)  # the longest match wins; on a tie, allow (True > False)
        return best is None or best[1]

    def crawl_delay(self, user_agent: str) -> float | None:
        delays = [g.crawl_delay for g in self._groups_for(user_agent) if g.crawl_delay is not None]
        return max(delays) if delays else None


def product_token(user_agent: str) -> str:
    """The name a robots.txt group is matched against.

    >>> product_token("datacraft/0.1 (+https://example.com)")
    'datacraft'
    """
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return (match.group(0) if match else user_agent).lower()


def _normalise(text: str) -> str:
    # Compare in one spelling: percent-encoded UTF-8 with upper-case hex, unreserved characters decoded.
    return quote(unquote(text), safe="/?=&;:@!$'()*+,~-._%")


def _compile(value: str) -> re.Pattern[str]:
    value = _normalise(value)
    anchored = value.endswith("$")
    body = value[:-1] if anchored else value
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + (r"\Z" if anchored else ""), re.DOTALL)


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return _normalise(path + (f"?{parts.query}" if parts.query else ""))
