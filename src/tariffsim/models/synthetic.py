"""Synthetic economies for tests, benchmarks and teaching.

:func:`synthetic_world` draws a random multi-country, multi-sector economy
(optionally with input-output links) and, with ``equilibrium=True``, re-solves
it so that it is an exact equilibrium of the Caliendo-Parro model with its
final-demand shares (a zero shock then returns all hats = 1).
"""

from __future__ import annotations

import numpy as np

from ..world import World


def synthetic_world(
    n_regions: int,
    n_sectors: int,
    *,
    io: bool = False,
    seed: int = 0,
    tariff_max: float = 0.2,
    theta_range: tuple[float, float] = (2.0, 10.0),
    home_bias: float = 5.0,
    balanced: bool = False,
    equilibrium: bool = True,
) -> World:
    """A random World with ``n_regions`` x ``n_sectors``.

    Sizes are log-normal; bilateral flows are ``size_i * size_n * exp(N(0,1))`` times
    ``home_bias`` on the diagonal; tariffs uniform on [0, tariff_max]; theta uniform
    on ``theta_range``; with ``io``, value-added shares uniform on [0.3, 0.7] and IO
    shares Dirichlet. ``balanced=True`` re-solves with zero deficits.
    """
    rng = np.random.default_rng(seed)
    n, s = n_regions, n_sectors
    size = np.exp(rng.normal(0.0, 1.0, n))
    flows = size[:, None, None] * size[None, :, None] * np.exp(rng.normal(0.0, 1.0, (n, n, s))) * 100.0
    flows[np.arange(n), np.arange(n), :] *= home_bias * n
    tariffs = rng.uniform(0.0, tariff_max, (n, n, s))
    tariffs[np.arange(n), np.arange(n), :] = 0.0
    theta = rng.uniform(*theta_range, s)
    alpha = rng.dirichlet(np.ones(s), n)
    names = tuple(f"C{k:02d}" for k in range(n))
    sectors = tuple(f"S{k:02d}" for k in range(s))
    kw = {}
    if io:
        va = rng.uniform(0.3, 0.7, (n, s))
        shares = rng.dirichlet(np.ones(s), (n, s))          # (n, output j, input k)
        kw["io_share"] = np.transpose(shares, (0, 2, 1)) * (1.0 - va)[:, None, :]
        kw["value_added_share"] = va
    w = World.from_arrays(regions=names, sectors=sectors, flows=flows, tariffs=tariffs, theta=theta,
                          final_demand_share=alpha, name=f"synthetic-{n}x{s}{'-io' if io else ''}-{seed}", **kw)
    if equilibrium or balanced:
        from .ge import rebase_world

        w = rebase_world(w, closure="balanced" if balanced else "fixed")
    return w
