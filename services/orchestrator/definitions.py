"""Saga types as data: one YAML file per saga type, parsed and validated into `SagaDefinition`.

The format is documented key by key in `sagas/README.md`. Every problem is a `SagaDefinitionError`
naming the file, the step and what to change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import yaml

from services.orchestrator.errors import SagaDefinitionError
from services.orchestrator.references import find_references, parse_path

NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Step names appear in task ids `<saga>:<step>:compensate:<n>`; this word would make them ambiguous.
RESERVED_STEP_NAMES: Final = frozenset({"compensate"})
MAX_TIMEOUT_S: Final = 86_400.0
MAX_ATTEMPTS: Final = 20
MAX_BACKOFF_S: Final = 86_400.0
MAX_MULTIPLIER: Final = 10.0

DEFAULT_TIMEOUT_S: Final = 60.0
SAGA_KEYS: Final = ("name", "description", "defaults", "steps")
DEFAULTS_KEYS: Final = ("timeout", "retry")
STEP_KEYS: Final = (
    "name", "description", "agent", "action", "compensation", "timeout", "retry", "input")
GROUP_KEYS: Final = ("parallel",)
COMPENSATION_KEYS: Final = ("action", "timeout", "retry", "input")
RETRY_KEYS: Final = ("attempts", "backoff")
BACKOFF_KEYS: Final = ("initial", "multiplier", "max")


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n+1 after failed attempt n: min(max, initial * multiplier**(n-1))."""

    initial: float = 1.0
    multiplier: float = 2.0
    max: float = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a step (or a compensation) gets and how long to wait between them."""

    attempts: int = 3
    backoff: Backoff = Backoff()

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based) before sending the next."""
        raw = self.backoff.initial * self.backoff.multiplier ** max(0, attempt - 1)
        return float(min(self.backoff.max, raw))


DEFAULT_RETRY: Final = RetryPolicy()


@dataclass(frozen=True)
class CompensationDefinition:
    """The action that undoes a step, with its own timeout, retries and optional input template."""

    action: str
    timeout: float
    retry: RetryPolicy
    # None: the agent gets {"step", "input", "output"} of the step it undoes.
    input: Any = None


@dataclass(frozen=True)
class StepDefinition:
    """One step: which agent does what, how long it may take, how to retry and undo it."""

    name: str
    agent: str
    action: str
    timeout: float
    retry: RetryPolicy
    stage: int
    # None: the step gets the saga input unchanged.
    input: Any = None
    compensation: CompensationDefinition | None = None
    description: str = ""


@dataclass(frozen=True)
class SagaDefinition:
    """A saga type: stages run in order; a stage of several steps runs them in parallel."""

    name: str
    stages: tuple[tuple[StepDefinition, ...], ...]
    source: str
    description: str = ""

    @cached_property
    def steps(self) -> tuple[StepDefinition, ...]:
        """Every step, in declaration order."""
        return tuple(step for stage in self.stages for step in stage)

    @cached_property
    def step_names(self) -> list[str]:
        """The steps' names, in declaration order."""
        return [step.name for step in self.steps]

    @cached_property
    def _by_name(self) -> dict[str, StepDefinition]:
        return {step.name: step for step in self.steps}

    def step(self, name: str) -> StepDefinition:
        """The step called `name`; KeyError if there is none."""
        return self._by_name[name]

    @property
    def agents(self) -> frozenset[str]:
        """The agents this saga sends tasks to."""
        return frozenset(step.agent for step in self.steps)


# ---------------------------------------------------------------- loading


def load_definitions(
    directory: str | Path, *, known_agents: Collection[str] | None = None,
) -> dict[str, SagaDefinition]:
    """Load every `*.yaml` / `*.yml` file of a directory, keyed by saga type."""
    root = Path(directory)
    if not root.is_dir():
        raise SagaDefinitionError(str(root), "not a directory of saga definitions")
    loaded: dict[str, SagaDefinition] = {}
    for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
        definition = load_definition_file(path, known_agents=known_agents)
        if definition.name in loaded:
            raise SagaDefinitionError(
                str(path), f"saga type {definition.name!r} is also defined in "
                f"{loaded[definition.name].source}; keep one file per saga type")
        loaded[definition.name] = definition
    return loaded


