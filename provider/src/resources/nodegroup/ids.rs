//! Identifiers: the import ID, and whether identifiers in a state could
//! name anything in AWS (a state must always be destroyable).

use crate::framework::Diagnostic;

/// The format every import ID error names.
const IMPORT_ID_FORMAT: &str =
    "`cluster_name:name` (the EKS cluster's name and the node group's, e.g. `prod:agents`)";

/// `cluster_name:name` from an import ID, each part to EKS's name rules (a
/// part that no EKS name can have would otherwise reach AWS, or a state).
pub fn parse_import_id(id: &str) -> Result<(String, String), Diagnostic> {
    let invalid = |why: String| {
        Diagnostic::error(
            "Invalid import ID",
            format!("{why}. An import ID of nested_nodegroup is {IMPORT_ID_FORMAT}."),
        )
    };
    let Some((c, n)) = id
        .split_once(':')
        .filter(|(c, n)| !c.is_empty() && !n.is_empty() && !n.contains(':'))
    else {
        return Err(invalid(format!(
            "{id:?} is not two names joined by one `:`"
        )));
    };
    names_possible(c, n).map_err(|why| invalid(format!("In import ID {id:?}, {why}")))?;
    Ok((c.to_string(), n.to_string()))
}

/// An import identity's `cluster_name` and `name`, to EKS's name rules.
pub fn check_identity_names(cluster: &str, name: &str) -> Result<(), Diagnostic> {
    names_possible(cluster, name).map_err(|why| {
        Diagnostic::error(
            "Invalid import identity",
            format!("{why}. The identity's cluster_name and name are the EKS cluster's name and the node group's, e.g. cluster_name = \"prod\", name = \"agents\"."),
        )
    })
}

/// `cluster`, then `name`, to EKS's name rules: why not, naming the part.
fn names_possible(cluster: &str, name: &str) -> Result<(), String> {
    let limits = crate::validate::Limits::embedded().map_err(|e| e.to_string())?;
    crate::validate::aws::cluster_name(cluster, limits)
        .map_err(|e| format!("the cluster name part: {e}"))?;
    crate::validate::aws::nodegroup_name(name, limits)
        .map_err(|e| format!("the node group name part: {e}"))
}

/// Whether a node group with these identifiers could exist in EKS.
pub fn identifiers_possible(cluster: &str, name: &str) -> bool {
    crate::validate::Limits::embedded().is_ok_and(|l| {
        crate::validate::aws::cluster_name(cluster, l).is_ok()
            && crate::validate::aws::nodegroup_name(name, l).is_ok()
    })
}

/// `lt-` and hexadecimal digits: anything else was never a template.
pub fn is_launch_template_id(id: &str) -> bool {
    id.strip_prefix("lt-")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The launch template's name: unique per resource instance (the nonce's
/// first 12 digits end it), so two instances never meet on one template.
/// Truncated to EC2's limit, keeping the suffix.
pub fn launch_template_name(cluster: &str, name: &str, instance: &str) -> String {
    let suffix = format!("-{}", &instance[..instance.len().min(12)]);
    let max = crate::validate::Limits::embedded()
        .map_or(128, |l| l.ec2.launch_template_name.max as usize);
    let head: String = format!("nested-{cluster}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "()./_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(max.saturating_sub(suffix.len()))
        .collect();
    head + &suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_template_names_are_valid() {
        let i = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            launch_template_name("prod", "agents", i),
            "nested-prod-agents-0123456789ab"
        );
        assert_eq!(
            launch_template_name("a b", "c:d", i),
            "nested-a-b-c-d-0123456789ab"
        );
        // Long names keep the instance suffix within EC2's 128 characters.
        let long = launch_template_name(&"c".repeat(100), &"n".repeat(63), i);
        assert_eq!(long.len(), 128);
        assert!(long.ends_with("-0123456789ab"));
    }

    #[test]
    fn import_ids_are_cluster_colon_name() {
        assert_eq!(
            parse_import_id("prod:agents").unwrap(),
            ("prod".to_string(), "agents".to_string())
        );
        for bad in ["prod", ":agents", "prod:", "a:b:c"] {
            let e = parse_import_id(bad).unwrap_err();
            assert!(
                e.detail.contains("`cluster_name:name`"),
                "{bad}: {}",
                e.detail
            );
        }
        // Parts that no EKS name can be are refused, naming the part.
        for (bad, part) in [
            ("prod:agents pool", "node group name part"),
            ("prod:-agents", "node group name part"),
            ("my cluster:agents", "cluster name part"),
            ("prod:agents\n", "node group name part"),
        ] {
            let e = parse_import_id(bad).unwrap_err();
            assert!(e.detail.contains(part), "{bad:?}: {}", e.detail);
            assert!(e.detail.contains("`cluster_name:name`"), "{}", e.detail);
        }
        let long = format!("prod:{}", "n".repeat(64));
        assert!(parse_import_id(&long).is_err());
        assert!(check_identity_names("prod", "agents").is_ok());
        assert!(check_identity_names("prod", "a/b").is_err());
    }
}
