"""The one compiled part of geomines: the exact engine's inner loop (geomines/engine/cgreen.c).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is
found, geomines installs without it and the engine runs the numpy version of the same
loop (the same sums, bit for bit, more slowly; ``geomines.engine.exact.COMPILED`` says
which one runs).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """No fused multiply-add: the C loop rounds every step as numpy does (same sums)."""

    def build_extensions(self) -> None:
        """Build with ``-ffp-contract=off`` where the compiler is GCC or Clang."""
        if self.compiler.compiler_type != "msvc":
            for ext in self.extensions:
                ext.extra_compile_args = [*ext.extra_compile_args, "-ffp-contract=off"]
        super().build_extensions()


setup(
    ext_modules=[
        Extension("geomines.engine.cgreen", ["geomines/engine/cgreen.c"], optional=True),
    ],
    cmdclass={"build_ext": BuildExt},
)
