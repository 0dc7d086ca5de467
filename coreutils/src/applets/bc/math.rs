//! bc -l's library: s c a l e j, computed with guard digits and truncated to
//! the scale, as GNU's libmath does (its own series, not its code).

use super::num::Num;

/// Guard digits carried beyond the scale.
const GUARD: u32 = 12;

fn one() -> Num {
    Num::int(1)
}

/// Σ terms until a term is zero at scale `w`.
fn series(mut term: Num, mut next: impl FnMut(&Num, u32) -> Option<Num>, w: u32) -> Option<Num> {
    let mut sum = term.clone();
    let mut k = 1;
    while !term.is_zero() {
        term = next(&term, k)?;
        sum = sum.add(&term);
        k += 1;
    }
    Some(sum.rescale(w))
}

/// e^x.
pub fn exp(x: &Num, scale: u32) -> Option<Num> {
    if x.is_negative() {
        let w = scale + GUARD;
        return one().div(&exp(&x.neg(), w)?, scale);
    }
    // Halve x until it is below 1, then square the series' sum back.
    let mut k = 0u32;
    let mut y = x.clone();
    while y.cmp(&one()) != std::cmp::Ordering::Less {
        y = y.div(&Num::int(2), y.s.max(scale) + 2)?;
        k += 1;
    }
    let w = scale + GUARD + k;
    let sum = series(
        one(),
        |t, k| t.mul(&y, w).div(&Num::int(i64::from(k)), w),
        w,
    )?;
    let mut r = sum;
    for _ in 0..k {
        r = r.mul(&r, w);
    }
    Some(r.rescale(scale))
}

/// ln(x); GNU's value -(10^scale - 1) for x <= 0.
pub fn ln(x: &Num, scale: u32) -> Option<Num> {
    if x.is_negative() || x.is_zero() {
        let big = Num::int(10).pow(i64::from(scale), 0)?;
        return Some(one().sub(&big));
    }
    let w = scale + GUARD + 10;
    // Square roots bring x near 1: ln x = 2^k ln x^(1/2^k).
    let (lo, hi) = (Num::parse("0.5", 10), Num::int(2));
    let mut y = x.rescale(w);
    let mut f = 1i64;
    while y.cmp(&hi) != std::cmp::Ordering::Less || y.cmp(&lo) != std::cmp::Ordering::Greater {
        y = y.sqrt(w)?;
        f *= 2;
    }
    // ln y = 2 atanh(u), u = (y-1)/(y+1).
    let u = y.sub(&one()).div(&y.add(&one()), w)?;
    let u2 = u.mul(&u, w);
    let mut power = u.clone();
    let sum = series(
        u.clone(),
        |_, k| {
            power = power.mul(&u2, w);
            power.div(&Num::int(2 * i64::from(k) + 1), w)
        },
        w,
    )?;
    Some(sum.mul(&Num::int(2 * f), w).rescale(scale))
}

/// atan(x).
pub fn atan(x: &Num, scale: u32) -> Option<Num> {
    if x.is_negative() {
        return atan(&x.neg(), scale).map(|r| r.neg());
    }
    let w = scale + GUARD + 5;
    // atan x = 2 atan(x / (1 + sqrt(1 + x^2))), until x is small.
    let small = Num::parse("0.2", 10);
    let mut y = x.rescale(w);
    let mut f = 1i64;
    while y.cmp(&small) == std::cmp::Ordering::Greater {
        let r = one().add(&y.mul(&y, w)).sqrt(w)?;
        y = y.div(&one().add(&r), w)?;
        f *= 2;
    }
    let y2 = y.mul(&y, w);
    let mut power = y.clone();
    let sum = series(
        y.clone(),
        |_, k| {
            power = power.mul(&y2, w).neg();
            power.div(&Num::int(2 * i64::from(k) + 1), w)
        },
        w,
    )?;
    Some(sum.mul(&Num::int(f), w).rescale(scale))
}

/// sin(x).
pub fn sin(x: &Num, scale: u32) -> Option<Num> {
    let w = scale + GUARD + x.to_i64().unwrap_or(0).unsigned_abs().to_string().len() as u32;
    // Reduce by whole turns: x - 2πn.
    let pi = atan(&one(), w + 5)?.mul(&Num::int(4), w + 5);
    let turn = pi.mul(&Num::int(2), w + 5);
    let n = x.div(&turn, 0)?;
    let y = x.rescale(w + 5).sub(&turn.mul(&n, w + 5)).rescale(w);
    let y2 = y.mul(&y, w);
    let sum = series(
        y.clone(),
        |t, k| {
            let k = i64::from(k);
            t.mul(&y2, w).neg().div(&Num::int(2 * k * (2 * k + 1)), w)
        },
        w,
    )?;
    Some(sum.rescale(scale))
}

/// cos(x) = sin(x + π/2).
pub fn cos(x: &Num, scale: u32) -> Option<Num> {
    let w = scale + GUARD;
    let half_pi = atan(&one(), w)?.mul(&Num::int(2), w);
    sin(&x.rescale(w).add(&half_pi), scale)
}

/// The Bessel function J_n(x).
pub fn bessel(n: &Num, x: &Num, scale: u32) -> Option<Num> {
    let n = n.to_i64()?;
    let (n, sign) = if n < 0 { (-n, n % 2 != 0) } else { (n, false) };
    let w = scale + GUARD;
    let half = x.div(&Num::int(2), w)?;
    // (x/2)^n / n!
    let mut first = half.pow(n, w)?;
    for i in 2..=n {
        first = first.div(&Num::int(i), w)?;
    }
    let h2 = half.mul(&half, w);
    let sum = series(
        first,
        |t, k| {
            let k = i64::from(k);
            t.mul(&h2, w).neg().div(&Num::int(k * (k + n)), w)
        },
        w,
    )?;
    let r = sum.rescale(scale);
    Some(if sign { r.neg() } else { r })
}
