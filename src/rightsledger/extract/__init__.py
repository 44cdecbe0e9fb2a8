"""Incident extraction: a pipeline of small registered components over a Document's clean text.

Each component is a factory registered under a versioned name ("triggers.v1") with the layers it
`requires` and `assigns` and its default settings; the factory returns an object with a pure
`find(doc)` and an `annotate(doc, found)` that is the only place it writes (`doc.layers[...]`).
The packaged order and settings live in pipeline.toml; a user file may override a setting or
swap a component. The pipeline is checked before it runs: every required layer must be assigned
by an earlier component, every setting must be one the factory takes.

DOCS: `rightsledger extract --show-pipeline` prints `Pipeline.describe()`.
"""

from __future__ import annotations

import copy
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from rightsledger.errors import ConfigError, RightsLedgerError
from rightsledger.model import Document
from rightsledger.resources import load_toml

__all__ = [
    "Component",
    "ComponentInfo",
    "Pipeline",
    "register_component",
    "registered_components",
    "load_pipeline",
    "default_pipeline",
    "extract",
    "raise_error",
    "log_and_skip",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_NAME = re.compile(r"[a-z][a-z0-9_]*\.v[0-9]+")


class Component(Protocol):
    """What a factory returns: `find` computes (pure), `annotate` writes the document."""

    def find(self, doc: Document) -> Any: ...

    def annotate(self, doc: Document, found: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class ComponentInfo:
    name: str  # versioned: "dates.v1" keeps meaning dates.v1; changed behaviour is dates.v2
    factory: Callable[..., Component]
    requires: tuple[str, ...]
    assigns: tuple[str, ...]
    default_config: Mapping[str, Any]
    help: str


_REGISTRY: dict[str, ComponentInfo] = {}
_entry_points_loaded = False


def register_component(name: str, *, requires: Iterable[str] = (), assigns: Iterable[str] = (),
                       default_config: Mapping[str, Any] | None = None, help: str = ""):
    """Register a component factory `factory(**settings) -> Component` under a versioned name.

    Mistakes (a duplicate name, a name without a version, a setting the factory does not take)
    fail here, at import, not half-way through a batch.
    """
    config = dict(default_config or {})

    def decorate(factory: Callable[..., Component]) -> Callable[..., Component]:
        if not _NAME.fullmatch(name):
            raise ConfigError(f"component name {name!r} is not versioned", hint='name it like "dates.v1"')
        if name in _REGISTRY:
            raise ConfigError(f"component {name!r} is registered twice", hint="register a new version, e.g. .v2")
        params = inspect.signature(factory).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        missing = [k for k in config if k not in params and not takes_any]
        if missing:
            raise ConfigError(f"component {name!r}: the factory takes no setting {', '.join(missing)}",
                              hint="add the keyword parameter or drop the setting")
        _REGISTRY[name] = ComponentInfo(name, factory, tuple(requires), tuple(assigns), config,
                                        help or (inspect.getdoc(factory) or "").split("\n")[0])
        return factory

    return decorate


def registered_components() -> dict[str, ComponentInfo]:
    """Every registered component, built-in and from installed plugins (entry point group
    `rightsledger.components`, each naming a module that registers its factories on import)."""
    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group="rightsledger.components"):
            try:
                ep.load()
            except Exception as exc:  # a broken plugin must not stop the built-in pipeline
                log.warning("component plugin %s failed to load: %s", ep.name, exc)
    return dict(_REGISTRY)


# -- error handling -----------------------------------------------------------------------------

ErrorHandler = Callable[[str, Document, Exception], None]


def raise_error(name: str, doc: Document, exc: Exception) -> None:
    """Interactive use: a failing component stops the run."""
    raise exc


def log_and_skip(name: str, doc: Document, exc: Exception) -> None:
    """Batch use: log, record the failure on the document, go on without that component's layer."""
    log.warning("component %s failed on document %s: %s: %s", name, doc.id, type(exc).__name__, exc)
    doc.layers.setdefault("errors", []).append({"component": name, "error": f"{type(exc).__name__}: {exc}"})


# -- the pipeline -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    info: ComponentInfo
    settings: Mapping[str, Any]
    component: Component


class Pipeline:
    """Ordered named components; calling it annotates a Document in place and returns it."""

    def __init__(self, steps: list[_Step], error_handler: ErrorHandler = raise_error) -> None:
        self._steps = steps
        self.error_handler = error_handler

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Pipeline:
        """Build from a parsed pipeline.toml; checks settings and requires/assigns first."""
        registry = registered_components()
        order = (config.get("pipeline") or {}).get("components")
        if not isinstance(order, list) or not order:
            raise ConfigError("the pipeline lists no components", hint='add [pipeline] components = ["sentences", …]')
        tables = config.get("components") or {}
        steps: list[_Step] = []
        assigned: set[str] = set()
        for name in order:
            table = dict(tables.get(name) or {})
            factory_name = table.pop("factory", None) or f"{name}.v1"
            info = registry.get(factory_name)
            if info is None:
                raise ConfigError(f"component {name!r}: no registered factory {factory_name!r}",
                                  hint=f"use one of {', '.join(sorted(registry))}")
            unknown = [k for k in table if k not in info.default_config]
            if unknown:
                raise ConfigError(f"component {name!r} ({factory_name}) has no setting {', '.join(unknown)}",
                                  hint=f"its settings are: {', '.join(info.default_config) or 'none'}")
            missing = [r for r in info.requires if r not in assigned]
            if missing:
                raise ConfigError(f"component {name!r} ({factory_name}) needs {', '.join(missing)} "
                                  "from an earlier component", hint="put the component that assigns it first")
            settings = {**info.default_config, **table}
            steps.append(_Step(name, info, settings, info.factory(**settings)))
            assigned.update(info.assigns)
        return cls(steps)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self._steps]

    @property
    def steps(self) -> list[_Step]:
        """The steps in order (name, factory info, settings, component): to time them one by one."""
        return list(self._steps)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "factory": s.info.name, "requires": list(s.info.requires),
             "assigns": list(s.info.assigns), "settings": dict(s.settings), "help": s.info.help}
            for s in self._steps
        ]

    def set_error_handler(self, handler: ErrorHandler) -> None:
        self.error_handler = handler

    def __call__(self, doc: Document) -> Document:
        for step in self._steps:
            try:
                found = step.component.find(doc)
                step.component.annotate(doc, found)
            except Exception as exc:
                self.error_handler(step.name, doc, exc)
        return doc

    def pipe(self, docs: Iterable[Document], *, batch: bool = True) -> Iterator[Document]:
        """Annotate many documents; in batch mode a failing component is logged and skipped."""
        handler = log_and_skip if batch else self.error_handler
        saved, self.error_handler = self.error_handler, handler
        try:
            for doc in docs:
                yield self(doc)
        finally:
            self.error_handler = saved


