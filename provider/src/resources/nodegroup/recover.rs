//! `bootstrap_extra_settings` read back from the launch template's user
//! data, for an import (and the list resource's states): AWS holds only
//! the merged document. A candidate is kept only when merging it again
//! gives exactly the document the template holds, so the plan after the
//! import has no change and no user setting is ever dropped.

use super::derive::derive;
use super::model::NodegroupModel;
use crate::framework::{Attr, Diagnostics};
use crate::render::al2023;

/// The user's own settings in `m.user_data` (the template's document), or
/// `None` when the document is the provider's alone or no candidate merges
/// back to it. `m` is the imported state with its derived outputs.
pub fn bootstrap_extra_settings(m: &NodegroupModel, version: &str) -> Option<String> {
    let held = m.user_data.known()?.clone();
    let ours = derived_user_data(m, version, None);
    if ours.as_deref() == Some(held.as_str()) {
        return None;
    }
    candidates(&held, ours.as_deref())
        .into_iter()
        .find(|c| derived_user_data(m, version, Some(c)).as_deref() == Some(held.as_str()))
}

/// The user data the provider renders for `m` with `extra` as the user's
/// settings (`None` when the decision or the merge fails).
fn derived_user_data(m: &NodegroupModel, version: &str, extra: Option<&str>) -> Option<String> {
    let mut trial = m.clone();
    trial.bootstrap_extra_settings = extra.map_or(Attr::Null, |e| Attr::Known(e.to_string()));
    let mut scratch = Diagnostics::new();
    derive(
        &trial,
        version,
        super::derive::ReleaseWarnings::Quiet,
        &mut scratch,
    )?
    .user_data
}

/// What the user may have given, best first: Bottlerocket TOML without the
/// provider's keys, then the whole document (TOML merges into itself), or a
/// MIME document's parts without the provider's own (Amazon Linux puts the
/// user's parts first).
fn candidates(held: &str, ours: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(user) = ours.and_then(|o| without_keys_of(held, o)) {
        out.push(user);
    }
    out.push(held.to_string());
    if let (Ok(parts), Some(Ok(own))) = (al2023::parse(held), ours.map(al2023::parse))
        && parts.len() > own.len()
        && parts.ends_with(&own)
    {
        let user = &parts[..parts.len() - own.len()];
        out.push(al2023::render(user));
        if let [only] = user
            && only.body.starts_with("#!")
        {
            out.push(only.body.clone());
        }
    }
    out
}

/// The TOML document `held` without the keys of `ours` (and the tables
/// that leaves empty).
fn without_keys_of(held: &str, ours: &str) -> Option<String> {
    let mut doc = held.parse::<toml_edit::DocumentMut>().ok()?;
    let ours = ours.parse::<toml_edit::DocumentMut>().ok()?;
    remove(doc.as_table_mut(), ours.as_table());
    Some(doc.to_string())
}

fn remove(doc: &mut dyn toml_edit::TableLike, ours: &dyn toml_edit::TableLike) {
    for (key, item) in ours.iter() {
        let inner = item.as_table_like().filter(|t| !t.is_empty());
        let mine = doc
            .get_mut(key)
            .and_then(toml_edit::Item::as_table_like_mut);
        let drop_key = match (inner, mine) {
            (Some(inner), Some(mine)) => {
                remove(mine, inner);
                mine.is_empty()
            }
            _ => true,
        };
        if drop_key {
            doc.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(family: &str, extra: Option<&str>) -> NodegroupModel {
        let mut m = NodegroupModel::defaults().unwrap();
        m.cluster_name = Attr::Known("prod".into());
        m.name = Attr::Known("agents".into());
        m.sandbox = Attr::Known("nsjail".into());
        m.ami_family = Attr::Known(family.into());
        m.kubernetes_version = Attr::Known("1.33".into());
        // The template holds what a create with `extra` rendered.
        m.user_data = Attr::Known(derived_user_data(&m, "1.33", extra).unwrap());
        m
    }

    #[test]
    fn bottlerocket_settings_come_back() {
        let extra = "[settings.kubernetes]\nmax-pods = 58\n";
        let m = imported("bottlerocket", Some(extra));
        let got = bootstrap_extra_settings(&m, "1.33").unwrap();
        assert_eq!(
            derived_user_data(&m, "1.33", Some(&got)),
            m.user_data.known().cloned()
        );
        assert_eq!(got.trim(), extra.trim(), "only the user's settings");
        // The provider's own document alone: nothing to recover.
        assert_eq!(
            bootstrap_extra_settings(&imported("bottlerocket", None), "1.33"),
            None
        );
    }

    #[test]
    fn amazon_linux_parts_come_back_without_the_providers() {
        let extra = "#!/bin/bash\necho hello\n";
        let m = imported("al2023", Some(extra));
        let got = bootstrap_extra_settings(&m, "1.33").unwrap();
        assert_eq!(
            derived_user_data(&m, "1.33", Some(&got)),
            m.user_data.known().cloned()
        );
        assert!(!got.contains("90-nested-sandbox"), "{got}");
    }
}
