"""nbgrader_config.py: the course's autograde pipeline, as data, in an order that works.

The file is executed with a stand-in for nbgrader's ``get_config``; the test reads the lists it
sets. The rules: the exporter is the tolerant one; RebuildFromRelease comes before every other
sanitizer (they must see the rebuilt notebook); GradeInSandbox comes before LimitOutput and
SaveAutoGrades (they read what it writes); nbgrader's Execute runs nowhere (the notebook is never
executed); every class named can be imported; feedback hides hidden tests.
"""

from __future__ import annotations

import importlib

import pytest
from traitlets.config import Config

from .conftest import ROOT


def course_config() -> Config:
    """What nbgrader_config.py sets, read without nbgrader."""
    config = Config()
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),  # noqa: S102
         {"get_config": lambda: config})
    return config


def short(path: str) -> str:
    """A dotted class path's class name."""
    return path.rsplit(".", 1)[-1]


CONFIG = course_config()
SANITIZE = [short(p) for p in CONFIG.Autograde.sanitize_preprocessors]
AUTOGRADE = [short(p) for p in CONFIG.Autograde.autograde_preprocessors]


def test_the_exporter_is_the_tolerant_one():
    assert short(CONFIG.Autograde.exporter_class) == "TolerantNotebookExporter"


def test_the_submission_is_rebuilt_before_any_other_sanitizer():
    assert SANITIZE[0] == "RebuildFromRelease"


@pytest.mark.parametrize(("before", "after"), [("GradeInSandbox", "LimitOutput"), ("GradeInSandbox", "SaveAutoGrades")])
def test_grading_comes_before_what_reads_its_results(before, after):
    assert AUTOGRADE.index(before) < AUTOGRADE.index(after)


def test_the_notebook_is_never_executed():
    assert "Execute" not in SANITIZE + AUTOGRADE


def test_every_class_named_can_be_imported():
    paths = [CONFIG.Autograde.exporter_class, *CONFIG.Autograde.sanitize_preprocessors,
             *CONFIG.Autograde.autograde_preprocessors, *CONFIG.GenerateFeedback.preprocessors]
    for path in paths:
        module, name = path.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), name), path


def test_each_course_plugin_lives_in_a_module_named_after_it():
    course = [p for p in [CONFIG.Autograde.exporter_class, *CONFIG.Autograde.sanitize_preprocessors,
                          *CONFIG.Autograde.autograde_preprocessors] if p.startswith("prettynn.")]
    assert len(course) == 3
    for path in course:
        module, name = path.rsplit(".", 1)
        assert module.rsplit(".", 1)[-1] == name.lower(), path


def test_feedback_hides_the_hidden_tests():
    assert "HideHiddenTests" in [short(p) for p in CONFIG.GenerateFeedback.preprocessors]
