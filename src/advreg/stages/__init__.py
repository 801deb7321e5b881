"""One function per pipeline stage, called by the rule scripts in ``scripts/``.

Each takes explicit paths and config values (no Snakemake object), so it can be tested and reused
outside the workflow.
"""
