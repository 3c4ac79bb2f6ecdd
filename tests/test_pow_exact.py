"""x^y gives a point the same bits wherever it sits, and finite derivatives where true ones are.

The value is C's pow, bit for bit as math.pow gives it (with C99's nan and infinities where
math.pow raises instead), except at the exponents 2, 0.5 and -1: those are one correctly
rounded operation (x*x, sqrt, 1/x), at least as accurate as pow. It must not depend on the
vector a point is in (length, position: SIMD loops have tails), on strides or broadcasting,
nor on the route core.c_pow takes (numpy's own loop where that is C's pow, else math.pow
element by element). `ref_pow` (tests/powref.py) states this point by point.

Derivatives: finite wherever the true ones are, checked against mpmath's closed forms at
orders 1 to 3 at extreme but valid points (tiny or huge bases and exponents), and the same
for a point alone and in a vector with points whose derivatives need rescuing.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from powref import ref_pow

from dezero_cli import api
from dezero_cli.api import derivatives
from dezero_cli.batch.rows import grad_rows
from dezero_cli.engine import power as core
from dezero_cli.engine.core import Variable
from dezero_cli.engine.power import Pow

mp.mp.dps = 60


def bits(x) -> np.ndarray:
    """float64 bits to compare, with every nan the same (C leaves a nan's sign unspecified)."""
    x = np.array(x, dtype=np.float64)
    return np.where(np.isnan(x), np.int64(0x7FF8000000000000), x.view(np.int64))


SPECIAL_BASES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, math.inf, -math.inf, math.nan, 5e-324]
SPECIAL_BASES += [-5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1e308, 1e-310]
SPECIAL_EXPONENTS = [2.0, 0.5, -1.0, 1.0, 0.0, -0.0, 3.0, -2.0, -0.5, 1 / 3, 2.5, 1e-20]
SPECIAL_EXPONENTS += [math.inf, -math.inf, math.nan, 1e300, -1e300, 2.0**53, 2.0**53 + 2, 1025.0]


