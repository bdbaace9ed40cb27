"""The scikit-learn estimator contract for newstag's model parts, without importing it.

:class:`Estimator` gives a class scikit-learn's ``get_params`` / ``set_params`` / clone
behaviour: parameters are the ``__init__`` arguments, each kept as an attribute of the same
name, and ``sklearn.base.clone(obj)`` builds an unfitted copy. The methods are scikit-learn's
own (``BaseEstimator``'s), looked up on first use: scoring a loaded bundle needs numpy only,
and importing scikit-learn (with SciPy) would cost seconds of start-up.
"""

from __future__ import annotations

import inspect
from typing import Any


def _base() -> Any:
    from sklearn.base import BaseEstimator

    return BaseEstimator


class Estimator:
    """Mixin: scikit-learn's parameter protocol (``get_params``, ``set_params``, clone)."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The ``__init__`` argument names, sorted (as scikit-learn lists them)."""
        return sorted(_init_parameters(cls))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameter name -> value (``deep``: also those of estimator-valued parameters)."""
        return _base().get_params(self, deep)

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters (``name`` or ``part__name``); returns ``self``."""
        return _base().set_params(self, **params)

    def init_params(self) -> dict[str, Any]:
        """Parameter name -> value in ``__init__`` order (the order bundles store them in)."""
        return {k: getattr(self, k) for k in _init_parameters(type(self))}

    def __sklearn_clone__(self) -> Estimator:
        from sklearn.base import _clone_parametrized

        return _clone_parametrized(self)

    def __repr__(self) -> str:
        defaults = defaults_of(type(self))
        changed = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in defaults or defaults[k] != v
        }
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The named ``__init__`` parameters of ``cls`` (none when it keeps object's)."""
    if cls.__init__ is object.__init__:
        return {}
    params = inspect.signature(cls.__init__).parameters.values()
    return {
        p.name: p
        for p in params
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def defaults_of(cls: type) -> dict[str, Any]:
    """Each ``__init__`` parameter's default value (parameters without one are left out)."""
    return {
        name: p.default
        for name, p in _init_parameters(cls).items()
        if p.default is not inspect.Parameter.empty
    }