def _packaged_config() -> dict[str, Any]:
    return load_toml(resources.files(__name__).joinpath("pipeline.toml"))


def merge_config(base: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """A user pipeline file over the packaged one: order replaced, settings merged per component."""
    out = copy.deepcopy(dict(base))
    if (user.get("pipeline") or {}).get("components"):
        out["pipeline"] = {**out.get("pipeline", {}), "components": list(user["pipeline"]["components"])}
    comps = out.setdefault("components", {})
    for name, table in (user.get("components") or {}).items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"[components.{name}] must be a table")
        merged = dict(comps.get(name) or {})
        if "factory" in table and table["factory"] != merged.get("factory"):
            merged = {}  # another implementation: the old settings do not apply to it
        merged.update(table)
        comps[name] = merged
    return out


def load_pipeline(user_file: Path | str | None = None) -> Pipeline:
    """The packaged pipeline, with a user file's order, settings or swapped components on top."""
    config = _packaged_config()
    if user_file is not None:
        config = merge_config(config, load_toml(Path(user_file)))
    return Pipeline.from_config(config)


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    """The packaged pipeline, built once per process (loading lexicons and the gazetteer)."""
    return load_pipeline()


def extract(doc: Document) -> Document:
    """Run the default pipeline over `doc` (in place) and return it."""
    return default_pipeline()(doc)


# -- built-in components: thin wrappers over the pure find functions ----------------------------

class _Layer:
    """A component that writes what `find` returned to one layer."""

    layer = ""

    def annotate(self, doc: Document, found: Any) -> None:
        if not isinstance(found, list):
            raise RightsLedgerError(f"{type(self).__name__}.find returned {type(found).__name__}, not a list")
        doc.layers[self.layer] = found


