"""``tag_concurrency_limits`` of the multiprocess executor: how many running steps may carry a tag.

Each limit is ``{"key": k, "value": v | None, "limit": n}`` (validated by the executor's config):
at most ``n`` steps whose op tags have ``k`` (equal to ``v`` when given) run at once; with
``"value": {"applyLimitPerUniqueValue": True}`` each distinct value of ``k`` gets its own ``n``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["TagConcurrencyLimits"]


class TagConcurrencyLimits:
    """``tag_concurrency_limits``: how many running steps may carry a tag (per value, optionally)."""

    def __init__(self, limits: list[dict[str, Any]]) -> None:
        self.limits = limits
        self.running: dict[tuple[int, Any], int] = {}

    def _slots(self, tags: Mapping[str, Any]) -> list[tuple[int, Any]]:
        slots = []
        for i, limit in enumerate(self.limits):
            key = limit["key"]
            if key not in tags:
                continue
            value = limit.get("value")
            if limit.get("per_value"):
                slots.append((i, tags[key]))
            elif value is None or str(tags[key]) == str(value):
                slots.append((i, None))
        return slots

    def fits(self, tags: Mapping[str, Any]) -> bool:
        return all(
            self.running.get(slot, 0) < self.limits[slot[0]]["limit"] for slot in self._slots(tags)
        )

    def acquire(self, tags: Mapping[str, Any]) -> None:
        for slot in self._slots(tags):
            self.running[slot] = self.running.get(slot, 0) + 1

    def release(self, tags: Mapping[str, Any]) -> None:
        for slot in self._slots(tags):
            self.running[slot] -= 1
