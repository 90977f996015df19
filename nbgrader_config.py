"""nbgrader configuration of the Pretty Neural Networks course.

The repository root is the course directory: run every nbgrader command from here.
"""

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "pretty-neural-networks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "autograde/submitted"
c.CourseDirectory.autograded_directory = "autograde/autograded"
c.CourseDirectory.feedback_directory = "autograde/feedback"
# Several `nbgrader autograde --student=...` processes may share the gradebook
# (`prettynn-course grade`): SQLite then waits up to 120 s for the writer's lock.
c.CourseDirectory.db_url = "sqlite:///autograde/gradebook.db?timeout=120"

# Students clone the release; the student list is kept in the gradebook by
# `nbgrader autograde --create` (the default), so no roster is needed here.

# Generating the release: no outputs in the committed notebooks.
c.ClearOutput.enabled = True

# Autograding, protected (one plugin per module of prettynn.course). A submission is read even
# when it is not valid JSON, rebuilt on the release (missing, duplicated or reordered
# cells, edited metadata, another kernel), and each exercise's solution cell runs alone
# in a sandbox; verdicts are computed in nbgrader's own process, against torch. The
# notebook itself is never executed, so there is no `Execute` step.
# The order matters and tests/test_nbgrader_config.py checks it: RebuildFromRelease before every
# other sanitizer (they must see the rebuilt notebook), GradeInSandbox first among the autograde
# steps (LimitOutput and SaveAutoGrades read what it writes), no Execute anywhere.
COURSE = "prettynn.course"
c.Autograde.exporter_class = f"{COURSE}.tolerantnotebookexporter.TolerantNotebookExporter"
c.Autograde.sanitize_preprocessors = [
    f"{COURSE}.rebuildfromrelease.RebuildFromRelease",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    f"{COURSE}.gradeinsandbox.GradeInSandbox",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Limits of one exercise's sandbox, in CPU seconds (a grade does not depend on how busy the machine
# is), each with a wall-clock backstop wall_clock_factor times as long, for code that waits.
c.GradeInSandbox.cell_seconds = 10
c.GradeInSandbox.case_seconds = 5
c.GradeInSandbox.total_seconds = 60
c.GradeInSandbox.wall_clock_factor = 4
c.GradeInSandbox.memory_mib = 2048

# Feedback is read offline: the course's template (nbgrader's feedback page) carries MathJax
# itself instead of loading it from a CDN (prettynn.course.offline_mathjax).
import nbgrader  # noqa: E402
from pathlib import Path  # noqa: E402

from prettynn.course import offline_mathjax  # noqa: E402

c.HTMLExporter.template_name = offline_mathjax.TEMPLATE_NAME
c.HTMLExporter.extra_template_basedirs = [
    str(offline_mathjax.TEMPLATES),
    str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
]
c.HTMLExporter.filters = {"offline_mathjax": "prettynn.course.offline_mathjax.offline_mathjax"}

# Feedback must not show hidden tests: strip their source before the HTML export.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "prettynn.course.hide_hidden_tests.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
