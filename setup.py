"""Build the hot path as C extensions from the same ``.py`` sources (issue #19, docs/PERFORMANCE.md
"Compiled hot path").

Cython compiles the modules in ``HOT`` in pure-Python mode: the ``.py`` files stay the one
source of truth and stay in the package, next to their ``.so``. Python imports the ``.so`` when
both are there; ``LEDIS_INTERPRETED=1`` at run time makes ``import ledis`` take the ``.py``
instead (ledis/__init__.py). Annotations are not turned into C types (``annotation_typing``
off): the code is dynamic, and a wrong hint must not change behaviour between the two modes.
A ``.pxd`` beside a module (``ledis/core.pxd``, ``ledis/server/connection.pxd``) makes the
classes it declares extension types with C attribute fields; Cython finds it by itself
(docs/architecture.md "The compiled hot path", tests/unit/test_pxd.py).

Compiling is **opt-in**: ``LEDIS_COMPILE=1`` at build time. Untyped, the compiled modules
measured no faster than Python 3.11's interpreter (SET +1.9%, GET -9.3%, EVALSHA -3.0%
instructions; docs/PERFORMANCE.md "Compiled hot path"); with the two typed classes they run
4-13% fewer instructions (session 15 in the same file), a gain within the machine's
run-to-run spread over the network, so a default install stays pure Python and needs no
compiler. With ``LEDIS_COMPILE=1`` the build asks for Cython (a dynamic build
requirement, so pip's isolated build fetches it); no compiler, or a module Cython rejects: the
build warns and that part stays pure Python, which works the same.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The modules a request runs through (docs/architecture.md "How a request flows"): RESP parse
# and encode, the connection loop and group commit, the dispatcher and Context, argument
# parsing, the five core type families, the engine overlay and the keyspace gate, the Lua
# bridge. Keep ledis/__init__.py out: it holds the LEDIS_INTERPRETED switch.
HOT = [
    "ledis/resp.py",
    "ledis/replies.py",
    "ledis/inline.py",
    "ledis/core.py",
    "ledis/server/app.py",
    "ledis/server/connection.py",
    "ledis/commands/args.py",
    "ledis/commands/registry.py",
    "ledis/commands/strings.py",
    "ledis/commands/hashes.py",
    "ledis/commands/lists.py",
    "ledis/commands/sets.py",
    "ledis/commands/zsets.py",
    "ledis/commands/zranges.py",
    "ledis/storage/engine.py",
    "ledis/storage/overlay.py",
    "ledis/storage/savepoints.py",
    "ledis/storage/keyspace.py",
    "ledis/storage/layout.py",
    "ledis/storage/values.py",
    "ledis/storage/types/string.py",
    "ledis/storage/types/hash.py",
    "ledis/storage/types/list.py",
    "ledis/storage/types/set.py",
    "ledis/storage/types/zset.py",
    "ledis/storage/types/zset_rank.py",
    "ledis/storage/types/zset_score.py",
    "ledis/scripting/runtime.py",
    "ledis/scripting/convert.py",
]

DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,  # hints stay hints: same behaviour as the interpreted source
    "binding": True,  # functions keep __name__, __doc__, signatures (inspect, the registry)
    "embedsignature": False,
    "always_allow_keywords": True,
}


def _warn(message: str) -> None:
    print(f"ledis: {message}; building pure Python (slower, same behaviour)", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """Compile what compiles; a failure leaves that module interpreted instead of failing."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:  # one compiler per core: ~3 min of CPU for the whole hot path
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (distutils raises its own classes)
            _warn(f"cannot build the extensions ({exc})")

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"cannot compile {ext.name} ({exc})")


COMPILE = os.environ.get("LEDIS_COMPILE", "") not in ("", "0")


def extensions() -> list:
    if not COMPILE:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _warn("Cython is not installed")
        return []
    try:
        return cythonize(HOT, compiler_directives=DIRECTIVES, build_dir="build/cython",
                         quiet=True, nthreads=0)
    except Exception as exc:  # a module Cython cannot translate
        _warn(f"Cython failed ({exc})")
        return []


# setup_requires is what setuptools' PEP 517 backend reports as the build's dynamic requirements
# (get_requires_for_build_wheel runs this file first, without Cython: then extensions() is []).
setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt},
      setup_requires=["Cython>=3.1"] if COMPILE else [])
