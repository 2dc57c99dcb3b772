"""``ts.solve`` for every model family: Caliendo-Parro directly, any other family through its bound model.

``solve(world, tariffs=..., model="caliendo_parro", ...)`` is exactly
:func:`tariffsim.models.ge.solve` (same keywords, same defaults, same result) when
``model`` is ``"caliendo_parro"``, the default. For any other family (a name in
:data:`tariffsim.models.base.FAMILIES` or registered with
:func:`~tariffsim.models.base.register_model`) it is::

    bind_model(world, model, closure=closure, **options).solve(tariffs)

so the counterfactual is the family's own equilibrium relative to the world as the
family binds it (for ``"ilms2025"``: the authors' data construction, docs/ilms2025.md).
``closure`` defaults to ``"fixed"`` for every family (the default of ``ts.solve``;
note that :func:`~tariffsim.models.base.bind_model` itself defaults to ``"balanced"``).
The keywords of the Caliendo-Parro solver that no bound model takes
(``initial_wage_hat``, ``throw``, ``max_iter``) are refused for other families;
``deficits``, ``theta`` and every other keyword are passed to the family's binder as its
own options (for ``"ilms2025"``: ``theta`` is its Fréchet shape, the trade elasticity is
``eps``). An unknown family or an option the family does not take is a one-line
:class:`~tariffsim.errors.ScenarioError` naming the valid choices.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping

import numpy as np

from ..errors import ScenarioError
from ..world import World
from . import ge
from .base import _binder, bind_model, model_names

CP = "caliendo_parro"
#: Keywords of :func:`tariffsim.models.ge.solve` that no bound model's ``solve`` takes.
CP_SOLVER_ONLY = ("initial_wage_hat", "throw", "max_iter")


def family_options(model: str) -> tuple[str, ...] | None:
    """Keyword options the family's binder takes (``None``: it takes any keyword).

    ``world`` and ``weights`` are left out (``weights`` is a strategy setting, irrelevant to a solve).
    """
    params = inspect.signature(_binder(model)).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.name not in ("world", "weights")
                 and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD))


def check_options(model: str, options: Mapping[str, Any], *, where: str = "ts.solve") -> None:
    """One-line :class:`ScenarioError` if ``options`` holds a keyword the family ``model`` does not take."""
    allowed = family_options(model)
    if allowed is None:
        return
    bad = sorted(set(options) - set(allowed))
    if bad:
        raise ScenarioError(f"{where}: model {model!r} takes no option {bad[0]!r}; its options: {', '.join(allowed)}")


def solve(
    world: World,
    *,
    tariffs: np.ndarray | None = None,
    closure: str = "fixed",
    deficits: np.ndarray | Mapping[str, float] | None = None,
    theta: np.ndarray | None = None,
    initial_wage_hat: np.ndarray | None = None,
    throw: bool = True,
    max_iter: int = ge.MAX_NEWTON,
    model: str = CP,
    **model_options: Any,
) -> Any:
    """Solve a counterfactual of ``world`` at new ``tariffs`` in model family ``model``.

    Parameters
    ----------
    world : the baseline economy.
    tariffs : (N, N, S) new tariffs (fractions), exporter x importer x sector (default: the world's own).
    closure : deficit closure, ``"fixed"`` (default, every family) or ``"balanced"``.
    deficits, theta, initial_wage_hat, throw, max_iter : as :func:`tariffsim.models.ge.solve` for
        ``"caliendo_parro"``. For another family ``deficits`` and ``theta`` (when given) are its binder's
        options of those names; the last three are Caliendo-Parro only.
    model : family name, ``"caliendo_parro"`` (default), ``"ilms2025"``, ``"ossa2014"`` or a registered one.
    **model_options : the family's own options (``tariffsim.bind_model(world, model, **options)``),
        e.g. ``revenue="lump_sum"``, ``eps=8`` for ``"ilms2025"``. None for ``"caliendo_parro"``.

    Returns
    -------
    The family's result: :class:`tariffsim.models.ge.Equilibrium` for Caliendo-Parro,
    :class:`tariffsim.models.ilms.ILMSEquilibrium` for ILMS (2025), ...

    Examples
    --------
    >>> import tariffsim as ts
    >>> w = ts.load_world("world_io_7x44_2017")
    >>> bool(abs(ts.solve(w, model="caliendo_parro").welfare_hat - 1).max() < 1e-10)
    True
    """
    if model == CP:
        if model_options:
            k = sorted(model_options)[0]
            raise ScenarioError(f"ts.solve: model 'caliendo_parro' takes no option {k!r}; its options: closure, "
                                f"deficits, theta, initial_wage_hat, throw, max_iter (or pick model= one of "
                                f"{', '.join(model_names())})")
        return ge.solve(world, tariffs=tariffs, closure=closure, deficits=deficits, theta=theta,
                        initial_wage_hat=initial_wage_hat, throw=throw, max_iter=max_iter)
    _binder(model)                                    # unknown family: one-line error naming the known ones
    given = {"initial_wage_hat": initial_wage_hat is not None, "throw": throw is not True,
             "max_iter": max_iter != ge.MAX_NEWTON}
    for k in CP_SOLVER_ONLY:
        if given[k]:
            raise ScenarioError(f"ts.solve: {k} is an option of the caliendo_parro solver only, not of model {model!r}")
    options = dict(model_options)
    if deficits is not None:
        options["deficits"] = deficits
    if theta is not None:
        options["theta"] = theta
    check_options(model, {"closure": closure, **options})
    m = bind_model(world, model, closure=closure, **options)
    return m.solve(m.base_tariffs if tariffs is None else tariffs)


__all__ = ["solve", "family_options", "check_options", "CP_SOLVER_ONLY"]
