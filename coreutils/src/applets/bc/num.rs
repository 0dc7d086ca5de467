//! bc's numbers: arbitrary-precision decimals (a num-bigint mantissa and a
//! count of fraction digits), with POSIX bc's rules for the scale of results.

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The value `m / 10^s`.
#[derive(Clone, Debug, Default)]
pub struct Num {
    pub m: BigInt,
    pub s: u32,
}

/// 10^n.
fn ten(n: u32) -> BigInt {
    BigInt::from(10u32).pow(n)
}

impl Num {
    /// An integer.
    pub fn int(v: i64) -> Num {
        Num {
            m: BigInt::from(v),
            s: 0,
        }
    }

    /// 1 or 0 for a truth value.
    pub fn truth(b: bool) -> Num {
        Num::int(i64::from(b))
    }

    pub fn is_zero(&self) -> bool {
        self.m.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.m.is_negative()
    }

    /// The same value with `s` fraction digits (truncating toward zero).
    pub fn rescale(&self, s: u32) -> Num {
        let m = if s >= self.s {
            &self.m * ten(s - self.s)
        } else {
            &self.m / ten(self.s - s)
        };
        Num { m, s }
    }

    /// The integer part, if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        self.rescale(0).m.to_i64()
    }

    /// Parses a literal in base `ibase` (bc's rules: a single digit is its own
    /// value whatever the base; fraction digits keep their count as the scale).
    pub fn parse(lit: &str, ibase: u32) -> Num {
        let digit = |c: char| c.to_digit(36).unwrap_or(0);
        let (int, frac) = lit.split_once('.').unwrap_or((lit, ""));
        if ibase == 10 {
            let m: BigInt = format!("0{int}{frac}")
                .chars()
                .fold(BigInt::zero(), |acc, c| acc * 10u32 + digit(c));
            return Num {
                m,
                s: frac.len() as u32,
            };
        }
        // Digits at or above the base count as base-1, except a lone digit.
        let lone = int.len() == 1 && frac.is_empty();
        let d = |c: char| {
            if lone {
                digit(c)
            } else {
                digit(c).min(ibase - 1)
            }
        };
        let ip = int
            .chars()
            .fold(BigInt::zero(), |acc, c| acc * ibase + d(c));
        let mut v = Num { m: ip, s: 0 };
        if !frac.is_empty() {
            // Σ d_k / base^k, kept to as many decimal digits as there are fraction digits.
            let s = frac.len() as u32;
            let mut f = Num {
                m: BigInt::zero(),
                s,
            };
            let mut denom = BigInt::one();
            let mut acc = BigInt::zero();
            for c in frac.chars() {
                denom *= ibase;
                acc = acc * ibase + digit(c).min(ibase - 1);
            }
            f.m = acc * ten(s) / denom;
            v = v.add(&f);
        }
        v
    }

    pub fn add(&self, o: &Num) -> Num {
        let s = self.s.max(o.s);
        Num {
            m: self.rescale(s).m + o.rescale(s).m,
            s,
        }
    }

    pub fn sub(&self, o: &Num) -> Num {
        self.add(&o.neg())
    }

    pub fn neg(&self) -> Num {
        Num {
            m: -&self.m,
            s: self.s,
        }
    }

    /// The product, to min(sa+sb, max(scale, sa, sb)) digits.
    pub fn mul(&self, o: &Num, scale: u32) -> Num {
        let full = Num {
            m: &self.m * &o.m,
            s: self.s + o.s,
        };
        full.rescale(full.s.min(scale.max(self.s).max(o.s)))
    }

    /// The quotient to `scale` digits; None for a zero divisor.
    pub fn div(&self, o: &Num, scale: u32) -> Option<Num> {
        if o.is_zero() {
            return None;
        }
        let num = &self.m * ten(scale + o.s);
        let den = &o.m * ten(self.s);
        Some(Num {
            m: num / den,
            s: scale,
        })
    }

    /// bc's remainder: a - (a/b)*b, the quotient to `scale` digits.
    pub fn rem(&self, o: &Num, scale: u32) -> Option<Num> {
        let q = self.div(o, scale)?;
        let s = (scale + o.s).max(self.s);
        let prod = Num {
            m: &q.m * &o.m,
            s: q.s + o.s,
        };
        Some(self.rescale(s.max(prod.s)).sub(&prod).rescale(s))
    }

    /// self^n (n an integer), to bc's scale; None for 0 to a negative power.
    pub fn pow(&self, n: i64, scale: u32) -> Option<Num> {
        let e = n.unsigned_abs();
        let exp = u32::try_from(e).ok()?;
        let full = Num {
            m: self.m.pow(exp),
            s: self.s.checked_mul(exp)?,
        };
        if n < 0 {
            return Num::int(1).div(&full, scale);
        }
        let rs = (self.s.saturating_mul(exp)).min(scale.max(self.s));
        Some(full.rescale(rs))
    }

    /// The square root to max(scale, own scale) digits; None when negative.
    pub fn sqrt(&self, scale: u32) -> Option<Num> {
        if self.is_negative() {
            return None;
        }
        let rs = scale.max(self.s);
        // floor(sqrt(m * 10^(2rs - s))) has rs fraction digits.
        let m = (&self.m * ten(2 * rs - self.s)).sqrt();
        Some(Num { m, s: rs })
    }

    pub fn cmp(&self, o: &Num) -> std::cmp::Ordering {
        let s = self.s.max(o.s);
        self.rescale(s).m.cmp(&o.rescale(s).m)
    }

    /// bc's length(): significant digits.
    pub fn length(&self) -> u32 {
        if self.is_zero() {
            return self.s.max(1);
        }
        let digits = self.m.abs().to_string().len() as u32;
        digits.max(self.s)
    }

    /// The number as bc prints it in base `obase`, lines cut at 70 columns
    /// (68 digits and a backslash).
    pub fn format(&self, obase: u32) -> String {
        let text = self.digits(obase);
        let mut out = String::new();
        let chars: Vec<char> = text.chars().collect();
        for (i, chunk) in chars.chunks(68).enumerate() {
            if i > 0 {
                out.push_str("\\\n");
            }
            out.extend(chunk);
        }
        out
    }

    fn digits(&self, obase: u32) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let sign = if self.is_negative() { "-" } else { "" };
        let abs = Num {
            m: self.m.abs(),
            s: self.s,
        };
        let int = abs.rescale(0).m;
        let frac = abs.sub(&Num {
            m: int.clone(),
            s: 0,
        });
        if obase == 10 {
            let i = if int.is_zero() {
                String::new()
            } else {
                int.to_string()
            };
            if self.s == 0 {
                return format!("{sign}{i}");
            }
            let f = frac.m.to_string();
            let pad = "0".repeat(self.s as usize - f.len());
            return format!("{sign}{i}.{pad}{f}");
        }
        // Bases above 16 print each digit as a space and a decimal group.
        let wide = obase > 16;
        let width = (obase - 1).to_string().len();
        let digit = |d: u32| {
            if wide {
                format!(" {d:0width$}")
            } else {
                std::char::from_digit(d, 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase()
                    .to_string()
            }
        };
        let mut s = String::from(sign);
        if !int.is_zero() {
            let (_, ds) = int.to_radix_be(obase);
            s.extend(ds.iter().map(|&d| digit(u32::from(d))));
        } else if wide {
            s.push_str(&digit(0));
        }
        if self.s > 0 {
            s.push('.');
            // Fraction digits until they resolve 10^-scale, as GNU does.
            let mut f = frac;
            let mut resolved = BigInt::one();
            let limit = ten(self.s);
            while resolved < limit {
                f = Num {
                    m: &f.m * obase,
                    s: f.s,
                };
                let d = f.rescale(0).m;
                s.push_str(&digit(d.to_u32().unwrap_or(0)));
                f = f.sub(&Num { m: d, s: 0 });
                resolved *= obase;
            }
        }
        s
    }
}
