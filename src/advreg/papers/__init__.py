"""One module per paper: :mod:`advreg.papers.datagrad`, ... (torch-free registry in :mod:`.catalog`).

A new paper: a module here with ``render(params, inputs, out_dir, log)``, an entry in :mod:`.catalog` with its
config block's parameters, a block under ``papers:`` in the config, and its published numbers in
``config/published/<paper>.yaml``. The generic ``render_paper`` rule runs it; no rule names a paper.
"""

from advreg.papers.catalog import PAPERS, PaperParams, PaperSpec

__all__ = ["PAPERS", "PaperParams", "PaperSpec"]
