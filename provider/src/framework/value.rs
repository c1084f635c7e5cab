//! Terraform values: every position can be null or unknown.

use std::collections::BTreeMap;
use std::fmt;

use super::types::Type;

/// A Terraform number, kept exactly as it arrived.
///
/// Terraform numbers are arbitrary precision; the wire carries them as a
/// msgpack integer, a float, or a decimal string. Construction normalises so
/// that equal numbers compare equal (`1`, `1.0` and `"1"` are one value).
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
    /// A decimal that fits neither machine type without loss.
    Decimal(String),
}

/// Text that is not a number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a number")]
pub struct NumberError(pub String);

impl Number {
    pub fn from_f64(f: f64) -> Number {
        // An integral float within the machine integer range is that integer
        // exactly (|f| < 2^63 or 0 <= f < 2^64 converts without loss).
        if f.fract() == 0.0 && f.is_finite() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // 2^63 and 2^64 exactly (the casts round up to them).
            let (two_63, two_64) = (i64::MAX as f64, u64::MAX as f64);
            if f.abs() < two_63 {
                return Number::Int(f as i64);
            } else if (0.0..two_64).contains(&f) {
                return Number::UInt(f as u64);
            }
        }
        Number::Float(f)
    }

    pub fn from_u64(u: u64) -> Number {
        match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::UInt(u),
        }
    }

    /// Parse decimal text (`-12`, `3.25`, `1e400`), keeping precision.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let t = text.trim();
        if !is_decimal_syntax(t) {
            return Err(NumberError(text.to_string()));
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Number::Int(i));
        }
        if let Ok(u) = t.parse::<u64>() {
            return Ok(Number::UInt(u));
        }
        if let Ok(f) = t.parse::<f64>()
            && f.is_finite()
        {
            // Keep the float only if it prints back to the same text.
            let n = Number::from_f64(f);
            if n.to_string() == t {
                return Ok(n);
            }
        }
        Ok(Number::Decimal(t.to_string()))
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Number::Int(i) => Some(*i as f64),
            #[allow(clippy::cast_precision_loss)]
            Number::UInt(u) => Some(*u as f64),
            Number::Float(f) => Some(*f),
            Number::Decimal(s) => s.parse().ok(),
        }
    }
}

fn is_decimal_syntax(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - s;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::UInt(u) => write!(f, "{u}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(s) => f.write_str(s),
        }
    }
}

/// A value of some Terraform type.
///
/// `Null` and `Unknown` may stand in any position. Lists, sets and tuples
/// hold their elements in order; maps and objects are sorted by key so that
/// everything rendered from a value is deterministic.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. `refinements` keeps Terraform's refinement
    /// payload (msgpack extension 12) so it goes back exactly as it came.
    Unknown {
        refinements: Option<Vec<u8>>,
    },
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value at a position of the `dynamic` pseudo-type, with the concrete
    /// type it was sent with.
    Dynamic {
        ty: Type,
        value: Box<Value>,
    },
}

impl Value {
    pub const fn unknown() -> Value {
        Value::Unknown { refinements: None }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    pub fn object<I, K>(attrs: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic { value, .. } => value.is_null(),
            _ => false,
        }
    }

    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown { .. } => true,
            Value::Dynamic { value, .. } => value.is_unknown(),
            _ => false,
        }
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown { .. } => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic { value, .. } => value.is_wholly_known(),
            _ => true,
        }
    }

    /// Attribute of an object value; `None` for a missing attribute or a
    /// value that is not an object.
    pub fn attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            Value::Dynamic { value, .. } => value.attr(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic { value, .. } => value.as_str(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Dynamic { value, .. } => value.as_bool(),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            Value::Dynamic { value, .. } => value.as_number(),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            Value::Dynamic { value, .. } => value.as_elements(),
            _ => None,
        }
    }

    /// Entries of a map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            Value::Dynamic { value, .. } => value.as_entries(),
            _ => None,
        }
    }

    /// Set an attribute of an object value (no-op on anything else).
    pub fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int(i)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalise_so_equal_numbers_compare_equal() {
        assert_eq!(Number::parse("1").unwrap(), Number::from_f64(1.0));
        assert_eq!(Number::parse("2.5").unwrap(), Number::Float(2.5));
        // Big integral floats become the integer they exactly are.
        assert_eq!(
            Number::from_f64(2.315433740807746e17),
            Number::Int(231_543_374_080_774_592)
        );
        assert_eq!(
            Number::from_f64(1.0e19),
            Number::UInt(10_000_000_000_000_000_000)
        );
        assert_eq!(
            Number::from_f64(1.0e20),
            Number::parse("100000000000000000000").unwrap()
        );
        assert_eq!(
            Number::parse("18446744073709551615").unwrap(),
            Number::UInt(u64::MAX)
        );
        // Too precise for f64: kept as text.
        assert_eq!(
            Number::parse("3.14159265358979323846264338327950288").unwrap(),
            Number::Decimal("3.14159265358979323846264338327950288".into())
        );
        assert_eq!(
            Number::parse("123456789012345678901234567890").unwrap(),
            Number::Decimal("123456789012345678901234567890".into())
        );
    }

    #[test]
    fn non_numbers_are_rejected() {
        for t in ["", "-", "1.2.3", "abc", "1e", "NaN", "inf", "0x10"] {
            assert!(Number::parse(t).is_err(), "{t}");
        }
    }
}
