"""Loads the middleware's own modules from a checkout so their validation code can run
without a TrueNAS: third-party modules a TrueNAS has (libzfs, ldap, sqlalchemy, ...) and
this machine lacks are replaced by inert stand-ins; the middleware's code is never copied.

Only what the conformance cases exercise is expected to work: schema classes, validators,
pydantic models and plugin validation functions called with a fake `middleware`.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import types


class _Inert:
    """Stands for any attribute of a missing module: callable, subclassable, iterable."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Inert()

    def __iter__(self):
        return iter(())

    def __getitem__(self, key):
        return _Inert()

    def __setitem__(self, key, value):
        pass

    def __bool__(self):
        return False

    def __or__(self, other):
        return other

    def __mro_entries__(self, bases):
        return (object,)


class _Const(int):
    """A missing module's constant: a distinct integer that also answers as a one-entry
    mapping (some modules build `Literal[...]` choices from such a table)."""

    def keys(self):
        return ("stub",)

    def values(self):
        return ("stub",)

    def items(self):
        return (("stub", "stub"),)


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        # Constants (`ID_TYPE_UID`) become distinct integers, so enums built from them work.
        if name.isupper():
            value = _Const(1000 + len(self.__dict__))
            setattr(self, name, value)
            return value
        # Classes named like exceptions must be catchable.
        if name.endswith("Warning"):
            cls = type(name, (Warning,), {})
        elif name.endswith(("Error", "Exception", "Timeout")):
            cls = type(name, (Exception,), {})
        elif name[:1].isupper():
            cls = type(name, (), {"__init__": lambda self, *a, **k: None,
                                  "__getattr__": lambda self, n: _Inert()})
        else:
            return _Inert()
        setattr(self, name, cls)
        return cls


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a module nothing else finds (only outside `middlewared`)."""

    def __init__(self, roots):
        self.roots = tuple(roots)
        self.stubbed = set()

    def _wanted_by_middleware(self):
        """Whether the import statement being run is in the middleware's (or zettarepl's)
        code, so that a library probing for an optional module still gets ImportError."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if not name.startswith("<frozen importlib"):
                return name.startswith(self.roots)
            frame = frame.f_back
        return False

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in ("middlewared", "zettarepl", "truenas_api_client"):
            return None
        if not self._wanted_by_middleware():
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            try:
                spec = finder.find_spec(fullname, path, target)
            except Exception:
                spec = None
            if spec is not None:
                return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        self.stubbed.add(spec.name)
        mod = _StubModule(spec.name)
        mod.__path__ = []
        return mod

    def exec_module(self, module):
        pass


def load(src, extra=()):
    """Puts the checkout's `src/middlewared` (and the directories holding zettarepl and
    truenas_api_client, when given) first on the path."""
    roots = [os.path.join(os.path.abspath(src), "src", "middlewared")]
    roots += [os.path.abspath(p) for p in extra if p]
    for r in roots:
        sys.path.insert(0, r)
    finder = _StubFinder(roots)
    sys.meta_path.append(finder)
    return finder


def api_module(package, name):
    """Imports `middlewared.api.<package>.<name>` without running the package's
    `__init__` (which imports every model, most of them irrelevant here)."""
    import importlib

    full = f"middlewared.api.{package}"
    if full not in sys.modules:
        import middlewared.api as api

        mod = types.ModuleType(full)
        mod.__path__ = [os.path.join(os.path.dirname(api.__file__), package)]
        sys.modules[full] = mod
    return importlib.import_module(f"{full}.{name}")
