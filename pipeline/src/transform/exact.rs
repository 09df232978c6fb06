//! Exact numbers for the transformation rules: fractions of 128-bit integers.
//!
//! `+`, `-`, `*` and `/` are exact; rounding happens once, when a value is
//! stored in a column of a given scale, by the rounding the contract states.
//! An overflow or a division by zero is an [`ExactError`], never a panic or
//! a wrapped value.

use std::cmp::Ordering;
use std::fmt;

/// A rational number `num / den`, `den > 0`, in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exact {
    num: i128,
    den: i128,
}

/// Why an exact computation has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactError {
    /// A result does not fit 128-bit integers (or the target column).
    Overflow,
    /// A division by zero.
    DivisionByZero,
    /// The value has more decimal places than the scale, and the rounding
    /// rule refuses to round.
    NeedsRounding,
    /// Text that is not a decimal number.
    NotANumber,
}

impl fmt::Display for ExactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExactError::Overflow => "arithmetic overflow",
            ExactError::DivisionByZero => "division by zero",
            ExactError::NeedsRounding => {
                "more decimal places than the column keeps, and rounding is refused"
            }
            ExactError::NotANumber => "not a decimal number",
        })
    }
}

/// How a value with more decimal places than a column keeps is brought to its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// To the nearest, ties to even (banker's rounding).
    HalfEven,
    /// To the nearest, ties away from zero.
    HalfUp,
    /// Toward zero.
    Truncate,
    /// Refuse the value ([`ExactError::NeedsRounding`]).
    Refuse,
}

/// The greatest common divisor of `|a|` and `|b|`, at least 1. Whole
/// numbers (a denominator of 1) and values within 64 bits skip 128-bit
/// division, which is most of the cost of exact arithmetic.
fn gcd(a: i128, b: i128) -> i128 {
    let (a, b) = (a.unsigned_abs(), b.unsigned_abs());
    if a == 1 || b == 1 {
        return 1;
    }
    let g = match (u64::try_from(a), u64::try_from(b)) {
        (Ok(mut a), Ok(mut b)) => {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            u128::from(a)
        }
        _ => {
            let (mut a, mut b) = (a, b);
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        }
    };
    // At most |i128::MIN| = 2^127, which only gcd(i128::MIN, 0) reaches.
    i128::try_from(g).unwrap_or(i128::MAX).max(1)
}

/// `10^n`, if it fits.
pub(crate) fn pow10(n: u32) -> Result<i128, ExactError> {
    10_i128.checked_pow(n).ok_or(ExactError::Overflow)
}

impl Exact {
    /// Zero.
    pub const ZERO: Exact = Exact { num: 0, den: 1 };

    /// `num / den` in lowest terms.
    ///
    /// # Errors
    ///
    /// [`ExactError::DivisionByZero`] when `den` is zero, [`ExactError::Overflow`]
    /// when the sign cannot be normalized (`i128::MIN`).
    pub fn ratio(num: i128, den: i128) -> Result<Self, ExactError> {
        if den == 0 {
            return Err(ExactError::DivisionByZero);
        }
        let g = gcd(num, den);
        let (mut num, mut den) = if g == 1 { (num, den) } else { (num / g, den / g) };
        if den < 0 {
            num = num.checked_neg().ok_or(ExactError::Overflow)?;
            den = den.checked_neg().ok_or(ExactError::Overflow)?;
        }
        Ok(Self { num, den })
    }

    /// A whole number.
    pub fn int(n: i128) -> Self {
        Self { num: n, den: 1 }
    }

    /// `units / 10^scale`: an integer of a column with that scale
    /// (cents are scale 2).
    ///
    /// # Errors
    ///
    /// [`ExactError::Overflow`] for a scale beyond 38.
    pub fn scaled(units: i128, scale: u32) -> Result<Self, ExactError> {
        Self::ratio(units, pow10(scale)?)
    }

