"""The model interface that every GE model family implements.

The strategy layer (optimal tariffs, Nash wars, cooperative talks, bargaining)
drives a :class:`BoundModel` and never knows which family it is: a model bound
to a world exposes one pure, jit-able, differentiable function

    evaluate(tariffs, state) -> (welfare_hat, government_welfare_hat, new_state)

where ``tariffs`` is the full (exporter, importer, sector) array of *new*
tariff rates (fractions), ``welfare_hat`` and ``government_welfare_hat`` are
(N,) arrays of changes relative to the bound world's baseline, and ``state`` is
an opaque warm-start pytree (no gradient flows through it; the solution does not
depend on it). ``jax.grad`` of any scalar function of the outputs with respect
to ``tariffs`` must work (implicit differentiation through the equilibrium).

Users pick a family by name (``model="caliendo_parro"`` default, ``"ossa2014"``,
``"ilms2025"``). The built-in families are one table, :data:`FAMILIES` (name ->
``"module:binder"``), resolved on first use, so this module imports no model
(no import loop); :func:`register_model` adds a user's own family at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import importlib
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ScenarioError
from ..world import World

EvaluateFn = Callable[[Any, Any], tuple[Any, Any, Any]]


@dataclass(frozen=True, eq=False)
class BoundModel:
    """A model family bound to a world, closure and welfare weights.

    Attributes
    ----------
    name : model family name ("caliendo_parro", "ossa2014").
    world : the baseline World (its tariffs are the factual tariffs).
    evaluate : pure function ``(tariffs, state) -> (welfare_hat, gov_welfare_hat, state)``.
    init_state : warm-start state at the baseline.
    solve : ``tariffs -> result object`` with the full equilibrium (for reports).
    options : closure, weights and other settings, for the record.
    """

    name: str
    world: World
    evaluate: EvaluateFn
    init_state: Any
    solve: Callable[[np.ndarray], Any]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> tuple[str, ...]:
        return self.world.regions

    @property
    def sectors(self) -> tuple[str, ...]:
        return self.world.sectors

    @property
    def base_tariffs(self) -> np.ndarray:
        return np.asarray(self.world.tariffs)


#: The built-in model families: name -> "module:binder", imported when first bound.
FAMILIES: dict[str, str] = {
    "caliendo_parro": "tariffsim.models.ge:_bind_cp",
    "ossa2014": "tariffsim.models.ossa:bind",
    "ilms2025": "tariffsim.models.ilms:bind",
}

_REGISTRY: dict[str, Callable[..., BoundModel]] = {}


def register_model(name: str, binder: Callable[..., BoundModel]) -> None:
    """Register a user's family: ``binder(world, *, closure, weights, **options) -> BoundModel`` under ``name``."""
    _REGISTRY[name] = binder


def model_names() -> tuple[str, ...]:
    """Names of every bindable family (built-in and registered)."""
    return tuple(sorted(set(FAMILIES) | set(_REGISTRY)))


def _binder(model: str) -> Callable[..., BoundModel]:
    if model in _REGISTRY:
        return _REGISTRY[model]
    if model not in FAMILIES:
        raise ScenarioError(f"unknown model {model!r}; known: {', '.join(model_names())}")
    module, _, attr = FAMILIES[model].partition(":")
    return getattr(importlib.import_module(module), attr)


def bind_model(world: World, model: str = "caliendo_parro", *, closure: str = "balanced", weights: str = "none", **options) -> BoundModel:
    """Bind a model family (a name in :data:`FAMILIES` or registered) to a world.

    ``options`` are the family's own keyword options (e.g. ``revenue="lump_sum"`` for "ilms2025").
    """
    binder = _binder(model)
    if weights not in ("none", "political_economy"):
        raise ScenarioError(f"weights must be 'none' or 'political_economy', got {weights!r}")
    return binder(world, closure=closure, weights=weights, **options)
