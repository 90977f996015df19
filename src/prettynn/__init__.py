"""Pretty Neural Networks: the code the chapters share.

Modules, one concept each:

- ``compare``: the one comparison of arrays every check uses (float64, explicit tolerances).
- ``exercise``: how an exercise is declared (cases, torch reference, known mistakes, points).
- ``exercises``: the declarations, one module per chapter topic.
- ``grading``: the harness that runs a student's function on cases and returns a verdict.
- ``checks``: the visible checks a student runs in a notebook.
- ``tolerances``: tolerances for checking random outputs.
- ``gradcheck``: numerical gradients and relative errors.
- ``data``: the data sets the chapters use (offline).
- ``training``: layers built from the reader's own functions, SGD, the training loop, plots.
- ``reuse``: the reader's own functions from an earlier chapter's notebook, for a later one.
- ``widgets``: the book's interactive widgets (anywidget traits + one ES module each).
- ``experiments``: precomputed experiments the widgets show (the loss landscape).
- ``course``: instructor tooling (nbgrader extensions, book pages, release checks).
"""

__version__ = "0.1.0"
