"""`python -m crawler` is the `jobagg` command."""

from crawler.cli import main

main(prog_name="jobagg")
