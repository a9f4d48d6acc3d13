"""Bundle the top-level scenario library and example drills into the wheel.

`scenarios/` and `drills/` live at the repository root (where users read and edit them);
a build copies them into `drtool/data/` so a non-editable install carries them too.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        for folder in ("scenarios", "drills"):
            source = ROOT / folder
            target = Path(self.build_lib) / "drtool" / "data" / folder
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)


setup(cmdclass={"build_py": BuildWithLibrary})