def sample_points(n: int = 12000, seed: int = 20240611) -> tuple[np.ndarray, np.ndarray]:
    """Bases and exponents of every kind that matters, many of each, in a fixed order."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], n)
    base_kinds = [
        rng.uniform(0.0, 4.0, n),
        rng.uniform(-4.0, 4.0, n),
        sign * 10.0 ** rng.uniform(-320.0, 308.0, n),  # huge, tiny, subnormal
        sign * rng.integers(1, 2**20, n) * 5e-324,  # subnormal
        rng.integers(-12, 13, n).astype(float),
        rng.integers(-12, 13, n) / 2.0,
        rng.choice(SPECIAL_BASES, n),
    ]
    exponent_kinds = [
        rng.uniform(-4.0, 4.0, n),
        rng.integers(-12, 13, n).astype(float),  # with negative bases: real powers
        rng.integers(-12, 13, n) / 2.0,
        rng.choice([2.0, 0.5, -1.0], n),
        sign * 10.0 ** rng.uniform(-300.0, 300.0, n),
        rng.uniform(-400.0, 400.0, n),
        rng.choice(SPECIAL_EXPONENTS, n),
    ]
    pick_a, pick_b = rng.integers(0, len(base_kinds), n), rng.integers(0, len(exponent_kinds), n)
    a = np.choose(pick_a, base_kinds)
    b = np.choose(pick_b, exponent_kinds)
    return a, b


bases, exponents = sample_points()
wanted = bits([ref_pow(x, y) for x, y in zip(bases.tolist(), exponents.tolist())])


@pytest.fixture(params=["numpy", "math.pow"])
def route(request, monkeypatch):
    """Each way core.c_pow can go, forced, so both are checked on any machine that has them."""
    if request.param == "numpy":
        if not core._numpy_power_is_c_pow():
            pytest.skip("numpy's float64 power loop is not C's pow on this machine")
        monkeypatch.setattr(core, "_pow_loop", np.power)
    else:
        monkeypatch.setattr(core, "_pow_loop", core._pow_each)
    return request.param


# --- the reports -----------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.5056378869683275, 0.42672114373024106])
def test_square_is_the_same_alone_in_a_vector_and_in_batch(x):
    # The second point is one where C's pow(x, 2) is 1 ulp off x*x (glibc); numpy took x*x for
    # a scalar exponent 2 but pow for a vector of them (and SVML's pow on AVX-512).
    alone = api.grad("x^y", {"x": x, "y": 2.0})
    want = (x * x, 2.0 * x, x * x * math.log(x))
    assert (alone.value, alone.grad["x"], alone.grad["y"]) == want
    vector = api.grad("x^y", {"x": np.array([x, 1.0]), "y": 2.0})
    assert (vector.value[0], vector.grad["x"][0], vector.grad["y"][0]) == want
    column = np.full(45, x)
    rows = grad_rows("x^y", {"x": column, "y": np.full(45, 2.0)}, 45)
    assert set(rows.value.tolist()) == {x * x}
    assert set(rows.grad["y"].tolist()) == {x * x * math.log(x)}


def test_square_from_the_command_line(dezero):
    x = "0.42672114373024106"
    one = dezero("grad", "x^y", "--x", x, "--y", "2", "-q").stdout.split()
    two = dezero("grad", "x^y", "--x", f"{x},1", "--y", "2", "-q").stdout.splitlines()
    assert one == ["0.18209093450644503", "0.8534422874604821", "-0.155073108022078"]
    assert [line.split()[0] for line in two] == one
    out = dezero("batch", "--expr", "x^y", stdin=f"x,y\n{x},2\n{x},2.0\n".encode()).stdout
    assert out.splitlines()[1:] == [f"{x},2,{','.join(one)},", f"{x},2.0,{','.join(one)},"]


def test_square_root_of_minus_zero_is_plus_zero_everywhere(dezero):
    alone = api.grad("x^y", {"x": -0.0, "y": 0.5})
    assert repr(float(alone.value)) == "0.0"
    vector = api.grad("x^y", {"x": np.array([-0.0, 1.0]), "y": 0.5})
    assert repr(float(vector.value[0])) == "0.0"
    rows = grad_rows("x^y", {"x": np.array([-0.0, 4.0]), "y": np.array([0.5, 0.5])}, 2)
    assert [repr(v) for v in rows.value.tolist()] == ["0.0", "2.0"]
    assert dezero("grad", "x^y", "--x", "-0.0", "--y", "0.5").stdout.startswith("f = 0.0\n")
    assert float(api.evaluate("x^0.5", {"x": -math.inf}).value) == math.inf  # C: pow(-inf, .5)


# --- the specification, point by point --------------------------------------------------------


def test_reference_points_cover_the_cases():
    finite = np.isfinite(bases) & np.isfinite(exponents)
    whole = exponents == np.round(exponents)
    assert np.sum((bases < 0) & whole & finite) > 1000  # negative bases, real powers
    assert np.sum((bases < 0) & ~whole & finite) > 1000  # not real: nan
    assert np.sum((np.abs(bases) < 2.2250738585072014e-308) & (bases != 0)) > 500  # subnormal
    assert np.sum(bases == 0) > 100 and np.sum(np.abs(bases) > 1e200) > 300
    for e in (2.0, 0.5, -1.0):
        assert np.sum(exponents == e) > 500
    assert np.sum(wanted == bits(math.inf)) > 100 and np.sum(wanted == bits(0.0)) > 100


def test_each_point_alone(route):
    pairs = list(zip(bases.tolist(), exponents.tolist()))
    with np.errstate(all="ignore"):
        got = bits([core.power(np.float64(x), np.float64(y)) for x, y in pairs])
        assert np.array_equal(got, wanted)
        got = bits([Pow()(Variable(np.array(x)), Variable(np.array(y))).data for x, y in pairs])
        assert np.array_equal(got, wanted)


@pytest.mark.parametrize("length", range(1, 41))
def test_vectors_of_every_length_and_every_position(route, length):
    # Consecutive chunks of the sample: each position of each length holds ~150 points.
    with np.errstate(all="ignore"):
        for start in range(0, len(bases) - length + 1, length):
            a, b = bases[start : start + length], exponents[start : start + length]
            assert np.array_equal(bits(core.power(a, b)), wanted[start : start + length])


@pytest.mark.parametrize("e", SPECIAL_EXPONENTS + [-3.0, 0.25, 7.0, -0.75])
def test_one_exponent_for_a_vector_of_bases(route, e):
    # The usual x^2, x^0.5 or x^3 with a constant exponent: numpy's exponent then has stride 0.
    want = bits([ref_pow(x, e) for x in bases.tolist()])
    with np.errstate(all="ignore"):
        assert np.array_equal(bits(core.power(bases, np.float64(e))), want)
        assert np.array_equal(bits(core.power(bases, np.full(len(bases), e))), want)
        for length in (1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 40):
            assert np.array_equal(bits(core.power(bases[:length], np.array(e))), want[:length])
        got = [core.power(np.float64(x), np.float64(e)) for x in bases[:500]]
        assert np.array_equal(bits(got), want[:500])


def test_one_base_for_a_vector_of_exponents(route):
    for x in SPECIAL_BASES + [3.0, -3.0, 0.1, 1e-300]:
        want = bits([ref_pow(x, y) for y in exponents.tolist()])
        with np.errstate(all="ignore"):
            assert np.array_equal(bits(core.power(np.float64(x), exponents)), want), x


def test_strided_broadcast_and_two_dimensional(route):
    with np.errstate(all="ignore"):
        assert np.array_equal(bits(core.power(bases[::3], exponents[::3])), wanted[::3])
        assert np.array_equal(bits(core.power(bases[::-1], exponents[::-1])), wanted[::-1])
        grid = core.power(bases[:6000].reshape(60, 100), exponents[:6000].reshape(60, 100))
        assert np.array_equal(bits(grid).ravel(), wanted[:6000])
        column = core.power(
            np.broadcast_to(bases[:50, None], (50, 7)), np.full((50, 7), exponents[7])
        )
        want = bits([ref_pow(x, exponents[7]) for x in bases[:50].tolist()])
        assert all(np.array_equal(bits(column[:, j]), want) for j in range(7))


def test_both_routes_give_the_same_bits():
    if not core._numpy_power_is_c_pow():
        pytest.skip("numpy's float64 power loop is not C's pow on this machine")
    with np.errstate(all="ignore"):
        assert np.array_equal(
            bits(np.power(bases, exponents)), bits(core._pow_each(bases, exponents))
        )


def test_the_route_is_numpy_only_where_numpy_says_its_loop_is_the_plain_one(monkeypatch):
    from numpy.lib import introspect

    def simd(func_name=None, signature=None):
        return {"power": {"ddd": {"current": "X86_V4", "available": "X86_V4 baseline"}}}

    monkeypatch.setattr(introspect, "opt_func_info", simd)
    assert core._numpy_power_is_c_pow() is False
    monkeypatch.setattr(core, "_pow_loop", None)
    assert core.power(np.float64(1.7), np.float64(-1.3)) == math.pow(1.7, -1.3)
    assert core._pow_loop is core._pow_each


@settings(max_examples=400, deadline=None)
@given(
    a=st.floats(allow_nan=True, allow_infinity=True),
    b=st.one_of(st.floats(), st.sampled_from(SPECIAL_EXPONENTS), st.integers(-40, 40).map(float)),
    length=st.integers(1, 40),
    data=st.data(),
)
def test_any_point_in_any_vector(a, b, length, data):
    at = data.draw(st.integers(0, length - 1))
    xs, ys = bases[:length].copy(), exponents[-length:].copy()
    xs[at], ys[at] = a, b
    with np.errstate(all="ignore"):
        alone = core.power(np.float64(a), np.float64(b))
        inside = core.power(xs, ys)[at]
        with_one_exponent = core.power(xs, np.float64(b))[at]
    assert bits(alone) == bits(inside) == bits(with_one_exponent) == bits(ref_pow(a, b))


# --- accuracy against mpmath -------------------------------------------------------------------


def ulps(got: float, exact) -> float:
    """|got - exact| in units of the last place of exact rounded to float64."""
    return float(abs(mp.mpf(got) - exact) / math.ulp(float(exact)))


def test_accuracy_against_mpmath_at_least_that_of_the_old_scalar_path():
    # Finite, nonzero, normal results only: there the error in ulps says how good a pow is.
    old, new, exact_ops = [], [], []
    for x, y in zip(bases.tolist(), exponents.tolist()):
        want = ref_pow(x, y)
        finite = math.isfinite(x) and math.isfinite(y) and math.isfinite(want)
        if not (finite and 1e-300 < abs(want) < 1e300):
            continue
        exact = mp.power(mp.mpf(x), mp.mpf(y)) if x > 0 else (-1) ** int(y) * mp.mpf(-x) ** y
        with np.errstate(all="ignore"):
            got = float(core.power(np.float64(x), np.float64(y)))
            before = float(np.power(np.float64(x), np.float64(y)))  # Pow's forward before
        new.append(ulps(got, exact))
        old.append(ulps(before, exact))
        if y in (2.0, 0.5, -1.0):
            exact_ops.append(new[-1])
    old, new = np.array(old), np.array(new)
    assert len(new) > 5000 and len(exact_ops) > 1000
    assert max(exact_ops) <= 0.5  # correctly rounded
    assert new.max() <= max(old.max(), 0.52)  # glibc's pow is within 0.52 ulp
    assert np.sum(new <= 0.5) >= np.sum(old <= 0.5)


# --- derivatives: finite wherever the true ones are --------------------------------------------


def partial(a: float, b: float, na: int, nb: int):
    """d^(na+nb) a^b / da^na db^nb for na + nb <= 3, from closed forms at 60 digits."""
    a, b = mp.mpf(a), mp.mpf(b)
    lg = mp.log(a) if a > 0 else mp.nan  # d/db: real only for a > 0

    def p(k):
        if a > 0:
            return mp.power(a, b - k)
        return (-1) ** int(b - k) * mp.power(-a, b - k)  # a < 0 with a whole b

    forms = {
        (1, 0): lambda: b * p(1),
        (0, 1): lambda: p(0) * lg,
        (2, 0): lambda: b * (b - 1) * p(2),
        (1, 1): lambda: p(1) * (1 + b * lg),
        (0, 2): lambda: p(0) * lg**2,
        (3, 0): lambda: b * (b - 1) * (b - 2) * p(3),
        (2, 1): lambda: p(2) * ((2 * b - 1) + b * (b - 1) * lg),
        (1, 2): lambda: p(1) * lg * (2 + b * lg),
        (0, 3): lambda: p(0) * lg**3,
    }
    return forms[na, nb]()


def tolerance(a: float, b: float, na: int, nb: int) -> mp.mpf:
    """What rounding may cost: a few ulps of the largest term the graph adds (mixed partials
    sum terms that can cancel, as at b = 0.5 near a = 1), and of the subnormal range. The
    exponent b - na of a partial by x is itself rounded to float64, which costs
    |log a| * |b - na| ulps more (72 at a = 5.6e15, b = -2.00001, second order)."""
    a, b = mp.mpf(a), mp.mpf(b)
    size = abs(mp.power(abs(a), b - na)) * max(1, abs(b)) ** na
    size *= max(1, abs(mp.log(abs(a)))) ** nb
    rounding = 64 + (2 * abs(mp.log(abs(a))) * abs(b - na) if na else 0)
    return rounding * mp.mpf(2) ** -52 * size + mp.mpf("1e-320")


BASES = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-100, 1e-20, 0.5]
BASES += [1 - 2**-52, 1 + 2**-52, 1.0000000001, 2.0, 1e20, 1e100, 1e200, 1e300]
BASES += [1.7976931348623157e308]
EXPONENTS = [1e-300, 1e-200, 1e-20, -1e-20, 1e-5, 0.5, 1.0, 1.5, 2.0, 3.0, -0.5, -1.0, -3.0]
EXPONENTS += [1e3, -1e3, 7.2e12, 1e15, -1e15, 1e100, 1e300, -1e300]
HUGE = mp.mpf(np.finfo(np.float64).max)


def check_against_mpmath(a: float, b: float, order: int = 3) -> list[str]:
    """Every partial up to `order` at (a, b): finite and close where the true one is finite,
    not a finite number where it overflows. The problems found, as text."""
    with np.errstate(all="ignore"):
        result = derivatives("x^y", {"x": a, "y": b}, order)
    wrt = ["x"] if a < 0 else ["x", "y"]
    problems = []
    for level in result.derivatives:
        for key, got in level.items():
            if any(name not in wrt for name in key):
                continue
            na, nb = key.count("x"), key.count("y")
            got, want = float(got), partial(a, b, na, nb)
            if abs(want) < HUGE:
                if not (math.isfinite(got) and abs(got - want) <= tolerance(a, b, na, nb)):
                    problems.append(f"{key} at ({a!r}, {b!r}): {got!r}, want {mp.nstr(want, 17)}")
            elif math.isfinite(got):
                problems.append(f"{key} at ({a!r}, {b!r}): {got!r}, but it overflows")
    return problems


def test_derivative_of_a_tiny_power_at_the_smallest_subnormal(dezero):
    # b * a^(b-1) at a = 5e-324, b = 1e-20: a^(b-1) alone is inf, the product 2.0e303.
    r = api.grad("x^1e-20", {"x": 5e-324})
    want = partial(5e-324, 1e-20, 1, 0)
    assert float(r.value) == 1.0 and ulps(float(r.grad["x"]), want) <= 2
    assert r.warnings == []
    out = dezero("grad", "x^1e-20", "--x", "5e-324")
    assert (out.stdout, out.stderr) == ("f = 1.0\ndf/dx = 2.024022533073106e+303\n", "")


def test_second_derivative_at_tiny_base_and_exponent(dezero):
    # d2/dx2 x^y at 1e-200, 1e-200 is b (b-1) a^(b-2) = -1e200 (a^(b-2) alone overflows).
    r = derivatives("x^y", {"x": 1e-200, "y": 1e-200}, 2)
    assert ulps(float(r.derivatives[1][("x", "x")]), partial(1e-200, 1e-200, 2, 0)) <= 2
    assert r.warnings == []
    out = dezero("grad", "x^y", "--x", "1e-200", "--y", "1e-200", "--order", "2", "-q")
    assert out.stdout.split() == [
        "1.0",
        "1.0",
        "-460.51701859880916",
        "-1e+200",
        "1e+200",
        "212075.92441913593",
    ]


def test_the_siblings():
    with np.errstate(all="ignore"):
        # x^0 at 5e-324: d/dx is 0 * a^-1 = 0, not 0 * inf = nan.
        assert float(api.grad("x^y", {"x": 5e-324, "y": 0.0}).grad["x"]) == 0.0
        # Near a = 1 with a large b, a^b overflows but d/db = a^b log(a) does not (nor d3f/dxdy2).
        r = derivatives("x^y", {"x": 1.0000000001, "y": 7.2e12}, 3)
        assert float(r.value) == math.inf
        assert ulps(float(r.grad["y"]), partial(1.0000000001, 7.2e12, 0, 1)) <= 8
        assert math.isfinite(float(r.derivatives[2][("x", "y", "y")]))
        # A huge b: b (b-1) overflows, a^(b-2) underflows; the true d2/dx2 is 0 (it was nan).
        r = derivatives("x^y", {"x": 0.5, "y": 1e300}, 2)
        assert float(r.derivatives[1][("x", "x")]) == 0.0


@pytest.mark.parametrize("a", BASES)
def test_every_partial_to_order_3_against_mpmath(a):
    problems = [p for b in EXPONENTS for p in check_against_mpmath(a, b)]
    assert problems == []


@pytest.mark.parametrize("a", [-5e-324, -1e-300, -1e-100, -0.5, -1.5, -1e100, -1e300])
def test_negative_bases_with_whole_exponents_against_mpmath(a):
    problems = []
    for b in (1.0, 2.0, 3.0, 7.0, -1.0, -2.0, -3.0, 1e3, 1001.0, -1e3, 2.0**60):
        problems += check_against_mpmath(a, b)
    assert problems == []


@settings(max_examples=150, deadline=None)
@given(
    a=st.floats(5e-324, 1e308),
    b=st.one_of(st.floats(-1e300, 1e300), st.floats(-1e-5, 1e-5), st.floats(-50.0, 50.0)),
)
@example(a=5611242948628010.0, b=-2.00001)  # the rounded exponent b - 2, see tolerance()
def test_random_points_against_mpmath(a, b):
    assert check_against_mpmath(a, b, order=2) == []


def all_partials(result, i=None) -> dict:
    return {
        key: float(level[key] if i is None else level[key][i])
        for level in result.derivatives
        for key in level
    }


def same_or_next(got: float, want: float, key) -> bool:
    """Bit for bit at order 1. From order 2 on, a vector that holds points whose derivatives
    need the whole products (ScaledPow) has more nodes in its graph, so the backward pass may
    add a point's terms in another order: the last bit may differ, nothing more."""
    if bits(got) == bits(want):
        return True
    finite = math.isfinite(got) and math.isfinite(want) and got != 0 and want != 0
    return len(key) > 1 and finite and abs(got - want) <= math.ulp(want)


