"""No experiment's outcome is typed into a chapter's prose: the cell that computes it prints it.

A number next to a word such as accuracy, loss, gap, error, ratio, epoch, %, "times" or
"faster" in a markdown cell is a result someone typed; a rerun could change it and leave
the sentence false. Such a number belongs in the output of the cell that computes it, with
an ``assert`` backing the sentence that interprets it. Math, code, citations and section or
figure references are not scanned. A number that must stay (a definition such as the paper's
default rate, a figure quoted from a cited paper, a hand-checked worked example) is listed in
the notebook's metadata, ``prettynn.stated_numbers``, with the reason: the list is short and
reviewed.
"""

from __future__ import annotations

import re

import pytest

from prettynn.course import notebooks

from .conftest import ROOT

OUTCOME_WORDS = (r"accura\w*|loss(?:es)?|gaps?|errors?|ratios?|epochs?|percent\w*|%|times|×|faster|slower|"
                 r"speed-?ups?|margin|smaller|larger|lower|higher|better|worse")
TIMED = r"\d\s*(?:s|ms|seconds?|minutes?)\b"  # a measured time: a number right before its unit
# a number, not part of a shape or a name (3×3, 2-D, 1-NN, top-1)
NUMBER = r"(?<![\w.×-])\d+(?:[.,]\d+)*(?:\s?%)?(?![\w×]|-[A-Za-z])"
NEAR = 30  # characters between a number and an outcome word, within one sentence
WHY = {"definition", "citation", "hand-checked example"}

IGNORED = [
    re.compile(r"```.*?```", re.S),                     # fenced code
    re.compile(r"`[^`]*`"),                             # code spans
    re.compile(r"\$\$.*?\$\$", re.S),                   # display math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),
    re.compile(r"\$[^$]*\$"),                           # inline math
    re.compile(r"<[^>]+>"),                             # HTML tags
    re.compile(r"https?://\S+"),                        # links
    re.compile(r"\]\([^)]*\)"),                         # markdown link targets
    # citations and references into a paper: "Ioffe & Szegedy (2015, §3.2)", "et al. 2014", "Fig. 1"
    re.compile(r"\b(?:19|20)\d\d[a-z]?\b(?:,\s*(?:§|Sec\.|Section|Fig\.|Figure|Table|Eq\.|Appendix)\s*[\w.]+)?"),
    re.compile(r"(?:§|Sec\.|Section|Fig\.|Figure|Table|Eq\.|Algorithm|Appendix|[Cc]hapter|[Ee]xercise|[Ss]tep|"
               r"[Cc]ase|[Ll]ayer|[Pp]anel|[Cc]ell|item|axis|axes|[Dd]epth)s?\s*\(?\d+[\w.]*\)?"),
    re.compile(r"^\s*\d+\.\s", re.M),                   # numbered list items
    re.compile(r"\b\d+_[a-z]+\b"),                      # chapter ids such as 01_linear
]


def scanned_text(markdown: str) -> str:
    """``markdown`` without what is not prose: math, code, markup, citations, references."""
    for pattern in IGNORED:
        markdown = pattern.sub(" ", markdown)
    return markdown


def typed_results(markdown: str) -> list[str]:
    """The sentences of ``markdown`` that put a number next to an outcome word."""
    found = []
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n\s*\n", scanned_text(markdown)):
        for number in re.finditer(NUMBER, sentence):
            start, end = max(0, number.start() - NEAR), number.end() + NEAR
            window = sentence[start:end]
            if re.search(rf"(?<!\w)(?:{OUTCOME_WORDS})(?!\w)", window, re.I) or re.search(TIMED, window):
                found.append(" ".join(sentence.split()))
                break
    return found


def stated_numbers(notebook) -> list[dict]:
    """The numbers a chapter declares it states on purpose, each with its reason."""
    return notebook.metadata.get("prettynn", {}).get("stated_numbers", [])


@pytest.mark.parametrize("chapter", notebooks.chapters(ROOT))
def test_no_result_is_typed_into_the_prose(chapter):
    notebook = notebooks.read(notebooks.source_path(ROOT, chapter))
    allowed = stated_numbers(notebook)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for entry in allowed:
            text = text.replace(entry["text"], " ")
        problems += [f"cell {index}: {sentence}" for sentence in typed_results(text)]
    assert not problems, ("numbers next to outcome words in the prose (print them from the cell that computes "
                          "them, or list a definition/citation/worked example in prettynn.stated_numbers):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("chapter", notebooks.chapters(ROOT))
def test_every_stated_number_is_in_the_prose_with_a_reason(chapter):
    notebook = notebooks.read(notebooks.source_path(ROOT, chapter))
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for entry in stated_numbers(notebook):
        assert entry.get("why") in WHY, entry
        assert entry["text"] in prose, f"stated number not found in the prose: {entry['text']!r}"


@pytest.mark.parametrize(("text", "typed"), [
    ("With dropout the validation accuracy reaches 92.6%.", True),
    ("The gap shrinks from 9.6 to 7.4 points.", True),
    ("Batch norm trains 14 times faster (Ioffe & Szegedy 2015).", True),
    ("After 30 epochs the loss is flat.", True),
    ("Srivastava et al. (2014, §7.5) average the predictions.", False),
    ("The loss $L = -\\log p_{y}$ uses $10^{-12}$ as a floor.", False),
    ("A 3×3 kernel has 9 weights.", False),
    ("See Fig. 4 of Santurkar et al. 2018 for the loss landscape.", False),
    ("Call `accuracy(model, x, 0.5)` on the test set.", False),
    ("The softmax normalises over axis 1, and the loss averages over the batch.", False),
    ("A 2×2 pooling keeps the 1-NN accuracy on 2-D maps.", False),
    ("The second row pools 4 windows.", False),
    ("The forward pass takes 12 ms here.", True),
])
def test_the_scan_finds_typed_results_and_only_them(text, typed):
    assert bool(typed_results(text)) == typed
