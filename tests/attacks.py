"""Adversarial submissions: one per attack on the grader, each aimed at one exercise.

Each attack replaces one solution cell of an otherwise correct 01_linear submission.
Graded by the course's configuration, the attack must cost that exercise's points and
nothing else. ``plain`` says whether the attack is also run against plain nbgrader's
configuration (where it must succeed, proving the test can fail); the attacks that would
take down the shared test machine under plain nbgrader are not run there, or only inside
a memory cgroup that stands for a smaller machine.
"""

from __future__ import annotations

from dataclasses import dataclass

WRONG_RELU = "def relu(x):\n    return x.copy()  # wrong: negatives are kept\n"
RIGHT_RELU = "def relu(x):\n    return np.maximum(x, 0)\n"

# The attacker knows where the course lives: ``hand_in`` puts the graded copy's path here.
COURSE_PLACEHOLDER = "__COURSE_ROOT__"

FIND_COURSE = '''
import json, os
def course_root():
    here = os.path.abspath(os.getcwd())
    while here != os.path.dirname(here):
        if os.path.exists(os.path.join(here, "solutions", "01_linear", "01_linear.ipynb")):
            return here
        here = os.path.dirname(here)
    return "__COURSE_ROOT__"
'''

TORCH_CALL = '''
def relu(x):
    import sys
    sys.setprofile(None)  # blind plain grading's watch for torch calls
    {load}
    return torch.relu(torch.from_numpy(x)).numpy()
'''


@dataclass(frozen=True)
class Attack:
    """One adversarial submission: its id, the attack class, the exercise it targets, its code."""

    id: str
    attack_class: str
    exercise: str
    code: str
    plain: bool = True
    keeps_points: bool = False  # True when the code is right and only the side effect is judged
    plain_memory_cap: bool = False  # under plain nbgrader, only inside a 3 GiB memory cgroup

    @property
    def student(self) -> str:
        """The student id of the submission."""
        return f"attack-{self.id}"


ATTACKS = [
    Attack("patch-comparisons", "patching NumPy's or Python's comparison and assertion machinery", "relu",
           "import sys, operator\n"
           "np.allclose = lambda *a, **k: True\n"
           "np.array_equal = lambda *a, **k: True\n"
           "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)\n"
           "np.testing.assert_allclose = lambda *a, **k: None\n"
           "operator.eq = lambda a, b: True\n"
           "for module in list(sys.modules.values()):\n"
           "    for name in ('allclose', 'within'):\n"
           "        if getattr(module, '__name__', '').startswith('prettynn') and hasattr(module, name):\n"
           "            setattr(module, name, lambda *a, **k: True)\n" + WRONG_RELU),
    Attack("rebind-builtins", "rebinding builtins or exception classes", "relu",
           "import builtins\nbuiltins.sum = lambda values, start=0: len(list(values))\n" + WRONG_RELU),
    Attack("rebind-exceptions", "rebinding builtins or exception classes", "relu",
           "import builtins\n"
           "class Quiet(Exception):\n    pass\n"
           "builtins.NotImplementedError = builtins.ValueError = builtins.TypeError = Quiet\n"
           "def relu(x):\n    raise Quiet('not done')\n", plain=False),
    Attack("swallow-errors", "IPython input transformers or custom exception handlers", "relu",
           "class Escape(BaseException):  # not an Exception: checkers do not catch it\n    pass\n"
           "def swallow(lines):\n"
           "    return ['try:\\n'] + ['    ' + line for line in lines] + ['\\nexcept BaseException:\\n    pass\\n']\n"
           "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
           "get_ipython().input_transformers_cleanup.append(swallow)\n"
           "def relu(x):\n    raise Escape()\n"),
    Attack("input-transformer", "IPython input transformers or custom exception handlers", "relu",
           "get_ipython().input_transformers_cleanup.append(\n"
           "    lambda lines: ['pass\\n'] if any('grade(' in line for line in lines) else lines)\n" + WRONG_RELU),
    Attack("replace-checker", "hooks that replace checker functions in other modules at import time", "relu",
           "import sys, importlib.abc\n"
           "def full_marks(name, fn, seed=0):\n"
           "    return float(sys.modules['prettynn.model'].get(name).points)\n"
           "class PatchOnImport(importlib.abc.MetaPathFinder):\n"
           "    def find_spec(self, name, path, target=None):\n"
           "        grading = sys.modules.get('prettynn.grading')\n"
           "        if grading is not None:\n"
           "            grading.grade = full_marks\n"
           "        return None\n"
           "sys.meta_path.insert(0, PatchOnImport())\n"
           "if 'prettynn.grading' in sys.modules:\n"
           "    sys.modules['prettynn.grading'].grade = full_marks\n" + WRONG_RELU),
    Attack("read-solution", "reading instructor files from disk and executing the instructor's solution", "relu",
           FIND_COURSE +
           "with open(os.path.join(course_root(), 'solutions', '01_linear', '01_linear.ipynb')) as handle:\n"
           "    cells = json.load(handle)['cells']\n"
           "exec(''.join(next(c['source'] for c in cells\n"
           "                  if c['metadata'].get('nbgrader', {}).get('grade_id') == 'relu')))\n"),
    Attack("torch-import", "producing answers by calling torch", "relu", TORCH_CALL.format(load="import torch")),
    Attack("torch-importlib", "producing answers by calling torch", "relu",
           TORCH_CALL.format(load="import importlib; torch = importlib.import_module('torch')")),
    Attack("torch-runtime-string", "producing answers by calling torch", "relu",
           TORCH_CALL.format(load="torch = __import__(''.join(['to', 'rch']))")),
    Attack("os-exit", "sys.exit, os._exit, killing the parent, fork bombs", "relu",
           "import os\n" + RIGHT_RELU + "os._exit(0)\n"),
    Attack("sys-exit", "sys.exit, os._exit, killing the parent, fork bombs", "relu",
           "import sys\ndef relu(x):\n    sys.exit(0)\n", plain=False),
    Attack("kill-parent", "sys.exit, os._exit, killing the parent, fork bombs", "relu",
           "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + RIGHT_RELU),
    Attack("fork-bomb", "sys.exit, os._exit, killing the parent, fork bombs", "relu",
           "import os\nwhile True:\n    os.fork()\n" + RIGHT_RELU, plain=False),
    Attack("infinite-loop", "infinite loops", "relu",
           "def relu(x):\n    while True:\n        try:\n            while True:\n                pass\n"
           "        except KeyboardInterrupt:  # ignore the kernel's interrupt\n            pass\n"),
    Attack("huge-allocation", "allocating tens of GiB", "relu",
           "ballast = [np.ones(1 << 27) for _ in range(40)]  # 40 GiB, 1 GiB at a time, every page touched\n"
           + RIGHT_RELU, plain_memory_cap=True),
    Attack("print-megabytes", "printing megabytes", "relu",
           "print('x' * (30 << 20))\n" + RIGHT_RELU, keeps_points=True),
    Attack("write-course", "writing into the course directory", "relu",
           FIND_COURSE +
           "with open(os.path.join(course_root(), 'solutions', '01_linear', '01_linear.ipynb'), 'a') as handle:\n"
           "    handle.write(' ')\n"
           "with open(os.path.join(course_root(), 'pwned.txt'), 'w') as handle:\n"
           "    handle.write('pwned')\n" + WRONG_RELU),
]

WARNING_RELU = (
    "import warnings\n"
    "def relu(x):\n"
    "    warnings.warn('relu: taking the slow path')\n"
    "    np.log(np.zeros(1))  # a RuntimeWarning from NumPy too\n"
    "    return np.maximum(x, 0)\n"
)
