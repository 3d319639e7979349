"""A tiny, safe expression language for spec files: ``"${make_divisible(c * alpha)}"``.

A field value that is a string of the form ``${...}`` is an expression.  It is
parsed with :mod:`ast` and evaluated by walking a whitelist of nodes; Python's
``eval`` is never called and nothing outside the whitelist is reachable:

- literals: integers, floats, ``true``/``false`` (also ``True``/``False``), strings;
- names: the file's parameters and variables, block arguments, and a few
  context variables (``in_channels``, ``rep``...), looked up by the caller;
- arithmetic ``+ - * / // % **`` and unary ``- + not``, on numbers only;
- comparisons ``== != < <= > >=`` (chains allowed), ``and``, ``or``,
  ``a if condition else b``;
- calls of the functions in :data:`FUNCTIONS` (and any the caller adds, such
  as ``channels('name')``), with positional or keyword arguments.

Attributes, subscripts, lambdas, comprehensions and the rest are refused when
the expression is parsed.  Numbers are kept small enough to stay cheap: an
integer beyond 10**100, a float that is not finite, or a power with a huge
exponent is an error, as is a division by zero.
"""
from __future__ import annotations

import ast
import math
import operator
from functools import lru_cache
from typing import Any, Callable, Mapping

from calc.errors import CalcError

MAX_LENGTH = 500
MAX_INT = 10**100


class ExprError(CalcError):
    """An expression that cannot be parsed or evaluated (the caller adds where)."""


