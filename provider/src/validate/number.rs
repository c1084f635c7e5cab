//! Whole numbers within a range: Terraform numbers are arbitrary precision,
//! so `1.5`, `2^64` or `1e400` reach the provider as they were written and
//! must be refused, never rounded, clamped or replaced by a default.

use crate::framework::Number;

/// `n` as an `i64` in `lo..=hi`, or why not (in words a user can act on).
pub fn whole_in_range(n: &Number, lo: i64, hi: i64) -> Result<i64, String> {
    match n {
        Number::Int(i) if (lo..=hi).contains(i) => Ok(*i),
        Number::Int(i) => Err(format!("{i} is outside the allowed range {lo} to {hi}")),
        Number::UInt(u) => Err(format!("{u} is outside the allowed range {lo} to {hi}")),
        Number::Float(f) if f.is_nan() => Err("NaN is not a number".into()),
        Number::Float(f) if f.is_infinite() => {
            Err(format!("{f} is not a whole number from {lo} to {hi}"))
        }
        Number::Float(f) => Err(format!("{f} is not a whole number")),
        Number::Decimal(s) if s.contains(['.', 'e', 'E']) => {
            Err(format!("{} is not a whole number", super::quoted_bare(s)))
        }
        Number::Decimal(s) => Err(format!(
            "{} is outside the allowed range {lo} to {hi}",
            super::quoted_bare(s)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_numbers_in_range_pass() {
        assert_eq!(whole_in_range(&Number::Int(5), 1, 10), Ok(5));
        assert!(whole_in_range(&Number::Int(0), 1, 10).is_err());
        assert!(
            whole_in_range(&Number::Float(1.5), 0, 10)
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(whole_in_range(&Number::Float(f64::NAN), 0, 10).is_err());
        assert!(whole_in_range(&Number::Float(f64::INFINITY), 0, 10).is_err());
        assert!(whole_in_range(&Number::UInt(u64::MAX), 0, i64::MAX).is_err());
        assert!(whole_in_range(&Number::Decimal("1e400".into()), 0, 10).is_err());
        assert!(
            whole_in_range(
                &Number::Decimal("123456789012345678901234567890".into()),
                0,
                10
            )
            .unwrap_err()
            .contains("outside")
        );
    }
}
