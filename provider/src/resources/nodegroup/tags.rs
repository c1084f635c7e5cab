//! `tags_all`: every tag of the node group, the provider's `default_tags`
//! with the resource's `tags` on top, as hashicorp/aws shows it
//! (`internal/tags`, `verify.SetTagsDiff`). A tag added outside Terraform
//! shows in the plan and is removed; a change of `default_tags` is applied
//! to the node group. The provider's own bookkeeping tags
//! (`nested.dev/…`) are never shown.

use std::collections::BTreeMap;

use super::model::{NodegroupModel, string_map};
use crate::aws::eks::Nodegroup;
use crate::framework::Attr;
use crate::framework::model::Field as _;

/// Tags the provider keeps for itself.
pub fn is_bookkeeping(key: &str) -> bool {
    key.starts_with("nested.dev/")
}

impl NodegroupModel {
    /// Plan: `default_tags` with `tags` on top; unknown while `tags` is.
    pub fn plan_tags_all(&mut self, default_tags: &BTreeMap<String, String>) {
        self.tags_all = if self.tags.wholly_known() {
            let mut all = default_tags.clone();
            all.extend(self.tag_map());
            Attr::Known(string_map(&all))
        } else {
            Attr::Unknown
        };
    }

    /// Every tag AWS reports but the provider's bookkeeping.
    pub fn fold_tags_all(&mut self, ng: &Nodegroup) {
        let all: BTreeMap<String, String> = ng
            .tags
            .iter()
            .filter(|(k, _)| !is_bookkeeping(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.tags_all = Attr::Known(string_map(&all));
    }

    /// The tags the node group has now (the state's `tags_all`; a state
    /// from before `tags_all` has `default_tags` with `tags`).
    pub fn current_tags(
        &self,
        default_tags: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        match self.tags_all.known() {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| v.known().map(|v| (k.clone(), v.clone())))
                .collect(),
            None => {
                let mut all = default_tags.clone();
                all.extend(self.tag_map());
                all
            }
        }
    }
}