def is_expr(value: Any) -> bool:
    """True for a string that is one whole expression, ``${...}``."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def check_text(value: str) -> None:
    """A plain string may not hide an expression in the middle: ``"x${a}"`` is a
    mistake, not a template (expressions are always the whole value)."""
    if "${" in value and not is_expr(value):
        raise ExprError("an expression must be the whole value, written \"${...}\"")


def _round(x: float, ndigits: int | None = None) -> float:
    if ndigits is None:
        return round(x)
    if not isinstance(ndigits, int) or isinstance(ndigits, bool) or not -20 <= ndigits <= 20:
        raise ExprError(f"round(): ndigits must be an integer in [-20, 20], received {ndigits!r}")
    return round(x, ndigits)


def _make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    from calc.blocks import make_divisible

    if not isinstance(divisor, int) or isinstance(divisor, bool) or divisor < 1:
        raise ExprError(f"make_divisible(): divisor must be an integer >= 1, received {divisor!r}")
    return make_divisible(v, divisor, min_value)


def _numbers(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            if a is not None and not _is_number(a):
                raise ExprError(f"{name}() takes numbers, received {a!r}")
        return fn(*args, **kwargs)

    return call


#: Functions every expression may call.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _numbers(fn, name)
    for name, fn in {
        "min": min, "max": max, "abs": abs, "int": int, "float": float, "round": _round,
        "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt,
        "make_divisible": _make_divisible,
    }.items()
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**", ast.USub: "-", ast.UAdd: "+"}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_CONSTANTS = {"true": True, "false": False}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float))  # bool is an int


def _check(node: ast.AST) -> None:
    """Refuse every node outside the whitelist (at parse time)."""
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str)):
            raise ExprError(f"literal {node.value!r} is not allowed")
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left), _check(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        _check(node.operand)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v)
    elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        _check(node.left)
        for c in node.comparators:
            _check(c)
    elif isinstance(node, ast.IfExp):
        _check(node.test), _check(node.body), _check(node.orelse)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExprError("*arguments are not allowed")
            _check(a)
        for k in node.keywords:
            if k.arg is None:
                raise ExprError("**arguments are not allowed")
            _check(k.value)
    else:
        what = type(node).__name__ if not isinstance(node, ast.Call) else "calling anything but a function name"
        raise ExprError(f"{what} is not allowed (only arithmetic, comparisons, and/or/not, "
                        f"'a if c else b' and function calls)")


@lru_cache(maxsize=4096)
def parse(src: str) -> ast.expr:
    """Parse the text inside ``${...}``; raises :class:`ExprError`."""
    if len(src) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    if not src.strip():
        raise ExprError("empty expression")
    import warnings

    try:
        with warnings.catch_warnings():  # a SyntaxWarning ('"\d"', "x is 1") must not reach stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"invalid expression: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExprError("invalid expression") from None
    _check(tree.body)
    return tree.body


def _bounded(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        raise ExprError(f"result {v} is not a finite number")
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise ExprError("number too large (beyond 10**100)")
    return v


def _power(a: Any, b: Any) -> Any:
    if b > 1 and abs(a) > 1 and b * math.log2(abs(a)) > 400:
        raise ExprError(f"{a} ** {b} is too large")
    if a == 0 and b < 0:
        raise ZeroDivisionError
    return a**b


class _Evaluator:
    def __init__(self, names: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]]):
        self.names = names
        self.functions = functions

    def eval(self, node: ast.expr) -> Any:
        match node:
            case ast.Constant(value=v):
                return v
            case ast.Name(id=name):
                if name in _CONSTANTS:
                    return _CONSTANTS[name]
                return self.names(name)
            case ast.BinOp(left=left, op=op, right=right):
                a, b = self.eval(left), self.eval(right)
                sym = _SYMBOLS[type(op)]
                for v in (a, b):
                    if not _is_number(v):
                        raise ExprError(f"operator {sym} needs numbers, received {v!r}")
                if isinstance(op, ast.Pow):
                    return _bounded(_power(a, b))
                return _bounded(_BINOPS[type(op)](a, b))
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not self.eval(operand)
            case ast.UnaryOp(op=op, operand=operand):
                v = self.eval(operand)
                if not _is_number(v):
                    raise ExprError(f"operator {_SYMBOLS[type(op)]} needs a number, received {v!r}")
                return -v if isinstance(op, ast.USub) else +v
            case ast.BoolOp(op=op, values=values):
                result: Any = None
                for v in values:
                    result = self.eval(v)
                    if isinstance(op, ast.And) and not result or isinstance(op, ast.Or) and result:
                        return result
                return result
            case ast.Compare(left=left, ops=ops, comparators=comps):
                a = self.eval(left)
                for op, comp in zip(ops, comps):
                    b = self.eval(comp)
                    if not isinstance(op, (ast.Eq, ast.NotEq)) and _is_number(a) != _is_number(b):
                        raise ExprError(f"cannot compare {a!r} with {b!r}")
                    try:
                        holds = _COMPARE[type(op)](a, b)
                    except TypeError:
                        raise ExprError(f"cannot compare {a!r} with {b!r}") from None
                    if not holds:
                        return False
                    a = b
                return True
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.eval(body) if self.eval(test) else self.eval(orelse)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=keywords):
                fn = self.functions.get(name)
                if fn is None:
                    known = ", ".join(sorted(self.functions))
                    raise ExprError(f"unknown function {name}() (known: {known})")
                pos = [self.eval(a) for a in args]
                kw = {k.arg: self.eval(k.value) for k in keywords}
                try:
                    return _bounded(fn(*pos, **kw))
                except CalcError:
                    raise
                except (TypeError, ValueError, ArithmeticError) as e:
                    raise ExprError(f"{name}(): {e}") from None
        raise ExprError(f"{type(node).__name__} is not allowed")  # unreachable after _check


def evaluate(src: str, names: Callable[[str], Any],
             functions: Mapping[str, Callable[..., Any]] = FUNCTIONS) -> Any:
    """Evaluate the text inside ``${...}``.  ``names(name)`` returns a variable's
    value or raises :class:`ExprError`; ``functions`` are the callable names."""
    tree = parse(src)
    try:
        return _bounded(_Evaluator(names, functions).eval(tree))
    except ZeroDivisionError:
        raise ExprError("division by zero") from None
    except (OverflowError, ArithmeticError):
        raise ExprError("number too large") from None
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
    except CalcError:
        raise
    except (TypeError, ValueError) as e:  # an operation on values it does not take
        raise ExprError(f"invalid operation: {e}") from None
