"""The guardrail policy: per agent and routing key, what to do with each PII type and payload kind.

A policy is data (YAML), checked completely when loaded so that a typo stops the service at
start-up with a message naming the file, the rule and the fix, instead of silently letting PII
through. Shape:

```yaml
version: 1
defaults:            # optional; these are the built-in defaults
  pii: redact        # every PII type
  executable: block  # every executable kind
rules:               # optional; evaluated in order, later rules override earlier ones
  - name: publisher may quote e-mail addresses
    agent: publisher             # glob on the task's agent (fnmatch: *, ?, [...])
    routing_key: "task.publisher.#"   # AMQP topic pattern: * one word, # zero or more
    actions:
      EMAIL: allow               # a PII type...
      prompt_injection: block    # ...an executable kind...
      pii: redact                # ...or a whole category (a type in the same rule wins)
```

`agent` and `routing_key` may each be a string or a list (any of them matches); a rule without
either applies to every task. Actions are `allow`, `redact` or `block`.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, cast

import yaml

from agentbus.errors import ConfigurationError
from services.guardrail.scanning.types import ACTIONS, EXEC_KINDS, PII_TYPES, Action

DEFAULT_POLICY_RESOURCE: Final = "policy.default.yaml"
_CATEGORY_MEMBERS: Final[dict[str, tuple[str, ...]]] = {"pii": PII_TYPES,
                                                         "executable": EXEC_KINDS}
_KEYS: Final[dict[str, str]] = {
    **{t.lower(): t for t in PII_TYPES}, **{k: k for k in EXEC_KINDS},
    "pii": "pii", "executable": "executable"}
_TOPIC_WORD: Final = re.compile(r"^(?:\*|#|[A-Za-z0-9_\-]+)$")
_AGENT_GLOB: Final = re.compile(r"^[A-Za-z0-9_\-*?\[\]!]+$")
_CACHE_LIMIT: Final = 4096


class PolicyError(ConfigurationError):
    """The guardrail policy is invalid; the message names the file, the place and the fix."""


def _closest(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def topic_matches(pattern: Sequence[str], key: Sequence[str]) -> bool:
    """AMQP topic matching on words: `*` is exactly one word, `#` zero or more."""
    # reachable[j]: the first i pattern words can consume the first j key words.
    reachable = [True] + [False] * len(key)
    for word in pattern:
        if word == "#":
            for j in range(1, len(key) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            for j in range(len(key), 0, -1):
                reachable[j] = reachable[j - 1] and (word in ("*", key[j - 1]))
            reachable[0] = False
    return reachable[len(key)]


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule: which tasks it applies to, and the actions it sets for them."""

    name: str
    agents: tuple[str, ...]
    routing_keys: tuple[tuple[str, ...], ...]
    actions: tuple[tuple[str, Action], ...]

    def matches(self, agent: str | None, routing_key: str | None) -> bool:
        """True when the rule applies to a task of `agent` arriving with `routing_key`."""
        if self.agents and not (agent is not None and any(
                fnmatch.fnmatchcase(agent, glob) for glob in self.agents)):
            return False
        if self.routing_keys:
            if routing_key is None:
                return False
            words = routing_key.split(".")
            return any(topic_matches(pattern, words) for pattern in self.routing_keys)
        return True


def _expand(actions: Mapping[str, Action]) -> dict[str, Action]:
    # Category-wide entries first, so that a type named in the same mapping wins.
    out: dict[str, Action] = {}
    for key, action in actions.items():
        for member in _CATEGORY_MEMBERS.get(key, ()):
            out[member] = action
    for key, action in actions.items():
        if key not in _CATEGORY_MEMBERS:
            out[key] = action
    return out


