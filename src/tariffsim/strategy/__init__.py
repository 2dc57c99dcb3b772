"""Strategy layer: optimal tariffs, Nash tariff wars and cooperative trade talks.

Model-agnostic: every function drives a :class:`~tariffsim.models.base.BoundModel`
(``model="caliendo_parro"`` or ``"ossa2014"``) through its differentiable
``evaluate`` and never looks inside the model.
"""

from .._jaxcache import configure_jax as _configure_jax

_configure_jax()


from .cooperative import CooperativeResult, common_improvement, cooperative_tariffs
from .nash import NashResult, nash_tariffs
from .optimal import OptimalTariffResult, optimal_tariff

__all__ = [
    "CooperativeResult", "NashResult", "OptimalTariffResult",
    "common_improvement", "cooperative_tariffs", "nash_tariffs", "optimal_tariff",
]
