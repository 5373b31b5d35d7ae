#!/usr/bin/env python3
"""Reference values for Parley's RDP accountant (python3 standard library only).

An independent port of Opacus' RDP analysis (opacus/accountants/analysis/rdp.py: the log-space
A_alpha sums of Mironov, Talwar and Zhang 2019, and the RDP -> (eps, delta) conversion of Balle
et al. 2020, Theorem 21), written so that it shares no numerics with the TypeScript port:

- binomial coefficients are exact rationals (fractions.Fraction of the float alpha), then rounded;
- log(erfc(x)) uses math.erfc below x = 20 and the asymptotic series of erfc above it
  (the TypeScript side uses W. J. Cody's rational approximations).

Run: python3 bench/dp/opacus_rdp_reference.py > tests/fixtures/dp/opacus-rdp-reference.json
     npx biome format --write tests/fixtures/dp/opacus-rdp-reference.json
"""

import json
import math
import sys
from fractions import Fraction

DEFAULT_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + [float(a) for a in range(12, 64)]


def log_add(logx, logy):
    a, b = min(logx, logy), max(logx, logy)
    if a == -math.inf:
        return b
    return math.log1p(math.exp(a - b)) + b


def log_sub(logx, logy):
    if logx < logy:
        raise ValueError('The result of subtraction must be non-negative.')
    if logy == -math.inf:
        return logx
    if logx == logy:
        return -math.inf
    try:
        return math.log(math.expm1(logx - logy)) + logy
    except OverflowError:
        return logx


def log_erfc(x):
    if x < 20:
        return math.log(math.erfc(x))
    # erfc(x) = exp(-x^2) / (x sqrt(pi)) * sum_n (-1)^n (2n-1)!! / (2x^2)^n; terms shrink until n ~ x^2.
    x2 = float(Fraction(x) ** 2)
    total, term, n = 1.0, 1.0, 0
    while True:
        n += 1
        nxt = -term * (2 * n - 1) / (2 * x2)
        if abs(nxt) >= abs(term) or abs(nxt) < 1e-18:
            break
        term = nxt
        total += term
    return -x2 - math.log(x) - 0.5 * math.log(math.pi) + math.log(total)


def binomials(alpha):
    """C(alpha, 0), C(alpha, 1), ... of the float alpha as exact rationals, each correctly rounded."""
    a = Fraction(alpha)
    c = Fraction(1)
    k = 0
    while True:
        yield float(c)
        c = c * (a - k) / (k + 1)
        k += 1


def log_a_int(q, sigma, alpha):
    log_a = -math.inf
    for i in range(alpha + 1):
        log_coef_i = math.log(math.comb(alpha, i)) + i * math.log(q) + (alpha - i) * math.log(1 - q)
        s = log_coef_i + (i * i - i) / (2 * (sigma**2))
        log_a = log_add(log_a, s)
    return log_a


def log_a_frac(q, sigma, alpha):
    log_a0, log_a1 = -math.inf, -math.inf
    i = 0
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    coefs = binomials(alpha)
    while True:
        coef = next(coefs)
        log_coef = math.log(abs(coef))
        j = alpha - i
        log_t0 = log_coef + i * math.log(q) + j * math.log(1 - q)
        log_t1 = log_coef + j * math.log(q) + i * math.log(1 - q)
        log_e0 = math.log(0.5) + log_erfc((i - z0) / (math.sqrt(2) * sigma))
        log_e1 = math.log(0.5) + log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        log_s0 = log_t0 + (i * i - i) / (2 * (sigma**2)) + log_e0
        log_s1 = log_t1 + (j * j - j) / (2 * (sigma**2)) + log_e1
        if coef > 0:
            log_a0 = log_add(log_a0, log_s0)
            log_a1 = log_add(log_a1, log_s1)
        else:
            log_a0 = log_sub(log_a0, log_s0)
            log_a1 = log_sub(log_a1, log_s1)
        i += 1
        if max(log_s0, log_s1) < -30:
            break
    return log_add(log_a0, log_a1)


def rdp_one_step(q, sigma, alpha):
    if q == 0:
        return 0.0
    if sigma == 0:
        return math.inf
    if q == 1.0:
        return alpha / (2 * sigma**2)
    if math.isinf(alpha):
        return math.inf
    log_a = log_a_int(q, sigma, int(alpha)) if float(alpha).is_integer() else log_a_frac(q, sigma, alpha)
    return log_a / (alpha - 1)


def rdp_of_history(history, orders):
    """history: [(sigma, q, steps), ...], summed the way Opacus sums its per-entry arrays."""
    total = [0.0] * len(orders)
    for sigma, q, steps in history:
        for k, alpha in enumerate(orders):
            total[k] = total[k] + rdp_one_step(q, sigma, alpha) * steps
    return total


def privacy_spent(orders, rdp, delta):
    eps = []
    for alpha, r in zip(orders, rdp):
        eps.append(r - (math.log(delta) + math.log(alpha)) / (alpha - 1) + math.log((alpha - 1) / alpha))
    finite = [(e, k) for k, e in enumerate(eps) if not math.isnan(e)]
    if not finite:
        return math.inf, math.nan
    best = min(finite, key=lambda pair: (pair[0], pair[1]))
    return best[0], orders[best[1]]


# (name, history [(sigma, q, steps)], delta, orders or None for Opacus' defaults)
CASES = [
    ('abadi-mnist', [(4.0, 0.01, 10000)], 1e-5, None),
    ('gaussian-q1', [(1.0, 1.0, 1)], 1e-5, None),
    ('gaussian-q1-composed', [(2.0, 1.0, 100)], 1e-6, None),
    ('opacus-mnist', [(1.1, 256 / 60000, 60 * 235)], 1e-5, None),
    ('small-q-one-step', [(1.0, 1e-5, 10)], 1e-5, None),
    ('low-noise', [(0.5, 0.01, 1000)], 1e-5, None),
    ('very-low-noise', [(0.3, 0.001, 100)], 1e-5, None),
    ('moderate', [(0.8, 0.1, 100)], 1e-5, None),
    ('large-q', [(2.0, 0.5, 50)], 1e-6, None),
    ('high-noise-long', [(10.0, 0.003, 100000)], 1e-7, None),
    ('customer-level', [(1.2, 0.02, 2500)], 1e-6, None),
    ('tiny-delta', [(1.5, 0.005, 20000)], 1e-10, None),
    ('loose-delta', [(0.9, 0.05, 300)], 1e-2, None),
    ('two-phases', [(1.0, 0.01, 500), (2.0, 0.02, 300)], 1e-5, None),
    ('opacus-docstring', [(1.0, 1e-5, 10), (3.0, 1e-4, 4)], 1e-5, [float(a) for a in range(2, 33)]),
    ('fractional-orders', [(1.0, 0.05, 200)], 1e-5, [1.25, 1.5, 1.75, 2.5, 3.3, 4.75, 7.5, 12.5, 20.25]),
]


def main():
    cases = []
    for name, history, delta, orders in CASES:
        used = DEFAULT_ORDERS if orders is None else orders
        rdp = rdp_of_history(history, used)
        epsilon, alpha = privacy_spent(used, rdp, delta)
        cases.append(
            {
                'name': name,
                'history': [list(h) for h in history],
                'delta': delta,
                'orders': orders,
                'epsilon': epsilon,
                'alpha': alpha,
                'rdp': rdp,
            }
        )
    json.dump(
        {
            'generator': 'bench/dp/opacus_rdp_reference.py',
            'note': 'history entries are [noiseMultiplier, sampleRate, steps]; orders null = Opacus defaults',
            'cases': cases,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
