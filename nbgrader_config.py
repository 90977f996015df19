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
c.CourseDirectory.db_url = "sqlite:///autograde/gradebook.db"

# Students clone the release; the student list is kept in the gradebook by
# `nbgrader autograde --create` (the default), so no roster is needed here.

# Generating the release: no outputs in the committed notebooks.
c.ClearOutput.enabled = True

# Autograding: a cell may run for at most 60 s (the MLP demo trains for a few seconds).
c.Execute.timeout = 60

# Feedback must not show hidden tests: strip their source before the HTML export.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "prettynn.course.hide_hidden_tests.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