@register_component("sentences.v1", assigns=["sentences"])
class SentencesComponent(_Layer):
    """Sentence and paragraph spans."""

    layer = "sentences"

    def find(self, doc: Document) -> list[Any]:
        from rightsledger.extract.sentences import find_sentences

        return find_sentences(doc.text)


@register_component("attribution.v1", assigns=["quotes", "informants", "citations"],
                    default_config={"exclude_own_outlet": True})
class AttributionComponent:
    """Quotations, informants credited with them, and other outlets the report relays."""

    def __init__(self, exclude_own_outlet: bool = True) -> None:
        self.exclude_own_outlet = exclude_own_outlet

    def find(self, doc: Document) -> dict[str, list[Any]]:
        from rightsledger.extract import attribution
        from rightsledger.outlets import load_outlets

        own = doc.outlet if self.exclude_own_outlet else None
        return {
            "quotes": attribution.find_quotes(doc.text),
            "informants": attribution.find_informants(doc.text),
            "citations": attribution.find_citations(doc.text, load_outlets(), own),
        }

    def annotate(self, doc: Document, found: dict[str, list[Any]]) -> None:
        doc.layers.update(found)
        doc.cites = list(found["citations"])


@register_component("triggers.v1", requires=["sentences"], assigns=["triggers"], default_config={"taxonomy": ""})
class TriggersComponent(_Layer):
    """Violation-type triggers with negation, hedging and genericity."""

    layer = "triggers"

    def __init__(self, taxonomy: str = "") -> None:
        from rightsledger.extract.triggers import TriggerFinder, default_finder, load_taxonomy

        self.finder = TriggerFinder(load_taxonomy(Path(taxonomy))) if taxonomy else default_finder()

    def find(self, doc: Document) -> list[Any]:
        return self.finder.find(doc.text, doc.layers["sentences"])


@register_component("dates.v1", assigns=["dates"])
class DatesComponent(_Layer):
    """Date expressions resolved against the publication date."""

    layer = "dates"

    def find(self, doc: Document) -> list[Any]:
        from rightsledger.extract.dates import find_dates

        return find_dates(doc.text, doc.published)


@register_component("quantities.v1", assigns=["victims"])
class QuantitiesComponent(_Layer):
    """Victim counts and units."""

    layer = "victims"

    def find(self, doc: Document) -> list[Any]:
        from rightsledger.extract.quantities import find_victims

        return find_victims(doc.text)


@register_component("actors.v1", assigns=["perpetrators", "compositions"])
class ActorsComponent:
    """Perpetrator mentions by kind, and the members of the joint bodies among them."""

    def find(self, doc: Document) -> dict[str, list[Any]]:
        from rightsledger.extract.actors import find_compositions, find_perpetrators

        perpetrators = find_perpetrators(doc.text)
        return {"perpetrators": perpetrators, "compositions": find_compositions(doc.text, perpetrators)}

    def annotate(self, doc: Document, found: dict[str, list[Any]]) -> None:
        doc.layers.update(found)


@register_component("places.v1", assigns=["toponyms"])
class PlacesComponent(_Layer):
    """Toponyms resolved against the gazetteer."""

    layer = "toponyms"

    def __init__(self) -> None:
        self._gazetteer: Any = None

    def find(self, doc: Document) -> list[Any]:
        from rightsledger.extract.places import find_toponyms

        if self._gazetteer is None:
            from rightsledger.gazetteer import load_gazetteer

            self._gazetteer = load_gazetteer()
        return find_toponyms(doc.text, self._gazetteer)


@register_component("incidents.v1", requires=["sentences", "triggers"], assigns=["incidents"])
class IncidentsComponent:
    """Facts grouped into incidents (asserted, hedged or negated)."""

    def find(self, doc: Document) -> list[Any]:
        from rightsledger.extract.incidents import Facts, assemble

        layers = doc.layers
        facts = Facts(
            dates=layers.get("dates", []), victims=layers.get("victims", []),
            perpetrators=layers.get("perpetrators", []), compositions=layers.get("compositions", []),
            informants=layers.get("informants", []),
            toponyms=layers.get("toponyms", []), citations=layers.get("citations", []), own_outlet=doc.outlet,
        )
        return assemble(doc.id, doc.text, layers["sentences"], layers["triggers"], facts, doc.published)

    def annotate(self, doc: Document, found: list[Any]) -> None:
        doc.incidents = found
