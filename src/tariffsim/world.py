"""The World: a frozen, validated, labelled multi-country multi-sector economy.

Conventions (docs/design.md §3): axes ``(exporter, importer, sector)``; ``flows[i, j, s]``
is the value (USD millions) of goods from exporter ``i`` bought by importer ``j``
in sector ``s``, valued *before* ``j``'s tariff (``i == j``: domestic sales);
``tariffs[i, j, s]`` is the ad valorem tariff importer ``j`` levies on ``i``
(a fraction); ``theta[s] > 0`` the trade elasticity; ``value_added_share[j, s]``
in (0, 1]; ``io_share[j, k, s]`` the share of sector ``s`` costs in country
``j`` spent on inputs from sector ``k``, so that
``value_added_share + io_share.sum(axis=1) == 1``.

Accounting identities (Caliendo & Parro 2015, section 3):

    expenditure[n, s]   = sum_i flows[i, n, s] * (1 + tariffs[i, n, s])
    gross_output[i, s]  = sum_n flows[i, n, s]
    value_added[i]      = sum_s value_added_share[i, s] * gross_output[i, s]
    tariff_revenue[n]   = sum_{i, s} tariffs[i, n, s] * flows[i, n, s]
    deficit[n]          = sum_{i, s} flows[i, n, s] - sum_{m, s} flows[n, m, s]
    income[n]           = value_added[n] + tariff_revenue[n] + deficit[n]
    final_demand_share[n, s] = (expenditure[n, s]
                               - sum_k io_share[n, s, k] * gross_output[n, k]) / income[n]

References
----------
Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of
NAFTA", Review of Economic Studies 82(1), 1-44, equations (1)-(10).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

import numpy as np

from .errors import DataError, FinalDemandClippedWarning, show_code

SHARE_TOL = 1e-6
IO_NEG_TOL = 1e-3
#: Largest flow accepted, USD millions (1e15 USD mn = 1e21 USD, ten million times world GDP). Larger
#: values are unit mistakes and, beside ordinary flows, lose the income identity to cancellation.
MAX_FLOW = 1e15


def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def _check_codes(kind: str, codes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
        raise DataError(f"{kind}: expected a list of codes, got {type(codes).__name__}")
    raw = list(codes)
    for k, c in enumerate(raw):
        if c is None or (isinstance(c, float) and c != c):
            raise DataError(f"{kind}: missing code at position {k + 1}")
    codes = tuple(str(c) for c in raw)
    if len(codes) == 0:
        raise DataError(f"{kind}: empty list of codes")
    seen: set[str] = set()
    for c in codes:
        if c in seen:
            raise DataError(f"{kind}: duplicate code {c!r}")
        if not c.strip():
            raise DataError(f"{kind}: blank code")
        seen.add(c)
    return codes


def _check_finite(name: str, arr: np.ndarray, labels: Sequence[Sequence[str]]) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(x[0]) for x in np.nonzero(bad))
        raise DataError(f"{name}: non-finite value {arr[idx]!r} at {_label(idx, labels)}")


def _label(idx: tuple[int, ...], labels: Sequence[Sequence[str]]) -> str:
    return "(" + ", ".join(show_code(labels[d][k]) for d, k in enumerate(idx)) + ")"


def derive_final_demand_share(
    flows: np.ndarray,
    tariffs: np.ndarray,
    value_added_share: np.ndarray,
    io_share: np.ndarray,
    *,
    clip: bool = True,
) -> tuple[np.ndarray, int]:
    """Final-demand shares implied by the data, clipped at 0 and renormalised.

    ``alpha[n, s] = (X[n, s] - sum_k io[n, s, k] Y[n, k]) / I[n]`` (CP 2015, eq. 7
    at the data). Returns ``(alpha, n_clipped)``. Clipping negative cells (which
    come from inventory changes in IO tables) and renormalising follows the
    original Caliendo-Parro script.m.
    """
    expenditure = np.einsum("ins,ins->ns", flows, 1.0 + tariffs)
    gross_output = flows.sum(axis=1)
    intermediate = np.einsum("nsk,nk->ns", io_share, gross_output)
    final = expenditure - intermediate
    n_clipped = int((final < 0).sum())
    if clip:
        final = np.clip(final, 0.0, None)
    tot = final.sum(axis=1, keepdims=True)
    tot = np.where(tot > 0, tot, 1.0)
    return final / tot, n_clipped


@dataclass(frozen=True, eq=False)
class World:
    """A frozen economy: labelled arrays plus validation. Build with :meth:`from_arrays`."""

    name: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    flows: np.ndarray
    tariffs: np.ndarray
    theta: np.ndarray
    value_added_share: np.ndarray
    io_share: np.ndarray
    final_demand_share: np.ndarray
    has_io: bool = False
    sector_names: tuple[str, ...] | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(
        cls,
        *,
        regions: Sequence[str] | None = None,
        sectors: Sequence[str] | None = None,
        flows: np.ndarray,
        tariffs: np.ndarray | None = None,
        theta: np.ndarray | float = 4.0,
        value_added_share: np.ndarray | None = None,
        io_share: np.ndarray | None = None,
        final_demand_share: np.ndarray | None = None,
        name: str = "custom",
        sector_names: Sequence[str] | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> "World":
        """Validate and freeze arrays into a World.

        ``regions`` and ``sectors`` are the codes along the axes of ``flows``
        (exporter, importer, sector). Left out, they default to ``R0, R1, ...`` and
        ``S0, S1, ...`` by position: convenient for arrays built in NumPy, but a
        labelled world (ISO3 codes, sector codes) is what tables, reports and
        ``tariffs_with(importer="USA")`` read best.

        >>> import numpy as np
        >>> World.from_arrays(flows=np.ones((2, 2, 1))).regions
        ('R0', 'R1')

        Raises :class:`DataError` naming the offending entry on: wrong shapes,
        non-finite values, negative flows, tariffs <= -1, non-zero own tariffs,
        theta <= 0, value-added shares outside (0, 1], IO + value-added shares
        not summing to one (1e-6), a country with no absorption or no output,
        duplicate or blank codes.
        """
        if regions is None or sectors is None:
            shape = _shape("flows", flows)
            if len(shape) != 3:
                raise DataError(f"flows: expected a 3-D array (exporter, importer, sector), got shape {shape}")
            regions = tuple(f"R{k}" for k in range(shape[0])) if regions is None else regions
            sectors = tuple(f"S{k}" for k in range(shape[2])) if sectors is None else sectors
        regions = _check_codes("regions", regions)
        sectors = _check_codes("sectors", sectors)
        n, s = len(regions), len(sectors)
        lab3 = (regions, regions, sectors)
        lab2 = (regions, sectors)

        flows = _as_array("flows", flows, (n, n, s))
        _check_finite("flows", flows, lab3)
        if (flows < 0).any():
            idx = tuple(int(x[0]) for x in np.nonzero(flows < 0))
            raise DataError(f"flows: negative flow {flows[idx]:.6g} at (exporter, importer, sector) {_label(idx, lab3)}")
        if (flows > MAX_FLOW).any():
            idx = tuple(int(x[0]) for x in np.nonzero(flows > MAX_FLOW))
            raise DataError(f"flows: value {flows[idx]:.6g} at (exporter, importer, sector) {_label(idx, lab3)} "
                            f"exceeds {MAX_FLOW:g} USD mn (flows are in USD millions)")

        if tariffs is None:
            tariffs = np.zeros((n, n, s))
        tariffs = _as_array("tariffs", tariffs, (n, n, s))
        _check_tariffs("tariffs", tariffs, lab3)
        with np.errstate(over="ignore", invalid="ignore"):
            spend = flows * (1.0 + tariffs)
            overflow = not np.isfinite(spend.sum())
        if overflow:
            idx = np.unravel_index(int(np.argmax(np.where(np.isfinite(spend), spend, np.inf))), spend.shape)
            raise DataError(f"tariffs: tariff {tariffs[idx]:.6g} at (exporter, importer, sector) {_label(tuple(int(i) for i in idx), lab3)} "
                            "makes spending overflow")

        theta_arr = _theta_array(theta, s)
        _check_finite("theta", theta_arr, (sectors,))
        if (theta_arr <= 0).any():
            k = int(np.nonzero(theta_arr <= 0)[0][0])
            raise DataError(f"theta: trade elasticity must be > 0, got {theta_arr[k]} for sector {show_code(sectors[k])}")

        has_io = io_share is not None
        if value_added_share is None:
            value_added_share = np.ones((n, s)) if io_share is None else 1.0 - _as_array("io_share", io_share, (n, s, s)).sum(axis=1)
        va = _as_array("value_added_share", value_added_share, (n, s))
        _check_finite("value_added_share", va, lab2)
        if ((va <= 0) | (va > 1 + SHARE_TOL)).any():
            idx = tuple(int(x[0]) for x in np.nonzero((va <= 0) | (va > 1 + SHARE_TOL)))
            raise DataError(f"value_added_share: must lie in (0, 1], got {va[idx]:.6g} at (country, sector) {_label(idx, lab2)}")
        if io_share is None:
            io = np.zeros((n, s, s))
            if np.abs(va - 1).max() > SHARE_TOL:
                # value-added share < 1 without IO: the remaining costs are lost.
                idx = tuple(int(x[0]) for x in np.nonzero(np.abs(va - 1) > SHARE_TOL))
                raise DataError(f"value_added_share: is {va[idx]:.6g} < 1 at {_label(idx, lab2)} but no io_share was given (shares must sum to 1)")
        else:
            io = _as_array("io_share", io_share, (n, s, s))
            _check_finite("io_share", io, (regions, sectors, sectors))
            # Tiny negative cells occur in source IO tables (CP 1993: CAN 20->11, -0.00057); tolerate > -1e-3.
            if (io < -IO_NEG_TOL).any():
                idx = tuple(int(x[0]) for x in np.nonzero(io < -IO_NEG_TOL))
                raise DataError(f"io_share: negative share {io[idx]:.6g} at (country, input, output) {_label(idx, (regions, sectors, sectors))}")
            total = va + io.sum(axis=1)
            dev = np.abs(total - 1.0)
            if dev.max() > SHARE_TOL:
                idx = np.unravel_index(int(dev.argmax()), dev.shape)
                raise DataError(
                    f"io_share + value_added_share: sum to {total[idx]:.8f}, not 1, at (country, output sector) {_label(tuple(int(i) for i in idx), lab2)}"
                )
            # Make the identity exact (sources hold it to ~1e-7): rescale IO shares so that
            # va + sum_k io == 1 to machine precision; otherwise Walras' law fails at that level.
            col = io.sum(axis=1, keepdims=True)
            io = np.where(col != 0, io * (1.0 - va)[:, None, :] / np.where(col != 0, col, 1.0), io)
            io[:, :, :] = np.where(np.abs(col) > 0, io, 0.0)
            # columns with no inputs at all must have va == 1
            va = np.where(np.abs(col[:, 0, :]) > 0, va, 1.0)

        absorption = flows.sum(axis=(0, 2))
        output = flows.sum(axis=(1, 2))
        for k in range(n):
            if absorption[k] <= 0:
                raise DataError(f"flows: country {show_code(regions[k])} buys nothing (zero total absorption)")
            if output[k] <= 0:
                raise DataError(f"flows: country {show_code(regions[k])} sells nothing (zero total output)")

        if final_demand_share is not None:
            alpha_given = _as_array("final_demand_share", final_demand_share, (n, s))
            sums_given = alpha_given.sum(axis=1, keepdims=True)
            if np.isfinite(alpha_given).all() and (np.abs(sums_given - 1) <= SHARE_TOL).all():
                final_demand_share = alpha_given / sums_given  # exact adding up
        if final_demand_share is None:
            alpha, n_clipped = derive_final_demand_share(flows, tariffs, va, io)
            if n_clipped:
                warnings.warn(
                    f"{name}: derived final demand negative in {n_clipped} country-sector cells; clipped to 0 and renormalised",
                    FinalDemandClippedWarning,
                    stacklevel=2,
                )
        else:
            alpha = _as_array("final_demand_share", final_demand_share, (n, s))
            _check_finite("final_demand_share", alpha, lab2)
            if (alpha < 0).any():
                idx = tuple(int(x[0]) for x in np.nonzero(alpha < 0))
                raise DataError(f"final_demand_share: negative share at {_label(idx, lab2)}")
            sums = alpha.sum(axis=1)
            bad = np.abs(sums - 1) > SHARE_TOL
            if bad.any():
                k = int(np.nonzero(bad)[0][0])
                raise DataError(f"final_demand_share: sums to {sums[k]:.8f}, not 1, for country {show_code(regions[k])}")

        income = _income(flows, tariffs, va)
        for k in range(n):
            if not income[k] > 0:
                raise DataError(f"flows: country {show_code(regions[k])} has non-positive income {income[k]:.6g} (value added + tariff revenue + deficit)")

        if sector_names is not None:
            if isinstance(sector_names, (str, bytes)) or not isinstance(sector_names, Iterable):
                raise DataError(f"sector_names: expected a list of names, got {type(sector_names).__name__}")
            sector_names = tuple(str(x) for x in sector_names)
            if len(sector_names) != s:
                raise DataError(f"sector_names: expected {s} names, got {len(sector_names)}")
        if meta is not None and not isinstance(meta, Mapping):
            raise DataError(f"meta: expected a mapping, got {type(meta).__name__}")

        return cls(
            name=name,
            regions=regions,
            sectors=sectors,
            flows=_readonly(flows),
            tariffs=_readonly(tariffs),
            theta=_readonly(theta_arr),
            value_added_share=_readonly(va),
            io_share=_readonly(io),
            final_demand_share=_readonly(alpha),
            has_io=bool(has_io and io.sum() > 0),
            sector_names=sector_names,
            meta=dict(meta or {}),
        )

    # -------------------------------------------------------------- derived
    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    @property
    def expenditure(self) -> np.ndarray:
        """``X[n, s] = sum_i flows[i, n, s] (1 + t[i, n, s])``, USD millions, tariff-inclusive."""
        return np.einsum("ins,ins->ns", self.flows, 1.0 + self.tariffs)

    @property
    def trade_share(self) -> np.ndarray:
        """``pi[i, n, s]``: share of n's sector-s spending (tariff-inclusive) on goods from i."""
        x = self.flows * (1.0 + self.tariffs)
        tot = x.sum(axis=0, keepdims=True)
        return np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)

    @property
    def gross_output(self) -> np.ndarray:
        """``Y[i, s] = sum_n flows[i, n, s]``, USD millions."""
        return self.flows.sum(axis=1)

    @property
    def value_added_usd(self) -> np.ndarray:
        """``VA[i] = sum_s value_added_share[i, s] Y[i, s]``, USD millions."""
        return (self.value_added_share * self.gross_output).sum(axis=1)

    @property
    def tariff_revenue_usd(self) -> np.ndarray:
        """``R[n] = sum_{i,s} t[i, n, s] flows[i, n, s]``, USD millions."""
        return np.einsum("ins,ins->n", self.tariffs, self.flows)

    @property
    def deficit_usd(self) -> np.ndarray:
        """``D[n]`` = imports - exports (pre-tariff), USD millions; sums to zero."""
        return self.flows.sum(axis=(0, 2)) - self.flows.sum(axis=(1, 2))

    @property
    def income_usd(self) -> np.ndarray:
        """``I[n] = VA[n] + R[n] + D[n]``, USD millions."""
        return _income(self.flows, self.tariffs, self.value_added_share)

    def index(self, region: str) -> int:
        """Position of a region code; raises :class:`DataError` for an unknown code."""
        try:
            return self.regions.index(region)
        except ValueError:
            raise DataError(f"unknown region {region!r}; known: {', '.join(self.regions)}") from None

    def sector_index(self, sectors: str | Iterable[str] | None) -> np.ndarray:
        """Positions of sector codes (None: all sectors)."""
        if sectors is None:
            return np.arange(self.n_sectors)
        if isinstance(sectors, (str, int)):
            sectors = [sectors]
        out = []
        for c in sectors:
            c = str(c)
            if c not in self.sectors:
                raise DataError(f"unknown sector {c!r} in world {self.name}")
            out.append(self.sectors.index(c))
        return np.array(out, dtype=int)

    # -------------------------------------------------------------- editing
    def tariffs_with(
        self,
        *,
        importer: str | Sequence[str],
        exporter: str | Sequence[str] | None = None,
        sectors: str | Sequence[str] | None = None,
        add: float | None = None,
        set: float | None = None,  # noqa: A002 - mirrors the user's words
        base: np.ndarray | None = None,
    ) -> np.ndarray:
        """A copy of the tariff array with ``importer``'s tariff on ``exporter`` changed.

        ``add`` adds percentage points (fraction) to the current rate; ``set``
        replaces it. ``exporter=None`` means every partner except the importer.
        Own-country entries always stay 0. Returns an (N, N, S) array; pass it to
        :func:`tariffsim.solve` or :meth:`with_tariffs`.
        """
        if (add is None) == (set is None):
            raise DataError("tariffs_with: give exactly one of add= or set=")
        try:
            add = None if add is None else float(add)
            set = None if set is None else float(set)  # noqa: A001
        except (TypeError, ValueError):
            raise DataError(f"tariffs_with: rate must be a number, got {add if set is None else set!r}") from None
        t = np.array(self.tariffs if base is None else base, dtype=np.float64, copy=True)
        imps = [importer] if isinstance(importer, str) or not isinstance(importer, Iterable) else list(importer)
        exps = [e for e in self.regions] if exporter is None else (
            [exporter] if isinstance(exporter, str) or not isinstance(exporter, Iterable) else list(exporter))
        sidx = self.sector_index(sectors)
        for imp in imps:
            j = self.index(imp)
            for exp in exps:
                i = self.index(exp)
                if i == j:
                    continue
                if add is not None:
                    t[i, j, sidx] += float(add)
                else:
                    t[i, j, sidx] = float(set)
        _check_tariffs("tariffs", t, (self.regions, self.regions, self.sectors))
        return t

    def with_tariffs(self, tariffs: np.ndarray) -> "World":
        """Same economy with a different tariff array; flows are not re-solved (use solve(...).world)."""
        t = _as_array("tariffs", tariffs, self.flows.shape)
        _check_tariffs("tariffs", t, (self.regions, self.regions, self.sectors))
        return replace(self, tariffs=_readonly(t))

    def with_theta(self, theta: np.ndarray | float) -> "World":
        th = _theta_array(theta, self.n_sectors).copy()
        if not np.isfinite(th).all() or (th <= 0).any():
            raise DataError("theta: trade elasticities must be finite and > 0")
        return replace(self, theta=_readonly(th))

    def aggregate(
        self,
        *,
        regions: Mapping[str, str] | None = None,
        sectors: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> "World":
        """Merge regions and/or sectors (mapping old code -> new code; unmapped codes keep their own).

        Flows, tariff revenue, value added, intermediate costs and final demand are
        summed, so every total is preserved: tariffs become flow-weighted averages
        (``t_new = sum t * flows / sum flows``), value-added and IO shares are
        gross-output weighted, theta is a trade-weighted (international flows)
        average, final demand shares are income-weighted.
        """
        rmap = [(regions or {}).get(r, r) for r in self.regions]
        smap = [(sectors or {}).get(s, s) for s in self.sectors]
        for old, new in (regions or {}).items():
            if old not in self.regions:
                raise DataError(f"aggregate: unknown region {old!r}")
        for old in (sectors or {}):
            if str(old) not in self.sectors:
                raise DataError(f"aggregate: unknown sector {old!r}")
        new_r = tuple(dict.fromkeys(rmap))
        new_s = tuple(dict.fromkeys(smap))
        R = np.zeros((len(self.regions), len(new_r)))
        R[np.arange(len(rmap)), [new_r.index(x) for x in rmap]] = 1.0
        S = np.zeros((len(self.sectors), len(new_s)))
        S[np.arange(len(smap)), [new_s.index(x) for x in smap]] = 1.0

        f = self.flows
        flows = np.einsum("ijs,ia,jb,sc->abc", f, R, R, S)
        rev = np.einsum("ijs,ia,jb,sc->abc", f * self.tariffs, R, R, S)
        tariffs = np.divide(rev, flows, out=np.zeros_like(rev), where=flows > 0)
        # Own tariffs of merged regions are internal trade: zero them (revenue on intra-bloc trade is dropped).
        for a in range(len(new_r)):
            tariffs[a, a, :] = 0.0
        go = self.gross_output
        va_usd = np.einsum("is,ia,sc->ac", self.value_added_share * go, R, S)
        go_new = np.einsum("is,ia,sc->ac", go, R, S)
        va = np.divide(va_usd, go_new, out=np.ones_like(va_usd), where=go_new > 0)
        inter = np.einsum("iks,is,ia,kb,sc->abc", self.io_share, go, R, S, S)
        io = np.divide(inter, go_new[:, None, :], out=np.zeros_like(inter), where=go_new[:, None, :] > 0)
        # theta: trade-weighted mean over international flows
        intl = f * (1 - np.eye(len(self.regions)))[:, :, None]
        w = intl.sum(axis=(0, 1))
        w = np.where(w > 0, w, 1e-12)
        theta = (S.T @ (self.theta * w)) / (S.T @ w)
        inc = self.income_usd
        fd = np.einsum("ns,n,na,sc->ac", self.final_demand_share, inc, R, S)
        alpha = fd / fd.sum(axis=1, keepdims=True)
        return World.from_arrays(
            regions=new_r,
            sectors=new_s,
            flows=flows,
            tariffs=tariffs,
            theta=theta,
            value_added_share=va,
            io_share=io if self.has_io else None,
            final_demand_share=alpha,
            name=name or f"{self.name}-aggregated",
            meta=dict(self.meta),
        )

    def summary(self):
        """Tidy table (polars) by region: value added, absorption, exports, imports, deficit, tariff revenue."""
        import polars as pl

        f = self.flows
        off = f * (1 - np.eye(self.n_regions))[:, :, None]
        return pl.DataFrame(
            {
                "region": list(self.regions),
                "value_added_usd_mn": self.value_added_usd,
                "exports_usd_mn": off.sum(axis=(1, 2)),
                "imports_usd_mn": off.sum(axis=(0, 2)),
                "deficit_usd_mn": self.deficit_usd,
                "tariff_revenue_usd_mn": self.tariff_revenue_usd,
                "income_usd_mn": self.income_usd,
            }
        )

    def __repr__(self) -> str:
        return (
            f"World(name={self.name!r}, regions={len(self.regions)}, sectors={len(self.sectors)}, "
            f"io={'yes' if self.has_io else 'no'}, total_flows_usd_mn={self.flows.sum():,.0f})"
        )


def _income(flows: np.ndarray, tariffs: np.ndarray, va: np.ndarray) -> np.ndarray:
    go = flows.sum(axis=1)
    vadd = (va * go).sum(axis=1)
    rev = np.einsum("ins,ins->n", tariffs, flows)
    deficit = flows.sum(axis=(0, 2)) - flows.sum(axis=(1, 2))
    return vadd + rev + deficit


def _as_array(name: str, x, shape: tuple[int, ...]) -> np.ndarray:
    try:
        complex_ = np.iscomplexobj(x)
        arr = np.array(x, dtype=np.float64, copy=True) if not complex_ else None
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{name}: not numeric ({str(exc).splitlines()[0][:120]})") from None
    if arr is None:
        raise DataError(f"{name}: complex values are not allowed")
    if arr.shape != tuple(shape):
        raise DataError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    return arr


def _shape(name: str, x) -> tuple[int, ...]:
    """Shape of an array-like, or :class:`DataError` (ragged lists, non-numeric)."""
    try:
        return tuple(np.shape(x))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: not an array ({str(exc).splitlines()[0][:120]})") from None


def _theta_array(theta, s: int) -> np.ndarray:
    """One trade elasticity per sector from a scalar or an (S,) array (not yet range-checked)."""
    try:
        scalar = np.ndim(theta) == 0
    except (TypeError, ValueError):  # ragged nested lists
        scalar = False
    arr = _as_array("theta", theta, () if scalar else (s,))
    return np.broadcast_to(arr, (s,)) if scalar else arr


def _check_tariffs(name: str, t: np.ndarray, labels) -> None:
    _check_finite(name, t, labels)
    if (t <= -1).any():
        idx = tuple(int(x[0]) for x in np.nonzero(t <= -1))
        raise DataError(f"{name}: tariff {t[idx]:.6g} <= -100% at (exporter, importer, sector) {_label(idx, labels)}")
    n = t.shape[0]
    diag = t[np.arange(n), np.arange(n), :]
    if np.abs(diag).max() > 0:
        k = int(np.nonzero(np.abs(diag).max(axis=1) > 0)[0][0])
        raise DataError(f"{name}: own tariff of {show_code(labels[0][k])} on itself must be 0")
