"""prettynn.reuse: a later chapter builds its networks from the reader's own earlier functions."""

from __future__ import annotations

import nbformat
import numpy as np

from prettynn.reuse import chapter_notebook, own_functions


def write_chapter(folder, cells: list[str]):
    """A chapter-01 notebook with the given code cells, in ``folder/01_linear/``."""
    path = folder / "01_linear" / "01_linear.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def test_passing_functions_are_the_readers_own_and_the_rest_stand_in(tmp_path, capsys):
    write_chapter(tmp_path, ["def relu(x):\n    return np.where(x > 0, x, 0.0)  # mine\n",
                             "def linear(x, weight, bias=None):\n    raise NotImplementedError()\n"])
    here = tmp_path / "02_dropout"
    here.mkdir()
    relu, linear = own_functions("01_linear", "relu", "linear", here=here)
    assert "01_linear.ipynb: relu" in relu.__code__.co_filename  # the reader's cell, run on its own
    assert linear.__name__ == "linear" and np.allclose(linear(np.eye(2), np.eye(2)), np.eye(2))
    line = capsys.readouterr().out
    assert "your own relu from 01_linear" in line and "reference stand-ins for linear" in line


def test_a_wrong_function_is_not_used(tmp_path, capsys):
    write_chapter(tmp_path, ["def relu(x):\n    return np.maximum(x, 1)\n"])
    (tmp_path / "02_dropout").mkdir()
    (relu,) = own_functions("01_linear", "relu", here=tmp_path / "02_dropout")
    assert np.array_equal(relu(np.array([-1.0, 0.5])), [0.0, 0.5])
    assert "reference stand-ins for relu" in capsys.readouterr().out


def test_the_books_pages_sit_side_by_side(tmp_path):
    path = tmp_path / "01_linear.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    assert chapter_notebook("01_linear", here=tmp_path) == path
    assert chapter_notebook("01_linear", here=tmp_path / "elsewhere") is None


def test_this_chapters_functions_are_used_only_when_they_pass_their_check(capsys):
    from prettynn.reuse import checked

    def relu(x):
        return np.maximum(x, 0.0)

    def relu_backward(grad_output, x):
        raise NotImplementedError()

    def linear(x, weight, bias=None):
        return x @ weight  # forgets the transpose and the bias

    own, standing_in, wrong = checked(relu, relu_backward, linear)
    assert own is relu
    assert standing_in is not relu_backward and np.array_equal(standing_in(np.ones(2), np.array([-1.0, 1.0])), [0, 1])
    assert wrong is not linear and np.allclose(wrong(np.eye(2), np.eye(2), np.ones(2)), np.eye(2) + 1)
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert line.startswith("Using your own relu.")
    assert "The reference stands in for relu_backward (not attempted yet), linear (its check fails" in line