POINTS = [
    (a, b)
    for a in SPECIAL_BASES[:-1] + [1e-200, 1.0000000001, -3.0, 1e300]
    for b in [1e-200, 1.5, 1e-20, 3.0, 7.2e12, 0.0, -0.0, 2.0, -1.0, 0.5, 1e300, -1e300, -2.0, 7.0]
]


@pytest.mark.parametrize("length", [2, 5, 7, 13])
def test_every_partial_is_the_same_alone_and_in_a_vector(length):
    # Points whose derivatives need the whole products beside points that do not: each
    # point's every partial to order 3, sign of zero included, as when it is alone.
    order = np.random.default_rng(length).permutation(len(POINTS))
    points = [POINTS[i] for i in order]
    with np.errstate(all="ignore"):
        alone = [all_partials(derivatives("x^y", {"x": a, "y": b}, 3)) for a, b in points]
        for start in range(0, len(points), length):
            chunk = points[start : start + length]
            xs, ys = np.array([p[0] for p in chunk]), np.array([p[1] for p in chunk])
            together = derivatives("x^y", {"x": xs, "y": ys}, 3)
            for i in range(len(chunk)):
                got, want = all_partials(together, i), alone[start + i]
                assert all(same_or_next(got[k], want[k], k) for k in want), (chunk[i], got, want)