def load_definition_file(
    path: str | Path, *, known_agents: Collection[str] | None = None,
) -> SagaDefinition:
    """Load and validate one saga definition file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SagaDefinitionError(str(path), f"cannot read the file: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SagaDefinitionError(str(path), f"not valid YAML: {exc}") from exc
    definition = parse_definition(data, source=str(path), known_agents=known_agents)
    if definition.name != path.stem:
        raise SagaDefinitionError(
            str(path), f"name {definition.name!r} differs from the file name; "
            f"call the file {definition.name}.yaml or the saga {path.stem!r}")
    return definition


def parse_definition(
    data: Any, *, source: str = "<definition>", known_agents: Collection[str] | None = None,
) -> SagaDefinition:
    """Validate already-parsed YAML data and build the definition."""
    return _Parser(source, known_agents).saga(data)


class _Parser:
    def __init__(self, source: str, known_agents: Collection[str] | None) -> None:
        self.source = source
        self.known_agents = None if known_agents is None else frozenset(known_agents)

    def fail(self, problem: str, step: str | None = None) -> SagaDefinitionError:
        return SagaDefinitionError(self.source, problem, step=step)

    def mapping(self, value: Any, what: str, allowed: tuple[str, ...],
                step: str | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{what} must be a mapping, got {_kind(value)}", step)
        unknown = [str(key) for key in value if key not in allowed]
        if unknown:
            hints = "; ".join(_unknown_key_hint(key, allowed) for key in unknown)
            raise self.fail(
                f"unknown key{'s' if len(unknown) > 1 else ''} in {what}: {hints} "
                f"(allowed: {', '.join(allowed)})", step)
        return value

    def name(self, value: Any, what: str, step: str | None = None) -> str:
        if not isinstance(value, str) or not NAME.match(value):
            raise self.fail(
                f"{what} must be lower_snake_case (letters, digits, _; it appears in routing keys), "
                f"got {value!r}", step)
        return value

    # ------------------------------------------------------------ saga level

    def saga(self, data: Any) -> SagaDefinition:
        if data is None:
            raise self.fail("the file is empty; a saga needs at least `name` and `steps`")
        top = self.mapping(data, "the saga", SAGA_KEYS)
        if "name" not in top:
            raise self.fail("missing key `name` (the saga type, as in saga.start.<name>)")
        name = self.name(top["name"], "the saga name")
        description = self.text(top.get("description", ""), "description")
        defaults = self.mapping(top.get("defaults") or {}, "defaults", DEFAULTS_KEYS)
        default_timeout = self.timeout(defaults.get("timeout", DEFAULT_TIMEOUT_S), "defaults.timeout")
        default_retry = self.retry(defaults.get("retry"), DEFAULT_RETRY, "defaults.retry")
        raw_steps = top.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail("`steps` must be a non-empty list of steps (or `parallel:` groups)")
        stages: list[tuple[StepDefinition, ...]] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw_steps):
            if isinstance(item, Mapping) and "parallel" in item:
                group = self.mapping(item, f"the parallel group at steps[{index}]", GROUP_KEYS)
                members = group["parallel"]
                if not isinstance(members, list) or len(members) < 2:
                    raise self.fail(
                        f"the parallel group at steps[{index}] must list at least two steps "
                        "(a single step needs no group)")
                raw_members = members
            else:
                raw_members = [item]
            stage_index = len(stages)
            members_of_stage: list[StepDefinition] = []
            for member in raw_members:
                step = self.step(member, stage_index, default_timeout, default_retry)
                if step.name in seen:
                    raise self.fail("duplicate step name; every step needs its own name", step.name)
                seen[step.name] = stage_index
                members_of_stage.append(step)
            stages.append(tuple(members_of_stage))
        for stage in stages:
            for step in stage:
                self.check_references(step.input, step.name, "input", seen, allow_self=False)
                if step.compensation is not None:
                    self.check_references(
                        step.compensation.input, step.name, "compensation.input", seen,
                        allow_self=True)
        return SagaDefinition(
            name=name, stages=tuple(stages), source=self.source, description=description)

    # ------------------------------------------------------------ step level

    def step(self, data: Any, stage: int, default_timeout: float,
             default_retry: RetryPolicy) -> StepDefinition:
        label = data.get("name") if isinstance(data, Mapping) else None
        label = label if isinstance(label, str) else None
        step = self.mapping(data, "a step", STEP_KEYS, label)
        for key in ("name", "agent", "action"):
            if key not in step:
                raise self.fail(f"missing key `{key}`", label)
        name = self.name(step["name"], "the step name")
        if name in RESERVED_STEP_NAMES:
            raise self.fail(f"{name!r} is reserved (task ids use it); pick another name", name)
        agent = self.name(step["agent"], "`agent`", name)
        if self.known_agents is not None and agent not in self.known_agents:
            raise self.fail(f"unknown agent {agent!r}{_suggest(agent, self.known_agents)} "
                            f"(known agents: {', '.join(sorted(self.known_agents))})", name)
        action = self.name(step["action"], "`action`", name)
        timeout = self.timeout(step.get("timeout", default_timeout), "`timeout`", name)
        retry = self.retry(step.get("retry"), default_retry, "`retry`", name)
        if "compensation" not in step:
            raise self.fail(
                "missing key `compensation`: name the action that undoes this step, or write "
                "`compensation: null` if there is nothing to undo", name)
        compensation = self.compensation(step["compensation"], name, action, timeout, retry)
        return StepDefinition(
            name=name, agent=agent, action=action, timeout=timeout, retry=retry, stage=stage,
            input=self.template(step.get("input"), name, "input"), compensation=compensation,
            description=self.text(step.get("description", ""), "`description`", name))

    def compensation(self, value: Any, step: str, action: str, timeout: float,
                     retry: RetryPolicy) -> CompensationDefinition | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"action": value}
        if not isinstance(value, Mapping):
            raise self.fail(
                f"`compensation` must be an action name, a mapping with `action`, or null, "
                f"got {_kind(value)}", step)
        comp = self.mapping(value, "`compensation`", COMPENSATION_KEYS, step)
        if "action" not in comp:
            raise self.fail("`compensation` needs an `action` (the action that undoes the step)",
                            step)
        comp_action = self.name(comp["action"], "`compensation.action`", step)
        if comp_action == action:
            raise self.fail(
                f"compensation action {comp_action!r} is the step's own action; name the action "
                "that undoes it", step)
        return CompensationDefinition(
            action=comp_action,
            timeout=self.timeout(comp.get("timeout", timeout), "`compensation.timeout`", step),
            retry=self.retry(comp.get("retry"), retry, "`compensation.retry`", step),
            input=self.template(comp.get("input"), step, "compensation.input"),
        )

    # ------------------------------------------------------------ values

    def text(self, value: Any, what: str, step: str | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{what} must be text, got {_kind(value)}", step)
        return value

    def timeout(self, value: Any, what: str, step: str | None = None) -> float:
        number = self.number(value, what, step)
        if not 0 < number <= MAX_TIMEOUT_S:
            raise self.fail(
                f"{what} must be seconds, > 0 and <= {MAX_TIMEOUT_S:.0f}, got {value!r}", step)
        return number

    def number(self, value: Any, what: str, step: str | None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{what} must be a number of seconds, got {value!r}", step)
        return float(value)

    def retry(self, value: Any, base: RetryPolicy, what: str,
              step: str | None = None) -> RetryPolicy:
        if value is None:
            return base
        retry = self.mapping(value, what, RETRY_KEYS, step)
        attempts = retry.get("attempts", base.attempts)
        if isinstance(attempts, bool) or not isinstance(attempts, int) \
                or not 1 <= attempts <= MAX_ATTEMPTS:
            raise self.fail(
                f"{what}.attempts must be a whole number from 1 to {MAX_ATTEMPTS} "
                f"(1 means no retry), got {attempts!r}", step)
        raw_backoff = self.mapping(retry.get("backoff") or {}, f"{what}.backoff", BACKOFF_KEYS, step)
        initial = self.number(raw_backoff.get("initial", base.backoff.initial),
                              f"{what}.backoff.initial", step)
        multiplier = self.number(raw_backoff.get("multiplier", base.backoff.multiplier),
                                 f"{what}.backoff.multiplier", step)
        maximum = self.number(raw_backoff.get("max", max(base.backoff.max, initial)),
                              f"{what}.backoff.max", step)
        if not 0 <= initial <= MAX_BACKOFF_S:
            raise self.fail(f"{what}.backoff.initial must be from 0 to {MAX_BACKOFF_S:.0f} seconds,"
                            f" got {initial:g}", step)
        if not 1 <= multiplier <= MAX_MULTIPLIER:
            raise self.fail(f"{what}.backoff.multiplier must be from 1 to {MAX_MULTIPLIER:g}, "
                            f"got {multiplier:g}", step)
        if not initial <= maximum <= MAX_BACKOFF_S:
            raise self.fail(f"{what}.backoff.max must be >= initial ({initial:g}) and <= "
                            f"{MAX_BACKOFF_S:.0f} seconds, got {maximum:g}", step)
        return RetryPolicy(attempts, Backoff(initial, multiplier, maximum))

    def template(self, value: Any, step: str, what: str) -> Any:
        # Templates become protobuf Structs: JSON types only, text keys only.
        if value is None or isinstance(value, str | bool | int | float):
            return value
        if isinstance(value, list):
            return [self.template(item, step, what) for item in value]
        if isinstance(value, Mapping):
            for key in value:
                if not isinstance(key, str):
                    raise self.fail(f"`{what}` keys must be text, got {key!r}", step)
            return {key: self.template(item, step, what) for key, item in value.items()}
        raise self.fail(f"`{what}` holds a {_kind(value)}; only JSON values are allowed "
                        "(quote dates and times)", step)

    def check_references(self, template: Any, step: str, what: str, stages: Mapping[str, int],
                         *, allow_self: bool) -> None:
        own_stage = stages[step]
        for ref in find_references(template):
            try:
                parts = parse_path(ref.text[2:-1])
            except ValueError as exc:
                raise self.fail(f"`{what}`: {exc}", step) from exc
            root = parts[0]
            if root == "saga":
                if len(parts) < 2 or parts[1] not in ("id", "type", "input") \
                        or (parts[1] in ("id", "type") and len(parts) > 2):
                    raise self.fail(
                        f"`{what}`: {ref.text} must be ${{saga.id}}, ${{saga.type}} or "
                        "${saga.input...}", step)
                continue
            if root != "steps":
                raise self.fail(
                    f"`{what}`: {ref.text} must start with `saga.` or `steps.`", step)
            if len(parts) < 3 or parts[2] not in ("input", "output"):
                raise self.fail(
                    f"`{what}`: {ref.text} must read ${{steps.<step>.output...}} or "
                    "${steps.<step>.input...}", step)
            target = parts[1]
            if target not in stages:
                raise self.fail(
                    f"`{what}`: {ref.text} refers to unknown step {target!r}"
                    f"{_suggest(target, stages)}", step)
            if target == step and allow_self:
                continue
            if target == step:
                raise self.fail(f"`{what}`: {ref.text} refers to the step itself", step)
            if stages[target] == own_stage:
                raise self.fail(
                    f"`{what}`: {ref.text} refers to {target!r}, which runs in the same parallel "
                    "group; a step can only use steps that finished before it starts", step)
            if stages[target] > own_stage:
                raise self.fail(
                    f"`{what}`: {ref.text} refers to {target!r}, which runs later; a step can "
                    "only use steps that finished before it starts", step)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_key_hint(key: str, allowed: tuple[str, ...]) -> str:
    return f"{key!r}{_suggest(key, allowed)}"
