"""Empty stand-ins for modules a plugin imports but the harnessed code paths never use."""

import collections
import collections.abc
import importlib.abc
import importlib.machinery
import sys
import types

# CORE runs Python 3.9, which still has these aliases.
collections.Callable = collections.abc.Callable


class _Anything(types.ModuleType):
    """A module whose every attribute is an empty class (usable as a base or a call)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *a, **k: None,
                               "__call__": lambda self, *a, **k: None})


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names):
        self.names = names

    def find_spec(self, fullname, path, target=None):
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Anything(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def stub(*names):
    """Makes `import name` (and its submodules) give empty stand-ins, ahead of real ones."""
    sys.meta_path.insert(0, _Finder(names))
