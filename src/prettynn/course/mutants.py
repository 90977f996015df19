"""Mutants of a solution cell: one small change at one site of its solution region.

The mutation operators are ``OPERATORS``. They are a small ``ast`` transformer of our own:
the maintained mutation tools mutate a project's files and run its test command on each
mutant (mutmut 3 writes a trampolined copy of the package and its operators are internal
libcst functions; cosmic-ray 8 loads parso-based operator plugins into a session database
and brings aiohttp, gitpython and SQLAlchemy along; mutatest, unmaintained since 2022, works
on files too). None takes one function's source, and none has the operators that matter
for array code (``sum``/``mean``, ``axis``, slice and ``range`` bounds, transposes,
``floor``/``ceil``), which would have to be written anyway.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import random
from typing import Callable, Iterator

from . import notebook_regions

MAX_MUTANTS = 400  # per exercise; more are sampled


# ------------------------------------------------------------------------------ operators


ARITHMETIC_SWAPS = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult, ast.FloorDiv),
                    ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,), ast.MatMult: (ast.Mult,)}
COMPARISON_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
           ast.MatMult: "@", ast.Mod: "%", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not"}
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
NUMPY_NAMES = ("np", "numpy")


def changed(node: ast.AST, **fields) -> ast.AST:
    """A copy of ``node`` with ``fields`` set."""
    new = copy.deepcopy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def number(value) -> ast.expr:
    """A numeric literal as the parser reads it (a negative one is a unary minus)."""
    return ast.UnaryOp(ast.USub(), ast.Constant(-value)) if value < 0 else ast.Constant(value)


def shifted(node: ast.expr, delta: int) -> ast.expr:
    """``node + delta``, folded when ``node`` is an integer literal."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return number(node.value + delta)
    return ast.BinOp(copy.deepcopy(node), ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def off_by_one(node: ast.expr) -> Iterator[ast.expr]:
    """``node + 1`` and ``node - 1``."""
    yield shifted(node, 1)
    yield shifted(node, -1)


def called_name(node: ast.AST) -> str:
    """The name a call calls (``range``, ``np.arange`` -> ``arange``, ``x.sum`` -> ``sum``), or ''."""
    if not isinstance(node, ast.Call):
        return ""
    if isinstance(node.func, ast.Name):
        return node.func.id
    return node.func.attr if isinstance(node.func, ast.Attribute) else ""


def with_argument(call: ast.Call, index: int, value: ast.expr) -> ast.Call:
    """A copy of ``call`` whose positional argument ``index`` is ``value``."""
    args = copy.deepcopy(call.args)
    args[index] = value
    return changed(call, args=args)


def arithmetic_operator(node: ast.AST) -> Iterator[ast.AST]:
    """``+`` <-> ``-``, ``*`` <-> ``/``, ``/`` <-> ``//``, ``**`` -> ``*``, ``@`` -> ``*`` (also in ``+=`` etc.)."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        for operator in ARITHMETIC_SWAPS.get(type(node.op), ()):
            yield changed(node, op=operator())


def comparison_operator(node: ast.AST) -> Iterator[ast.AST]:
    """``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``is`` <-> ``is not``, one comparison at a time."""
    if isinstance(node, ast.Compare):
        for index, operator in enumerate(node.ops):
            if type(operator) in COMPARISON_SWAPS:
                ops = list(node.ops)
                ops[index] = COMPARISON_SWAPS[type(operator)]()
                yield changed(node, ops=ops)


def sum_mean(node: ast.AST) -> Iterator[ast.AST]:
    """``sum`` <-> ``mean``: ``np.sum``/``np.mean`` and the methods ``.sum()``/``.mean()``."""
    other = {"sum": "mean", "mean": "sum"}.get(called_name(node))
    if other and isinstance(node.func, ast.Attribute):
        yield changed(node, func=changed(node.func, attr=other))


def axis_changed(node: ast.AST) -> Iterator[ast.AST]:
    """An ``axis=`` integer one more or one less; one axis of an ``axis=`` tuple left out."""
    if not isinstance(node, ast.Call):
        return
    for index, keyword in enumerate(node.keywords):
        if keyword.arg != "axis":
            continue
        value = keyword.value
        if isinstance(value, ast.Constant) and type(value.value) is int:
            replacements = list(off_by_one(value))
        elif isinstance(value, ast.Tuple) and len(value.elts) > 1:
            replacements = [changed(value, elts=value.elts[:i] + value.elts[i + 1:]) for i in range(len(value.elts))]
        else:
            replacements = []
        for replacement in replacements:
            keywords = copy.deepcopy(node.keywords)
            keywords[index].value = replacement
            yield changed(node, keywords=keywords)


def slice_bound(node: ast.AST) -> Iterator[ast.AST]:
    """A slice's start or stop one more or one less (``a[i:j]`` and ``slice(i, j, k)``)."""
    if isinstance(node, ast.Slice):
        for field in ("lower", "upper"):
            if getattr(node, field) is not None:
                for bound in off_by_one(getattr(node, field)):
                    yield changed(node, **{field: bound})
    elif called_name(node) == "slice" and isinstance(node.func, ast.Name):
        for index in range(min(len(node.args), 2)):
            for bound in off_by_one(node.args[index]):
                yield with_argument(node, index, bound)


def range_bound(node: ast.AST) -> Iterator[ast.AST]:
    """A ``range``'s or ``np.arange``'s start or stop one more or one less."""
    if called_name(node) in ("range", "arange") and node.args and not node.keywords:
        for index in range(min(len(node.args), 2)):
            for bound in off_by_one(node.args[index]):
                yield with_argument(node, index, bound)


def term_dropped(node: ast.AST) -> Iterator[ast.AST]:
    """An arithmetic operation replaced by one of its operands (``a + b`` -> ``a``, ``b``)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC):
        yield copy.deepcopy(node.left)
        yield copy.deepcopy(node.right)


def transposed(value: ast.expr) -> ast.expr:
    """``value.T``."""
    return ast.Attribute(copy.deepcopy(value), "T", ast.Load())


def einsum_transposes(subscripts: str) -> Iterator[str]:
    """``einsum`` subscripts with two neighbouring indices of one operand (or of the output) swapped."""
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",") + ([output] if arrow else [])
    for position, term in enumerate(terms):
        for index in range(len(term) - 1):
            if term[index].isalpha() and term[index + 1].isalpha() and term[index] != term[index + 1]:
                new = list(terms)
                new[position] = term[:index] + term[index + 1] + term[index] + term[index + 2:]
                yield f"{','.join(new[:-1])}->{new[-1]}" if arrow else ",".join(new)


def transpose(node: ast.AST) -> Iterator[ast.AST]:
    """A transpose removed (``.T``, ``.transpose(...)``, ``np.transpose(a)``) or added (``.T`` on an
    operand of ``@``; two neighbouring indices of an ``einsum`` operand swapped)."""
    if called_name(node) == "einsum" and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        for subscripts in einsum_transposes(node.args[0].value):
            yield with_argument(node, 0, ast.Constant(subscripts))
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield copy.deepcopy(node.value)
    elif called_name(node) == "transpose" and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in NUMPY_NAMES:
            if node.args:
                yield copy.deepcopy(node.args[0])
        else:
            yield copy.deepcopy(owner)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if not (isinstance(operand, ast.Attribute) and operand.attr == "T"):
                yield changed(node, **{side: transposed(operand)})


def floor_ceil(node: ast.AST) -> Iterator[ast.AST]:
    """``floor`` <-> ``ceil`` (``math.`` or ``np.``)."""
    other = {"floor": "ceil", "ceil": "floor"}.get(called_name(node))
    if other and isinstance(node.func, ast.Attribute):
        yield changed(node, func=changed(node.func, attr=other))


def constant_changed(node: ast.AST) -> Iterator[ast.AST]:
    """A number ``c`` -> ``c + 1`` and ``-c`` (so 0 -> 1), 1 -> 0; ``True`` <-> ``False``."""
    if not isinstance(node, ast.Constant):
        return
    value = node.value
    if type(value) is bool:
        yield ast.Constant(not value)
    elif type(value) in (int, float):
        candidates = [value + 1] + ([-value] if value else []) + ([0 * value] if value == 1 else [])
        for new in dict.fromkeys(candidates):
            yield number(new)


def boolean_operator(node: ast.AST) -> Iterator[ast.AST]:
    """``and`` <-> ``or``."""
    if isinstance(node, ast.BoolOp):
        yield changed(node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And())


def not_removed(node: ast.AST) -> Iterator[ast.AST]:
    """``not x`` -> ``x``, ``~x`` -> ``x``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        yield copy.deepcopy(node.operand)


def minus_removed(node: ast.AST) -> Iterator[ast.AST]:
    """``-x`` -> ``x``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield copy.deepcopy(node.operand)


OPERATORS: dict[str, Callable[[ast.AST], Iterator[ast.AST]]] = {
    "arithmetic operator": arithmetic_operator,
    "comparison": comparison_operator,
    "sum/mean": sum_mean,
    "axis": axis_changed,
    "slice bound": slice_bound,
    "range bound": range_bound,
    "term dropped": term_dropped,
    "transpose": transpose,
    "floor/ceil": floor_ceil,
    "constant": constant_changed,
    "and/or": boolean_operator,
    "not removed": not_removed,
    "minus removed": minus_removed,
}


# ------------------------------------------------------------------------------ mutants of a cell


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One change at one site of a solution: the mutated cell and the lines that changed.

    ``line`` is the first changed line of the cell (1-based); ``removed`` and ``added`` are the
    changed lines before and after, stripped.
    """

    exercise: str
    operator: str
    line: int
    removed: tuple[str, ...]
    added: tuple[str, ...]
    source: str

    @property
    def diff(self) -> str:
        """The change as ``- old line`` / ``+ new line``."""
        return "\n".join([f"- {line}" for line in self.removed] + [f"+ {line}" for line in self.added])


def solution_regions(source: str) -> list[tuple[int, int]]:
    """The line numbers (1-based) of each ``BEGIN SOLUTION`` delimiter and its ``END SOLUTION``."""
    regions, begin = [], None
    for line_number, line in enumerate(source.split("\n"), 1):
        if line.strip() == notebook_regions.BEGIN_SOLUTION:
            begin = line_number
        elif line.strip() == notebook_regions.END_SOLUTION and begin is not None:
            regions.append((begin, line_number))
            begin = None
    return regions


def inside(node: ast.AST, regions: list[tuple[int, int]]) -> bool:
    """True when ``node`` (an expression or statement) lies between a region's delimiters."""
    if not hasattr(node, "lineno"):
        return False
    return any(begin < node.lineno and node.end_lineno < end for begin, end in regions)


def character_index(lines: list[str], line: int, byte_column: int) -> int:
    """The index in the source (``lines`` with their ends) of a position as ``ast`` gives it."""
    return sum(map(len, lines[:line - 1])) + len(lines[line - 1].encode()[:byte_column].decode())


def span(lines: list[str], node: ast.AST) -> tuple[int, int]:
    """Where ``node``'s text starts and ends in the source."""
    return (character_index(lines, node.lineno, node.col_offset),
            character_index(lines, node.end_lineno, node.end_col_offset))


def operator_gap(node: ast.AST, replacement: ast.AST) -> tuple[ast.AST, ast.AST, str, str] | None:
    """For a changed operator: the operands around it, its symbol and the new one; else ``None``."""
    if type(replacement) is not type(node):
        return None
    if isinstance(node, ast.BinOp) and type(node.op) is not type(replacement.op):
        return node.left, node.right, SYMBOLS[type(node.op)], SYMBOLS[type(replacement.op)]
    if isinstance(node, ast.AugAssign) and type(node.op) is not type(replacement.op):
        return node.target, node.value, SYMBOLS[type(node.op)] + "=", SYMBOLS[type(replacement.op)] + "="
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for index, (old, new) in enumerate(zip(node.ops, replacement.ops)):
            if type(old) is not type(new):
                return operands[index], operands[index + 1], SYMBOLS[type(old)], SYMBOLS[type(new)]
    return None


def renderings(source: str, node: ast.AST, replacement: ast.AST) -> Iterator[str]:
    """Candidate texts of the mutated cell, smallest change first: only the operator's symbol
    replaced, then the node's text replaced by the replacement, then by it in parentheses."""
    lines = source.splitlines(keepends=True)
    gap = operator_gap(node, replacement)
    if gap is not None:
        left, right, old, new = gap
        start, end = span(lines, left)[1], span(lines, right)[0]
        if old in source[start:end]:
            yield source[:start] + source[start:end].replace(old, new, 1) + source[end:]
    start, end = span(lines, node)
    text = ast.unparse(replacement)
    yield source[:start] + text + source[end:]
    yield source[:start] + f"({text})" + source[end:]


def parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    """Each node's parent, the field that holds it and its index in that field (``None`` for a
    single node), by the node's ``id``."""
    found = {}
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, ast.AST):
                found[id(value)] = (parent, field, None)
            elif isinstance(value, list):
                found.update({id(item): (parent, field, index) for index, item in enumerate(value)
                              if isinstance(item, ast.AST)})
    return found


