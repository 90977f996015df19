"""Check = grade, end to end: the check cell's verdict in a real kernel agrees with nbgrader's.

Two students write the same functions. One relies on what only the notebook has (a helper
or torch from another cell, scipy, another exercise's function); the other keeps each
solution cell self-contained. Their notebooks are executed in a real Jupyter kernel, as a
student runs them, then handed in and graded by the course's real ``nbgrader autograde``.
For every exercise: the check passes exactly when the grade is full, and each mismatch is
announced by the check with the sentence that names its fix.
"""

from __future__ import annotations

import shutil

import nbclient
import nbformat
import pytest

from prettynn.course import notebooks, samples
from prettynn.model import get

from .cells import BACKWARD_WITH_HELPER, SOFTMAX_CELL
from .course import copy_course, graded_scores, nbgrader

pytestmark = pytest.mark.slow
CHAPTER = "01_linear"

ADD_BIAS = '''
def add_bias(out, bias):
    return out if bias is None else out + bias
'''
LINEAR = '''
def linear(x, weight, bias=None):
    return add_bias(x @ weight.T, bias)
'''

TORCH_BIAS_GRADIENT = '''
def linear_backward(grad_output, x, weight, bias=None):
    grad_bias = None if bias is None else torch.from_numpy(grad_output).sum(0).numpy()
    return grad_output @ weight, grad_output.T @ x, grad_bias
'''

# exercise: (a cell before the solution cell, the solution cell, what the check must say);
# torch fails in the notebook too (the check watches for it), the others pass there
RELIES_ON_THE_NOTEBOOK = {
    "linear": (ADD_BIAS, LINEAR, "`linear` uses `add_bias`, which is defined in another cell"),
    "linear_backward": ("import torch", TORCH_BIAS_GRADIENT,
                        "`linear_backward` uses torch, which the grader does not have"),
    "relu_backward": (None, "def relu_backward(grad_output, x):\n    return grad_output * (relu(x) > 0)\n",
                      "`relu_backward` calls `relu`, another exercise that the grader does not give it"),
    "cross_entropy": (None, "from scipy.special import logsumexp\n\ndef cross_entropy(logits, target):\n"
                            "    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(target)), target])\n",
                      "`cross_entropy`'s cell imports scipy, which the grader does not have"),
    "cross_entropy_backward": (SOFTMAX_CELL, BACKWARD_WITH_HELPER, "`cross_entropy_backward` uses `softmax`, which is defined in "
                                                  "another cell"),
}
SELF_CONTAINED = {
    "linear": ADD_BIAS + LINEAR,
    "relu_backward": "def relu_backward(grad_output, x):\n    return grad_output * (np.maximum(x, 0) > 0)\n",
    "cross_entropy": "def cross_entropy(logits, target):\n    log_norm = np.logaddexp.reduce(logits, axis=1)\n"
                     "    return np.mean(log_norm - logits[np.arange(len(target)), target])\n",
    "cross_entropy_backward": SOFTMAX_CELL + BACKWARD_WITH_HELPER,
}


def student_notebook(course, replace: dict, before: dict):
    """The release with solutions filled in, ``replace``'s cells rewritten and ``before``'s extra
    cells inserted just above their exercises' solution cells."""
    sample = {"student": "x", "assignment": CHAPTER, "fill": "solutions", "replace": replace}
    notebook = samples.submission(notebooks.read(notebooks.release_path(course, CHAPTER)),
                                  notebooks.read(notebooks.source_path(course, CHAPTER)), sample)
    for name, source in before.items():
        index = next(i for i, cell in enumerate(notebook.cells) if notebooks.grade_id(cell) == name)
        notebook.cells.insert(index, nbformat.v4.new_code_cell(source))
    return notebook


def run_in_kernel(notebook, folder):
    """Execute ``notebook`` in a real kernel, as a student runs it, errors and all."""
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    return client.execute()


def check_outputs(notebook) -> dict[str, str]:
    """``{exercise: what its check cell showed}``: 'pass', or the failure's class and message."""
    shown = {}
    for cell in notebook.cells:
        grade_id = notebooks.grade_id(cell)
        if grade_id.startswith("check_"):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            shown[grade_id[len("check_"):]] = f"{errors[0].ename}: {errors[0].evalue}" if errors else "pass"
    return shown


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    """Both students' notebooks, executed in a kernel, handed in and autograded in one nbgrader run."""
    course = copy_course(root, tmp_path_factory.mktemp("agreement"))
    shutil.rmtree(course / notebooks.SUBMITTED)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    students = {
        "relies-on-notebook": student_notebook(
            course, {name: cell for name, (_, cell, _) in RELIES_ON_THE_NOTEBOOK.items()},
            {name: extra for name, (extra, _, _) in RELIES_ON_THE_NOTEBOOK.items() if extra}),
        "self-contained": student_notebook(course, SELF_CONTAINED, {}),
    }
    checks = {}
    for student, notebook in students.items():
        path = course / notebooks.SUBMITTED / student / CHAPTER / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        executed = run_in_kernel(notebook, path.parent)
        nbformat.write(executed, path)
        checks[student] = check_outputs(executed)
    nbgrader(course, "autograde", CHAPTER)
    scores = {student: graded_scores(course, CHAPTER, student) for student in students}
    return checks, scores


@pytest.mark.parametrize("student", ["relies-on-notebook", "self-contained"])
def test_the_check_passes_exactly_when_the_grade_is_full(graded, student):
    checks, scores = graded
    for name, shown in checks[student].items():
        full = scores[student][f"test_{name}"] == get(name).points
        assert (shown == "pass") == full, f"{student}, {name}: check shows {shown!r}, grade full: {full}"


@pytest.mark.parametrize("name", list(RELIES_ON_THE_NOTEBOOK))
def test_each_mismatch_is_announced_before_submission(graded, name):
    checks, scores = graded
    shown = checks["relies-on-notebook"][name]
    headline = "FailsAlsoWhenGraded: " if "torch" in RELIES_ON_THE_NOTEBOOK[name][2] else "FailsWhenGraded: "
    assert shown.startswith(headline), shown
    assert RELIES_ON_THE_NOTEBOOK[name][2] in shown
    assert scores["relies-on-notebook"][f"test_{name}"] < get(name).points
