//! Changes between two string maps (labels, tags).

use std::collections::BTreeMap;

/// What turns `old` into `new`: entries to set (new or changed) and keys
/// to remove. Labels and tags are both updated this way.
pub(super) fn map_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}
