"""The benchmarks behind the speed tables in the READMEs, each run from the repository root as
``.venv/bin/python -m benchmarks.NAME`` (benchmarks/README.md). Not tests: they time things."""
