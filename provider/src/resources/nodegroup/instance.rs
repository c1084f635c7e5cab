//! The identity of one `nested_nodegroup` resource instance: a random
//! nonce made when the create is planned, carried in private state from
//! PlanResourceChange to ApplyResourceChange and kept with the object.
//!
//! Every idempotency token and the ownership tag derive from it, so a retry
//! of the same create reuses it and another resource instance — another
//! state, or a second resource with the same name — never does. (Tokens
//! derived from `cluster:name` alone let two states share one node group.)

use serde::{Deserialize, Serialize};

/// Tag on the node group and its launch template naming the instance that
/// created them.
pub const TAG_INSTANCE: &str = "nested.dev/instance";
/// Tag on a launch template naming its node group (`cluster:name`), so a
/// create can find and delete templates earlier node groups of the name left.
pub const TAG_NODEGROUP: &str = "nested.dev/node-group";

/// What the resource keeps in Terraform's private state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Private {
    /// 32 hexadecimal digits; absent in states written before 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The node group was not created by `nested_nodegroup` but imported
    /// (adopted): its launch template is someone else's, so new versions
    /// keep the rest of its content.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
    /// Imported while another resource instance owned the node group (its
    /// `nested.dev/instance` tag named that one): the instance it is taken
    /// from, until the first apply here tags it as this instance's. Until
    /// then this resource neither changes nor deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_from: Option<String>,
    /// Refresh found the node group gone, or replaced by one this resource
    /// did not create: the resource stays in state so that the next apply
    /// (a replacement, or a destroy) deletes the launch template it owns.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// In a replacement's plan: the private state of the object it
    /// replaces. Terraform hands the replacement's delete half the new
    /// object's planned private state, not the old one's; the delete reads
    /// this (whose node group, whose template). Never kept with an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacing: Option<Box<Private>>,
}

impl Private {
    /// Private state as Terraform hands it back; anything unreadable (or
    /// empty) is "no instance", never an error: state stays usable.
    pub fn decode(bytes: &[u8]) -> Private {
        if bytes.is_empty() {
            return Private::default();
        }
        serde_json::from_slice::<Private>(bytes)
            .ok()
            .filter(Private::valid)
            .unwrap_or_default()
    }

    /// Whether every instance it names is one (a hand-edited or foreign
    /// private state is "no instance").
    fn valid(&self) -> bool {
        self.instance.as_deref().is_none_or(is_instance)
            && self.taken_from.as_deref().is_none_or(is_instance)
            && self.replacing.as_deref().is_none_or(Private::valid)
    }

    /// The private state of the object a delete removes: in a replacement,
    /// the old object's ([`Self::replacing`]), else this.
    pub fn of_deleted_object(self) -> Private {
        match self.replacing {
            Some(old) => *old,
            None => self,
        }
    }

    /// The first plan of a replacement: the old object's private state, to
    /// be carried into the new object's plan ([`Self::replacing`]).
    pub fn to_be_replaced(old: Private) -> Private {
        Private {
            replacing: Some(Box::new(Private {
                replacing: None,
                ..old
            })),
            ..Private::default()
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        if *self == Private::default() {
            return Vec::new();
        }
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn with_instance(instance: String) -> Private {
        Private {
            instance: Some(instance),
            ..Private::default()
        }
    }

    /// An adopted node group, before its first apply gives it an instance.
    pub fn adopted() -> Private {
        Private {
            adopted: true,
            ..Private::default()
        }
    }

    /// A node group imported from resource instance `owner` (its tag), before
    /// the first apply here takes it over.
    pub fn taking_over(owner: String) -> Private {
        Private {
            taken_from: Some(owner),
            ..Private::default()
        }
    }

    /// Whether this resource instance owns the node group it holds: not
    /// while an import's takeover is still to be applied.
    pub fn owns(&self) -> bool {
        self.taken_from.is_none()
    }
}

/// Whether `s` is an instance nonce (32 hex digits), as this provider
/// writes them in the `nested.dev/instance` tag.
pub fn is_instance(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number source failed: {0}")]
pub struct NonceError(String);

/// A fresh instance nonce: 128 random bits from the OS.
pub fn new_instance() -> Result<String, NonceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| NonceError(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A stable, printable idempotency token of at most 64 characters (the
/// EC2 limit): the same parts give the same token in every process.
pub fn token(instance: &str, parts: &[&str]) -> String {
    fn fnv1a(seed: u64, parts: &[&str]) -> u64 {
        let mut h = seed;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }
    let mut all = vec![instance];
    all.extend_from_slice(parts);
    format!(
        "nested-{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, &all),
        fnv1a(0x8422_2325_cbf2_9ce4, &all)
    )
}

/// A token for one update call: the SDK retries the call with it, and no
/// later update ever reuses it (a config changed A→B→A→B would otherwise
/// get the first update's answer back instead of being applied).
pub fn call_token(parts: &[&str]) -> String {
    let nonce = new_instance().unwrap_or_else(|_| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{now:032x}")
    });
    token(&nonce, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_unique_and_round_trip_through_private_state() {
        let a = new_instance().unwrap();
        let b = new_instance().unwrap();
        assert_ne!(a, b);
        assert!(is_instance(&a));
        let p = Private::with_instance(a.clone());
        assert_eq!(Private::decode(&p.encode()), p);
        assert_eq!(Private::decode(b""), Private::default());
        assert_eq!(Private::decode(b"not json"), Private::default());
        assert_eq!(
            Private::decode(br#"{"instance":"short"}"#),
            Private::default()
        );
        assert!(Private::default().encode().is_empty());
        let adopted = Private::adopted();
        assert_eq!(Private::decode(&adopted.encode()), adopted);
        let taking = Private::taking_over(a.clone());
        assert_eq!(Private::decode(&taking.encode()), taking);
        assert!(!taking.owns());
        let gone = Private {
            gone: true,
            ..Private::with_instance(b.clone())
        };
        assert_eq!(Private::decode(&gone.encode()), gone);
        // A replacement carries the old object's for its delete half.
        let old = Private::taking_over(a.clone());
        let first = Private::to_be_replaced(old.clone());
        let planned = Private {
            replacing: first.replacing.clone(),
            ..Private::with_instance(b.clone())
        };
        assert_eq!(Private::decode(&planned.encode()), planned);
        assert_eq!(Private::decode(&planned.encode()).of_deleted_object(), old);
        assert_eq!(
            Private::with_instance(b.clone()).of_deleted_object(),
            Private::with_instance(b.clone())
        );
        // One invalid instance anywhere makes it unreadable.
        let bad = Private::to_be_replaced(Private::with_instance("x".into()));
        assert_eq!(Private::decode(&bad.encode()), Private::default());
        // A state written before these fields reads as before.
        assert_eq!(
            Private::decode(format!(r#"{{"instance":"{a}"}}"#).as_bytes()),
            Private::with_instance(a)
        );
    }

    #[test]
    fn tokens_depend_on_the_instance() {
        assert_eq!(token("a", &["x"]), token("a", &["x"]));
        assert_ne!(token("a", &["x"]), token("b", &["x"]));
        assert_ne!(token("a", &["x", "y"]), token("a", &["xy"]));
        assert!(token("a", &["x"]).len() <= 64);
        assert_ne!(call_token(&["x"]), call_token(&["x"]));
    }
}