    /// Parses decimal text: an optional sign, digits, and at most one `.`
    /// (`12`, `-0.5`, `.25`, `1234.5678`). No exponent, no grouping.
    ///
    /// # Errors
    ///
    /// [`ExactError::NotANumber`] for anything else, [`ExactError::Overflow`]
    /// past 38 digits.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_pipeline::transform::{Exact, Round};
    /// let third = Exact::parse("1")?.checked_div(Exact::parse("3")?)?;
    /// assert_eq!(third.checked_mul(Exact::int(3))?, Exact::int(1));
    /// assert_eq!(Exact::parse("2.675")?.to_scaled(2, Round::HalfEven)?, 268);
    /// # Ok::<(), triglot_pipeline::transform::ExactError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ExactError> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err(ExactError::NotANumber);
        }
        let mut units: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i128::from(b - b'0')))
                .ok_or(ExactError::Overflow)?;
        }
        if negative {
            units = -units;
        }
        Self::scaled(units, u32::try_from(fraction.len()).map_err(|_| ExactError::Overflow)?)
    }

    /// `self + other`.
    ///
    /// # Errors
    ///
    /// [`ExactError::Overflow`].
    pub fn checked_add(self, other: Self) -> Result<Self, ExactError> {
        let g = gcd(self.den, other.den);
        let (a, b) = (self.den / g, other.den / g);
        let num = self
            .num
            .checked_mul(b)
            .and_then(|x| other.num.checked_mul(a).and_then(|y| x.checked_add(y)))
            .ok_or(ExactError::Overflow)?;
        let den = self.den.checked_mul(b).ok_or(ExactError::Overflow)?;
        Self::ratio(num, den)
    }

    /// `self - other`.
    ///
    /// # Errors
    ///
    /// [`ExactError::Overflow`].
    pub fn checked_sub(self, other: Self) -> Result<Self, ExactError> {
        self.checked_add(other.checked_neg()?)
    }

    /// `-self`.
    ///
    /// # Errors
    ///
    /// [`ExactError::Overflow`] for `i128::MIN`.
    pub fn checked_neg(self) -> Result<Self, ExactError> {
        Ok(Self { num: self.num.checked_neg().ok_or(ExactError::Overflow)?, den: self.den })
    }

    /// `self * other`.
    ///
    /// # Errors
    ///
    /// [`ExactError::Overflow`].
    pub fn checked_mul(self, other: Self) -> Result<Self, ExactError> {
        let g1 = gcd(self.num, other.den);
        let g2 = gcd(other.num, self.den);
        let num = (self.num / g1).checked_mul(other.num / g2).ok_or(ExactError::Overflow)?;
        let den = (self.den / g2).checked_mul(other.den / g1).ok_or(ExactError::Overflow)?;
        Self::ratio(num, den)
    }

    /// `self / other`.
    ///
    /// # Errors
    ///
    /// [`ExactError::DivisionByZero`], [`ExactError::Overflow`].
    pub fn checked_div(self, other: Self) -> Result<Self, ExactError> {
        if other.num == 0 {
            return Err(ExactError::DivisionByZero);
        }
        self.checked_mul(Self::ratio(other.den, other.num)?)
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// The integer of a column with `scale` decimal places that holds this
    /// value (`12.345` at scale 2 is `1235` rounding half up), by `round`.
    ///
    /// # Errors
    ///
    /// [`ExactError::NeedsRounding`] when `round` refuses,
    /// [`ExactError::Overflow`] when it does not fit.
    pub fn to_scaled(self, scale: u32, round: Round) -> Result<i128, ExactError> {
        let n = self.num.checked_mul(pow10(scale)?).ok_or(ExactError::Overflow)?;
        let (q, r) = (n / self.den, n % self.den);
        if r == 0 {
            return Ok(q);
        }
        let away = if n < 0 { -1 } else { 1 };
        let twice = r.abs().checked_mul(2).ok_or(ExactError::Overflow)?;
        let up = match round {
            Round::Refuse => return Err(ExactError::NeedsRounding),
            Round::Truncate => false,
            Round::HalfUp => twice >= self.den,
            Round::HalfEven => match twice.cmp(&self.den) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => q % 2 != 0,
            },
        };
        if up { q.checked_add(away).ok_or(ExactError::Overflow) } else { Ok(q) }
    }

    /// The value as decimal text with exactly `scale` places, by `round`.
    ///
    /// # Errors
    ///
    /// As [`Exact::to_scaled`].
    pub fn to_text(self, scale: u32, round: Round) -> Result<String, ExactError> {
        let units = self.to_scaled(scale, round)?;
        let digits = units.unsigned_abs().to_string();
        let sign = if units < 0 { "-" } else { "" };
        if scale == 0 {
            return Ok(format!("{sign}{digits}"));
        }
        let scale = scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        Ok(format!("{sign}{whole}.{fraction}"))
    }
}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Self) -> Ordering {
        // a/b vs c/d with b, d > 0: compare a*d with c*b; only when those
        // products pass 128 bits, by sign and then approximately.
        match (self.num.checked_mul(other.den), other.num.checked_mul(self.den)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (sa, sb) = (self.num.signum(), other.num.signum());
                if sa != sb {
                    return sa.cmp(&sb);
                }
                let a = (self.num as f64) / (self.den as f64);
                let b = (other.num as f64) / (other.den as f64);
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(text: &str) -> Exact {
        Exact::parse(text).expect("a number")
    }

    #[test]
    fn arithmetic_is_exact_and_rounds_once_at_the_end() -> Result<(), ExactError> {
        // 3 × 3.33 × (1 − 0.10) = 8.991 → 8.99
        let amount = x("3").checked_mul(x("3.33"))?.checked_mul(x("1").checked_sub(x("0.10"))?)?;
        assert_eq!(amount.to_scaled(2, Round::HalfUp)?, 899);
        assert_eq!(x("1").checked_div(x("3"))?.checked_mul(x("3"))?, x("1"));
        assert_eq!(x("0.1").checked_add(x("0.2"))?, x("0.3"));
        assert_eq!(x("10").checked_div(x("4"))?.to_text(3, Round::Refuse)?, "2.500");
        assert_eq!(x("-0.005").to_text(2, Round::HalfUp)?, "-0.01");
        assert_eq!(x("-0.005").to_text(2, Round::HalfEven)?, "0.00");
        Ok(())
    }

    #[test]
    fn the_rounding_rules_differ_only_on_ties_and_refusal() -> Result<(), ExactError> {
        assert_eq!(x("2.675").to_scaled(2, Round::HalfEven)?, 268);
        assert_eq!(x("2.665").to_scaled(2, Round::HalfEven)?, 266);
        assert_eq!(x("2.665").to_scaled(2, Round::HalfUp)?, 267);
        assert_eq!(x("2.669").to_scaled(2, Round::Truncate)?, 266);
        assert_eq!(x("2.665").to_scaled(2, Round::Refuse), Err(ExactError::NeedsRounding));
        assert_eq!(x("2.66").to_scaled(2, Round::Refuse)?, 266);
        Ok(())
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors_not_panics() {
        let big = Exact::int(i128::MAX);
        assert_eq!(big.checked_add(Exact::int(1)), Err(ExactError::Overflow));
        assert_eq!(big.checked_mul(Exact::int(2)), Err(ExactError::Overflow));
        assert_eq!(Exact::int(i128::MIN).checked_neg(), Err(ExactError::Overflow));
        assert_eq!(x("1").checked_div(Exact::ZERO), Err(ExactError::DivisionByZero));
        assert_eq!(big.to_scaled(2, Round::HalfUp), Err(ExactError::Overflow));
        assert_eq!(Exact::parse("1".repeat(60).as_str()), Err(ExactError::Overflow));
    }

    #[test]
    fn lowest_terms_hold_past_64_bits_and_at_the_edges() -> Result<(), ExactError> {
        let wide = i128::from(u64::MAX) * 6;
        assert_eq!(Exact::ratio(wide, 4)?, Exact::ratio(i128::from(u64::MAX) * 3, 2)?);
        assert_eq!(Exact::ratio(i128::MIN, 2)?, Exact::int(i128::MIN / 2));
        assert_eq!(Exact::ratio(i128::MIN, 1)?, Exact::int(i128::MIN));
        assert_eq!(Exact::ratio(6, -4)?, Exact::ratio(-3, 2)?);
        assert_eq!(Exact::ratio(0, 7)?, Exact::ZERO);
        Ok(())
    }

    #[test]
    fn only_plain_decimal_text_parses() {
        for bad in ["", "-", ".", "1e3", "1,5", "1.2.3", " 1", "0x10", "--1"] {
            assert_eq!(Exact::parse(bad), Err(ExactError::NotANumber), "{bad:?}");
        }
        assert_eq!(x(".25"), Exact::ratio(1, 4).unwrap());
        assert_eq!(x("+7."), Exact::int(7));
    }

    #[test]
    fn order_compares_values_not_spellings() {
        assert!(x("0.5") < x("0.75") && x("-1") < x("0") && x("1.0") == x("1"));
        assert!(Exact::int(i128::MAX) > Exact::ratio(1, 3).unwrap());
    }
}
