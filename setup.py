"""Build hook: the wheel (and an editable install) carries the compiled gettext catalogs.

Everything else about the package is in pyproject.toml; this only compiles each
`bot/i18n/locale/<lang>/LC_MESSAGES/messages.po` into its `.mo` with Babel before the
package's files are copied, so `pip install .` from any checkout answers in Indonesian.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).resolve().parent / "bot" / "i18n" / "locale"


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parts[-3])
            with po.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