def dump_with(tree: ast.AST, where: tuple[ast.AST, str, int | None], replacement: ast.AST) -> str:
    """``ast.dump`` of ``tree`` with the node at ``where`` replaced (the tree is left as it was)."""
    parent, field, index = where
    holder = getattr(parent, field)
    original = holder if index is None else holder[index]
    if index is None:
        setattr(parent, field, replacement)
    else:
        holder[index] = replacement
    try:
        return ast.dump(tree)
    finally:
        if index is None:
            setattr(parent, field, original)
        else:
            holder[index] = original


def rendered(source: str, tree: ast.AST, where, node: ast.AST, replacement: ast.AST) -> str | None:
    """The mutated cell's text: the first rendering that parses to the mutated tree, or ``None``."""
    expected = dump_with(tree, where, replacement)
    for candidate in renderings(source, node, replacement):
        try:
            if ast.dump(ast.parse(candidate)) == expected:
                return candidate
        except SyntaxError:
            continue
    return None


def changed_lines(before: str, after: str) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """The first changed line (1-based) and the changed lines of each text, stripped."""
    old, new = before.split("\n"), after.split("\n")
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return (start + 1, tuple(line.strip() for line in old[start:len(old) - end]),
            tuple(line.strip() for line in new[start:len(new) - end]))


def mutants(name: str, source: str, operators: dict | None = None) -> list[Mutant]:
    """Every mutant of the solution cell ``source`` of exercise ``name`` (each distinct text once, the
    first operator that made it named), in the order of the lines they change."""
    tree = ast.parse(source)
    regions = solution_regions(source)
    where = parents(tree)
    found: dict[str, Mutant] = {}
    for node in ast.walk(tree):
        if not inside(node, regions):
            continue
        for operator, mutate in (operators or OPERATORS).items():
            for replacement in mutate(node):
                text = rendered(source, tree, where[id(node)], node, replacement)
                if text is not None and text != source and text not in found:
                    found[text] = Mutant(name, operator, *changed_lines(source, text), text)
    return sorted(found.values(), key=lambda mutant: mutant.line)


def sample(candidates: list[Mutant], name: str, limit: int = MAX_MUTANTS) -> list[Mutant]:
    """At most ``limit`` of ``candidates``, drawn with a generator seeded by ``name``, in their order."""
    if len(candidates) <= limit:
        return candidates
    chosen = sorted(random.Random(name).sample(range(len(candidates)), limit))
    return [candidates[index] for index in chosen]


