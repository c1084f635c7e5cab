//! ValidateProviderConfig, ValidateResourceConfig and
//! ValidateDataResourceConfig: the rules the schema declares (allowed
//! values, deprecations), then the implementation's own checks. Values may
//! still be unknown here.

use super::Server;
use super::codec::DynamicValue;
use super::panics::answer;
use super::registry::Typed;
use crate::framework::diag::{Diagnostics, PathStep, Severity};
use crate::framework::schema::validate_declared;
use crate::framework::value::Value;

/// The name of the provider configuration check.
pub const VALIDATE_PROVIDER_CONFIG: &str = "ValidateProviderConfig";
/// The name of the resource configuration check.
pub const VALIDATE_RESOURCE_CONFIG: &str = "ValidateResourceConfig";
/// The name of the data source configuration check.
pub const VALIDATE_DATA_RESOURCE_CONFIG: &str = "ValidateDataResourceConfig";

impl Server {
    /// Check the provider's configuration.
    pub async fn validate_provider_config(&self, config: Option<DynamicValue>) -> Diagnostics {
        answer(VALIDATE_PROVIDER_CONFIG, async {
            self.validate_config(
                "provider configuration",
                &self.registry.provider,
                config.as_ref(),
                |c| self.provider.validate_config(c),
            )
        })
        .await
    }

    /// Check the configuration of one resource of type `type_name`.
    pub async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Option<DynamicValue>,
    ) -> Diagnostics {
        answer(VALIDATE_RESOURCE_CONFIG, async {
            let entry = self.registry.resource(type_name)?;
            self.validate_config(
                "resource configuration",
                &entry.state,
                config.as_ref(),
                |c| entry.imp.validate(c),
            )
        })
        .await
    }

    /// Check the configuration of one data source of type `type_name`.
    pub async fn validate_data_resource_config(
        &self,
        type_name: &str,
        config: Option<DynamicValue>,
    ) -> Diagnostics {
        answer(VALIDATE_DATA_RESOURCE_CONFIG, async {
            let entry = self.registry.data_source(type_name)?;
            self.validate_config(
                "data source configuration",
                &entry.config,
                config.as_ref(),
                |c| entry.imp.validate(c),
            )
        })
        .await
    }

    /// Decode `config` (`what` names it), check what `schema` declares, then
    /// run `checks`.
    pub(super) fn validate_config(
        &self,
        what: &str,
        schema: &Typed,
        config: Option<&DynamicValue>,
        checks: impl FnOnce(&Value) -> Diagnostics,
    ) -> Result<Diagnostics, Diagnostics> {
        let config = self.decode(what, config, &schema.ty)?;
        let mut diags = Diagnostics::new();
        validate_declared(&schema.schema.block, &config, &mut diags);
        // An attribute the schema's own rules already refused gets no
        // second error from the implementation's checks, and they see it as
        // not known yet: a check built on a refused value (a 1 MB label in
        // the rendered user data) would blame another attribute for it.
        let refused: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .filter_map(|d| d.path.clone())
            .collect();
        let mut masked = config.clone();
        for p in &refused {
            mask_refused(&mut masked, &p.steps);
        }
        diags.extend(Diagnostics(
            checks(&masked)
                .0
                .into_iter()
                .filter(|d| {
                    d.severity != Severity::Error
                        || d.path.as_ref().is_none_or(|p| !refused.contains(p))
                })
                .collect(),
        ));
        Ok(diags)
    }
}

/// Make the attribute at `steps` unknown (a map entry or list element: the
/// whole collection).
fn mask_refused(v: &mut Value, steps: &[PathStep]) {
    let end = steps
        .iter()
        .rposition(|s| matches!(s, PathStep::Attribute(_)))
        .map_or(0, |i| i + 1);
    set_unknown(v, &steps[..end]);
}

fn set_unknown(v: &mut Value, steps: &[PathStep]) {
    let Some((first, rest)) = steps.split_first() else {
        *v = Value::unknown();
        return;
    };
    let next = match (first, v) {
        (PathStep::Attribute(a), Value::Object(m)) => m.get_mut(a),
        (PathStep::Key(k), Value::Map(m)) => m.get_mut(k),
        (PathStep::Index(i), Value::List(items) | Value::Tuple(items)) => {
            usize::try_from(*i).ok().and_then(|i| items.get_mut(i))
        }
        _ => None,
    };
    if let Some(x) = next {
        set_unknown(x, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_is_unknown_to_the_implementations_checks() {
        let mut v = Value::object([
            (
                "taints",
                Value::List(vec![Value::object([("key", Value::string("bad"))])]),
            ),
            (
                "labels",
                Value::Map([("k".to_string(), Value::string("v"))].into()),
            ),
        ]);
        mask_refused(
            &mut v,
            &[
                PathStep::Attribute("taints".into()),
                PathStep::Index(0),
                PathStep::Attribute("key".into()),
            ],
        );
        mask_refused(
            &mut v,
            &[
                PathStep::Attribute("labels".into()),
                PathStep::Key("k".into()),
            ],
        );
        assert!(v.attr("labels").is_some_and(Value::is_unknown));
        let taint = &v.attr("taints").and_then(Value::as_elements).unwrap()[0];
        assert!(taint.attr("key").is_some_and(Value::is_unknown));
    }
}
