"""Build glue: bundle libwsrpc.so (the Go core, built by `make build`) into the package.

The library is taken from, in order: $WSRPC_LIBRARY, src/wsrpc/libwsrpc.so (present in an
sdist), or the repository's build/libwsrpc.so. Wheels are tagged py3-none-<platform>: they
hold a native library but no CPython extension.
"""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
LIB = "libwsrpc.so"


def find_library() -> Path:
    candidates = [os.environ.get("WSRPC_LIBRARY"), HERE / "src" / "wsrpc" / LIB,
                  HERE.parent.parent / "build" / LIB]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise SystemExit(
        f"wsrpc: {LIB} not found; run `make build` in the repository first "
        "(or set WSRPC_LIBRARY to the library's path)")


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        dest = Path(self.build_lib) / "wsrpc" / LIB
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = find_library()
        if src.resolve() != dest.resolve():
            shutil.copy2(src, dest)


class SDist(sdist):
    def make_release_tree(self, base_dir: str, files: list) -> None:
        super().make_release_tree(base_dir, files)
        dest = Path(base_dir) / "src" / "wsrpc" / LIB
        if not dest.exists():
            shutil.copy2(find_library(), dest)


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:  # platform wheel: it carries a native library
        return True


cmdclass = {"build_py": BuildPy, "sdist": SDist}
try:
    try:
        from setuptools.command.bdist_wheel import bdist_wheel
    except ImportError:  # older setuptools
        from wheel.bdist_wheel import bdist_wheel  # type: ignore

    class BdistWheel(bdist_wheel):
        def get_tag(self):  # type: ignore[override]
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = BdistWheel
except ImportError:
    pass

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