class Policy:
    """Resolved guardrail policy; `actions_for` says what to do with each finding type."""

    def __init__(self, defaults: Mapping[str, Action], rules: Sequence[PolicyRule] = (), *,
                 source: str = "<built-in>") -> None:
        """Build a policy from already validated parts; use `load_policy` for files."""
        self.source = source
        base: dict[str, Action] = {**dict.fromkeys(PII_TYPES, "redact"),
                                   **dict.fromkeys(EXEC_KINDS, "block")}
        base.update(_expand(defaults))
        self.defaults: Mapping[str, Action] = base
        self.rules = tuple(rules)
        self._cache: dict[tuple[str | None, str | None], Mapping[str, Action]] = {}

    def actions_for(self, *, agent: str | None = None,
                    routing_key: str | None = None) -> Mapping[str, Action]:
        """The action for every PII type and executable kind, for one agent and routing key."""
        cache_key = (agent, routing_key)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        if agent is None and routing_key is not None:
            words = routing_key.split(".")
            if len(words) >= 2 and words[0] == "task":
                agent = words[1]
        actions = dict(self.defaults)
        for rule in self.rules:
            if rule.matches(agent, routing_key):
                actions.update(_expand(dict(rule.actions)))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[cache_key] = actions
        return actions

    @classmethod
    def from_mapping(cls, data: object, *, source: str = "<policy>") -> Policy:
        """Validate a parsed policy document; raises PolicyError naming what is wrong."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise PolicyError(f"{source}: the policy must be a mapping with 'defaults' and "
                              f"'rules', not {type(data).__name__}")
        unknown = set(data) - {"version", "defaults", "rules"}
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise PolicyError(f"{source}: unknown top-level key {key!r}"
                              f"{_closest(key, ['version', 'defaults', 'rules'])}; "
                              "allowed: version, defaults, rules")
        version = data.get("version", 1)
        if version != 1:
            raise PolicyError(f"{source}: unsupported policy version {version!r}; use version: 1")
        defaults = _parse_actions(data.get("defaults") or {}, f"{source}: defaults")
        raw_rules = data.get("rules") or []
        if not isinstance(raw_rules, list):
            raise PolicyError(f"{source}: 'rules' must be a list of rules")
        rules = [_parse_rule(raw, i, source) for i, raw in enumerate(raw_rules)]
        return cls(defaults, rules, source=source)


def _parse_actions(raw: object, where: str) -> dict[str, Action]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected a mapping of type or category to action "
                          f"(e.g. `EMAIL: allow`), got {type(raw).__name__}")
    out: dict[str, Action] = {}
    for key, value in raw.items():
        name = _KEYS.get(str(key).lower())
        if name is None:
            choices = [*PII_TYPES, *EXEC_KINDS, "pii", "executable"]
            raise PolicyError(
                f"{where}: unknown type {key!r}{_closest(str(key), choices)}; known: "
                f"{', '.join(choices)}")
        action = str(value).lower() if isinstance(value, str) else value
        if action not in ACTIONS:
            raise PolicyError(f"{where}.{key}: unknown action {value!r}; use one of "
                              f"{', '.join(ACTIONS)}")
        out[name] = cast(Action, action)
    return out


def _strings(raw: object, where: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return list(raw)
    raise PolicyError(f"{where}: expected a string or a non-empty list of strings")


def _parse_rule(raw: object, index: int, source: str) -> PolicyRule:
    where = f"{source}: rules[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a rule must be a mapping with agent/routing_key and actions")
    name = str(raw.get("name") or f"rule {index}")
    where = f"{source}: rules[{index}] ({name})"
    unknown = set(raw) - {"name", "agent", "routing_key", "actions"}
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise PolicyError(f"{where}: unknown key {key!r}"
                          f"{_closest(key, ['name', 'agent', 'routing_key', 'actions'])}; "
                          "allowed: name, agent, routing_key, actions")
    agents: list[str] = []
    if "agent" in raw:
        agents = _strings(raw["agent"], f"{where}.agent")
        for glob in agents:
            if not _AGENT_GLOB.match(glob):
                raise PolicyError(f"{where}.agent: bad agent pattern {glob!r}; use an agent "
                                  "name or a glob of letters, digits, _ - * ? [ ]")
    patterns: list[tuple[str, ...]] = []
    if "routing_key" in raw:
        for pattern in _strings(raw["routing_key"], f"{where}.routing_key"):
            words = tuple(pattern.split("."))
            bad = [w for w in words if not _TOPIC_WORD.match(w)]
            if bad:
                raise PolicyError(
                    f"{where}.routing_key: bad pattern {pattern!r} (word {bad[0]!r}); use "
                    "dot-separated words, with * for one word and # for any number, "
                    "e.g. 'task.writer.*' or 'task.#'")
            patterns.append(words)
    if "actions" not in raw:
        raise PolicyError(f"{where}: missing 'actions' (e.g. `actions: {{EMAIL: allow}}`)")
    actions = _parse_actions(raw["actions"], f"{where}.actions")
    return PolicyRule(name, tuple(agents), tuple(patterns), tuple(actions.items()))


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; None loads the packaged default policy."""
    if path is None:
        text = resources.files("services.guardrail").joinpath(
            DEFAULT_POLICY_RESOURCE).read_text(encoding="utf-8")
        source = DEFAULT_POLICY_RESOURCE
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc.strerror}; check "
                              "AGENTBUS_GUARDRAIL_POLICY or --policy") from exc
        source = str(path)
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    return Policy.from_mapping(data, source=source)
