//! Node groups claimed by creates planned in this provider process.
//!
//! Terraform plans every resource instance of one configuration in one
//! provider process (per provider configuration), and plans a create once
//! per walk. Two creates of the same cluster and node group name with
//! different instance nonces are two resources that would fight over one
//! node group: the second is refused at plan. Claims belong to one provider
//! configuration (`generation`): `terraform test` reuses a provider process
//! across run blocks, and each run plans the same instance afresh.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Another instance already planned to create the node group.
#[derive(Debug, PartialEq, Eq)]
pub struct Claimed;

#[derive(Default)]
pub struct Claims(Mutex<HashMap<(String, String), (u64, String)>>);

impl Claims {
    /// The claims of this process.
    pub fn global() -> &'static Claims {
        static CLAIMS: OnceLock<Claims> = OnceLock::new();
        CLAIMS.get_or_init(Claims::default)
    }

    /// Claim `cluster`/`name` for `instance`. `Err` when another instance
    /// planned to create it already.
    pub fn claim(
        &self,
        generation: u64,
        cluster: &str,
        name: &str,
        instance: &str,
    ) -> Result<(), Claimed> {
        self.claim_replacing(generation, cluster, name, instance, None)
    }

    /// Claim `cluster`/`name` for `instance`, which replaces the object of
    /// instance `replaced` (a replacement is planned twice: the old object's
    /// claim passes to the new one).
    pub fn claim_replacing(
        &self,
        generation: u64,
        cluster: &str,
        name: &str,
        instance: &str,
        replaced: Option<&str>,
    ) -> Result<(), Claimed> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (cluster.to_string(), name.to_string());
        match m.get(&key) {
            Some((g, owner))
                if *g == generation && owner != instance && Some(owner.as_str()) != replaced =>
            {
                Err(Claimed)
            }
            _ => {
                m.insert(key, (generation, instance.to_string()));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_is_refused_the_same_one_is_not() {
        let c = Claims::default();
        assert!(c.claim(1, "prod", "agents", "i1").is_ok());
        assert!(c.claim(1, "prod", "agents", "i1").is_ok());
        assert!(c.claim(1, "prod", "agents", "i2").is_err());
        assert!(c.claim(1, "prod", "other", "i2").is_ok());
        assert!(c.claim(1, "staging", "agents", "i2").is_ok());
        // Another configuration (the next `terraform test` run) starts over.
        assert!(c.claim(2, "prod", "agents", "i3").is_ok());
        // A replacement takes over the claim of the object it replaces, and
        // only that one's.
        assert!(
            c.claim_replacing(2, "prod", "agents", "i4", Some("i3"))
                .is_ok()
        );
        assert!(
            c.claim_replacing(2, "prod", "agents", "i5", Some("i3"))
                .is_err()
        );
    }
}
