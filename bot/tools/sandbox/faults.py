"""Injected faults: the ways Telegram's servers fail, on demand, so tests can prove recovery.

Each :class:`Fault` targets one Bot API method (or ``"*"`` for all) and fires either on the
next ``count`` calls, or on each call with a ``probability`` drawn from a seeded RNG so a
benchmark's faults repeat run after run. Three kinds:

- ``error``: answer 5xx (500 or 502) with Telegram's JSON error shape; the call is NOT
  processed, so a retry is safe.
- ``drop``: process the call (the message reaches the chat), then close the connection without
  a response: the client sees a network error and cannot know the message went out.
- ``delay``: process the call, then hold the reply for ``delay`` seconds, past the client's
  read timeout; this is how "Telegram may have delivered" is tested.

Nothing here speaks HTTP; :mod:`bot.tools.sandbox.server` applies what :meth:`Faults.pick` returns.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["error", "drop", "delay"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "drop", "delay")

# What Telegram's front ends say with each 5xx.
ERROR_DESCRIPTIONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    """One armed fault; ``count`` None means "every call, with ``probability``"."""

    method: str
    kind: FaultKind
    count: int | None = 1
    probability: float = 1.0
    status: int = 500
    delay: float = 30.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1 (or None for a probability)")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.status not in ERROR_DESCRIPTIONS:
            raise ValueError(f"status must be one of {sorted(ERROR_DESCRIPTIONS)}")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if not self.method:
            raise ValueError("method is empty")

    @property
    def description(self) -> str:
        return ERROR_DESCRIPTIONS[self.status]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build from the control endpoint's JSON (or a CLI spec); raises ValueError."""
        unknown = set(data) - {"method", "kind", "count", "probability", "status", "delay"}
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        try:
            method = str(data["method"])
            kind = str(data["kind"])
        except KeyError as exc:
            raise ValueError(f"a fault needs {exc.args[0]!r}") from exc
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        probability = float(data.get("probability", 1.0))
        default_count = None if "probability" in data else 1
        raw_count = data.get("count", default_count)
        return cls(
            method=method,
            kind=kind,
            count=None if raw_count is None else int(raw_count),
            probability=probability,
            status=int(data.get("status", 500)),
            delay=float(data.get("delay", 30.0)),
        )

    @classmethod
    def from_spec(cls, spec: str) -> Fault:
        """Parse ``METHOD,KIND[,key=value...]``, e.g. ``sendMessage,error,status=502,count=3``."""
        method, _, rest = spec.partition(",")
        kind, _, options = rest.partition(",")
        data: dict[str, Any] = {"method": method.strip(), "kind": kind.strip()}
        for option in filter(None, options.split(",")):
            key, sep, value = option.partition("=")
            if not sep:
                raise ValueError(f"expected key=value, got {option!r}")
            data[key.strip()] = None if value.strip() == "none" else value.strip()
        return cls.from_json(data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The armed faults, looked up per call in O(faults for that method), never O(requests)."""

    def __init__(self, seed: int | None = 0) -> None:
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._armed: dict[str, list[Fault]] = {}

    def seed(self, seed: int | None) -> None:
        self._random.seed(seed)

    def add(self, fault: Fault) -> None:
        self._armed.setdefault(fault.method.lower(), []).append(fault)

    def clear(self) -> None:
        self._armed.clear()

    @property
    def armed(self) -> list[Fault]:
        return [fault for faults in self._armed.values() for fault in faults]

    def pick(self, method: str) -> Fault | None:
        """The fault this call suffers, if any; a counted fault is used up by firing."""
        if not self._armed:
            return None
        for key in (method.lower(), "*"):
            faults = self._armed.get(key)
            if not faults:
                continue
            for fault in faults:
                if fault.probability < 1.0 and self._random.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        faults.remove(fault)
                        if not faults:
                            del self._armed[key]
                return fault
        return None
