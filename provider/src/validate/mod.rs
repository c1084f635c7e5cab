//! Plan-time checks of identifiers, numbers and durations against the rules
//! of the system each value goes to (EKS, EC2, IAM, the Kubernetes API
//! server, the kernel), so a value that would fail at apply — or leave a
//! state that cannot be destroyed — is refused at its attribute with the
//! rule and the fix. Pure functions; the limits are data
//! (`schemas/limits.toml`, [`limits`]).

pub mod aws;
pub mod cluster;
pub mod declared;
pub mod duration;
pub mod ebs;
pub mod image;
pub mod instance_type;
pub mod karpenter;
pub mod kubernetes;
pub mod limits;
pub mod number;
pub mod url;
pub mod version;

pub use limits::Limits;

/// Longest part of a user's value repeated in a message.
const SHOWN_CHARS: usize = 64;

pub use crate::framework::diag::quoted;

/// Like [`quoted`], without the quotes (for numbers written as text).
pub fn quoted_bare(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        value.to_string()
    } else {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head}… ({n} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut() {
        assert_eq!(quoted("abc"), "\"abc\"");
        let q = quoted(&"x".repeat(1 << 20));
        assert!(q.ends_with("… (1048576 characters)"), "{q}");
        assert!(q.len() < 100);
    }
}
