"""Build hook: copies the top-level openapi/ and fixtures/ (the source of truth) into the wheel's simulator package."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCES = ("openapi", "fixtures")


class build_py_with_resources(build_py):  # noqa: N801 (setuptools command naming)
    """An installed gosim finds its specs and fixtures at simulator/openapi and simulator/fixtures (settings.py)."""

    def run(self) -> None:
        super().run()
        # An editable install runs from the checkout, where settings.py finds the folders beside the package.
        if getattr(self, "editable_mode", False):
            return
        for name in RESOURCES:
            source = ROOT / name
            target = Path(self.build_lib) / "simulator" / name
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)  # a reused build/ must not keep files deleted since
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_resources})
