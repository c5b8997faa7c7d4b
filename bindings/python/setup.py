"""Build glue: the version, and libwsrpc.so (the Go core, built by `make build`) bundled into
the package.

The library is taken from, in order: $WSRPC_LIBRARY, src/wsrpc/libwsrpc.so (present in an
sdist), or the repository's build/libwsrpc.so. Wheels are tagged py3-none-<platform>: they
hold a native library but no CPython extension. The platform is this machine's unless
$WSRPC_WHEEL_PLATFORM names it (`make wheel` builds the library for an old glibc, and for
another architecture, and sets it, e.g. manylinux_2_17_aarch64.manylinux2014_aarch64).

The version is the project's one version, the file VERSION (copied into an sdist) or the
repository's pkg/wsrpc/VERSION: it becomes the distribution's version and, written into
wsrpc/_version.py, the package's __version__.
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
VERSION_FILES = [HERE / "VERSION", HERE.parent.parent / "pkg" / "wsrpc" / "VERSION"]


def find_version_file() -> Path:
    for f in VERSION_FILES:
        if f.is_file():
            return f
    raise SystemExit("wsrpc: no VERSION file (looked in: " + ", ".join(map(str, VERSION_FILES)) + ")")


VERSION = find_version_file().read_text().strip()


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
        (dest.parent / "_version.py").write_text(
            f'# Written by setup.py from the project\'s VERSION file.\n__version__ = "{VERSION}"\n')


class SDist(sdist):
    def make_release_tree(self, base_dir: str, files: list) -> None:
        super().make_release_tree(base_dir, files)
        dest = Path(base_dir) / "src" / "wsrpc" / LIB
        if not dest.exists():
            shutil.copy2(find_library(), dest)
        version = Path(base_dir) / "VERSION"
        if not version.exists():
            shutil.copy2(find_version_file(), version)


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
            return "py3", "none", os.environ.get("WSRPC_WHEEL_PLATFORM") or plat

    cmdclass["bdist_wheel"] = BdistWheel
except ImportError:
    pass

setup(version=VERSION, cmdclass=cmdclass, distclass=BinaryDistribution)
