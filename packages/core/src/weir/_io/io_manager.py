"""IO managers: the objects that store step outputs and load step inputs.

* :class:`IOManager` -- implement ``handle_output(context, obj)`` and ``load_input(context)``.
* :class:`InputManager` -- only ``load_input`` (for ``AssetIn(input_manager_key=...)``).
* ``ConfigurableIOManager`` -- an ``IOManager`` configured by pydantic fields.
* ``ConfigurableIOManagerFactory`` -- pydantic config that *creates* an IO manager per run.
* :class:`IOManagerDefinition`, :func:`io_manager` -- the legacy function-based form.

This module does not import pydantic (the executor imports it on every run): the two pydantic
classes are defined in :mod:`weir._io._configurable` and re-exported here lazily through the
module ``__getattr__`` below, so ``from weir._io.io_manager import ConfigurableIOManager`` works.

Every IO manager class that a plugin registers (``weir_register_io_managers``) names itself
with ``plugin_name: ClassVar[str]`` (the core's are ``"filesystem"`` and ``"in_memory"``).
"""

from __future__ import annotations

import inspect
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, overload

from weir._config.resources import ResourceDefinition
from weir.lazy import lazy_getattr

if TYPE_CHECKING:
    from weir._io._configurable import ConfigurableIOManager, ConfigurableIOManagerFactory
    from weir._io.contexts import InputContext, OutputContext

__all__ = [
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "IOManager",
    "IOManagerDefinition",
    "InputManager",
    "InputManagerDefinition",
    "input_manager",
    "io_manager",
    "is_io_manager_resource",
]

_LAZY = {
    "ConfigurableIOManager": "weir._io._configurable",
    "ConfigurableIOManagerFactory": "weir._io._configurable",
}


__getattr__ = lazy_getattr(globals(), _LAZY)


class InputManager(ABC):
    """Loads step inputs: implement ``load_input(context)``."""

    plugin_name: ClassVar[str]

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value of the input described by ``context``."""


class IOManager(InputManager):
    """Stores step outputs and loads them as inputs of downstream steps.

    Example::

        class JsonIOManager(dg.IOManager):
            def handle_output(self, context: dg.OutputContext, obj) -> None:
                Path(*context.asset_key.path).with_suffix(".json").write_text(json.dumps(obj))

            def load_input(self, context: dg.InputContext):
                return json.loads(Path(*context.asset_key.path).with_suffix(".json").read_text())

    Bind it under the resource key ``io_manager`` to make it the default for every output.
    """

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj``, the output described by ``context``."""


class IOManagerDefinition(ResourceDefinition):
    """A resource definition whose function returns an :class:`IOManager` (the legacy form).

    ``input_config_schema`` / ``output_config_schema`` describe per-input / per-output config.
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
        input_config_schema: Any = None,
        output_config_schema: Any = None,
    ) -> None:
        super().__init__(
            resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            version=version,
        )
        self._input_config_schema = input_config_schema
        self._output_config_schema = output_config_schema

    @property
    def input_config_schema(self) -> Any:
        return self._input_config_schema

    @property
    def output_config_schema(self) -> Any:
        return self._output_config_schema

    @staticmethod
    def hardcoded_io_manager(
        value: IOManager, description: str | None = None
    ) -> IOManagerDefinition:
        """An IO manager definition that always provides ``value``."""
        return IOManagerDefinition(lambda _ctx: value, description=description)


@overload
def io_manager(config_schema: Callable[..., Any]) -> IOManagerDefinition: ...


@overload
def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    output_config_schema: Any = None,
    input_config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], IOManagerDefinition]: ...


def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    output_config_schema: Any = None,
    input_config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define an IO manager from a function of ``init_context`` returning an :class:`IOManager`.

    Usable bare (``@io_manager``) or called (``@io_manager(config_schema={"base_dir": str})``).
    """
    if inspect.isfunction(config_schema):
        return IOManagerDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> IOManagerDefinition:
        return IOManagerDefinition(
            fn,
            config_schema=config_schema,
            description=description or inspect.getdoc(fn),
            required_resource_keys=required_resource_keys,
            version=version,
            input_config_schema=input_config_schema,
            output_config_schema=output_config_schema,
        )

    return decorate


class InputManagerDefinition(ResourceDefinition):
    """A resource definition whose value is an :class:`InputManager`."""

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        input_config_schema: Any = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
    ) -> None:
        super().__init__(
            resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            version=version,
        )
        self._input_config_schema = input_config_schema

    @property
    def input_config_schema(self) -> Any:
        return self._input_config_schema


class _FunctionInputManager(InputManager):
    """An input manager made of a load function (``@input_manager`` on ``def load(context)``)."""

    def __init__(self, load_fn: Callable[..., Any], takes_context: bool) -> None:
        self._load_fn = load_fn
        self._takes_context = takes_context

    def load_input(self, context: InputContext) -> Any:
        return self._load_fn(context) if self._takes_context else self._load_fn()


def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    input_config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define an input manager from a load function of the ``InputContext`` (bare or called).

    Example::

        @dg.input_manager
        def constant_loader(context: dg.InputContext):
            return 5

        @dg.asset(ins={"x": dg.AssetIn(input_manager_key="loader")})
        def uses_x(x): ...
    """

    def decorate(fn: Callable[..., Any]) -> InputManagerDefinition:
        from weir._config.resources import _takes_context

        manager = _FunctionInputManager(fn, _takes_context(fn))
        return InputManagerDefinition(
            lambda _ctx: manager,
            config_schema=config_schema,
            description=description or inspect.getdoc(fn),
            input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys,
            version=version,
        )

    if inspect.isfunction(config_schema):
        fn, config_schema = config_schema, None
        return decorate(fn)
    return decorate


def is_io_manager_resource(obj: Any) -> bool:
    """Whether ``obj`` (a value of ``resources=``) provides an IO or input manager.

    True for ``IOManager``/``InputManager`` instances (``ConfigurableIOManager`` included),
    ``IOManagerDefinition``/``InputManagerDefinition`` and ``ConfigurableIOManagerFactory``
    instances. Never imports pydantic.
    """
    if isinstance(obj, (InputManager, IOManagerDefinition, InputManagerDefinition)):
        return True
    mod = sys.modules.get("weir._io._configurable")
    return mod is not None and isinstance(obj, mod.ConfigurableIOManagerFactory)
