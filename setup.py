"""Only for `scrapyd-deploy`, which builds its egg with `setup.py bdist_egg`; all metadata is in pyproject.toml."""

from setuptools import setup

setup()
