"""Worlds as the models use them: a dataset from the catalog, its baseline an exact equilibrium.

:func:`tariffsim.data.load_world` returns a dataset as shipped. Some datasets
ship final-demand shares that do not match their flows exactly
(:func:`tariffsim.data.worlds.rebases_by_default`); a zero shock on such a world
would not return all hats = 1. :func:`load_world` composes the two steps at the
data/model boundary: load, then re-solve the baseline at the data's own tariffs
and deficits (:func:`tariffsim.models.ge.rebase_world`), as Caliendo and Parro
do for 1993. This is the ``tariffsim.load_world`` of the public API.
"""

from __future__ import annotations

from ..data.worlds import load_world as load_world_as_shipped
from ..data.worlds import rebases_by_default
from ..world import World
from .ge import rebase_world


def load_world(name: str, *, rebase: bool | None = None) -> World:
    """Load a bundled (or updated) world dataset by name, or a folder of the user's tidy files.

    ``rebase`` (default: on for datasets whose shipped final-demand shares do not
    match their flows, off for the user's folders) re-solves the baseline
    equilibrium at the data's own tariffs and deficits, so that a zero shock
    gives all hats = 1 exactly.
    """
    world = load_world_as_shipped(name)
    if rebases_by_default(name) if rebase is None else rebase:
        world = rebase_world(world)
    return world


#: the world the US-Japan tables use when none is given
DEFAULT_WORLD = "world_io_7x44_2017"


def fairness_table(world: World | None = None, **kw):
    """:func:`tariffsim.policy.japan.fairness_table` on ``world`` (default: ``load_world(DEFAULT_WORLD)``, rebased).

    The policy layer takes the world as an argument; the default world is filled here, at the
    data/model boundary, because loading it re-solves its baseline.
    """
    from ..policy.japan import fairness_table as _fairness_table

    return _fairness_table(load_world(DEFAULT_WORLD) if world is None else world, **kw)
