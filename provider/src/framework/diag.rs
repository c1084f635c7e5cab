//! Diagnostics: the only way a user-facing failure leaves the provider.
//!
//! Every diagnostic has a short summary, a specific detail, and — where the
//! failure belongs to one attribute — the path to it, so `terraform plan`
//! underlines the exact line of configuration.

use std::fmt;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

/// Path from the root of a schema to one attribute or element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttributePath {
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    pub fn root() -> Self {
        Self::default()
    }

    /// Path to a top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self::root().then_attr(name)
    }

    #[must_use]
    pub fn then_attr(mut self, name: &str) -> Self {
        self.steps.push(PathStep::Attribute(name.to_string()));
        self
    }

    #[must_use]
    pub fn then_key(mut self, key: &str) -> Self {
        self.steps.push(PathStep::Key(key.to_string()));
        self
    }

    #[must_use]
    pub fn then_index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::Index(index));
        self
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// Renders as Terraform shows it: `endpoints.eks`, `labels["team"]`, `taints[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(a) if i == 0 => f.write_str(a)?,
                PathStep::Attribute(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    #[must_use]
    pub fn at(mut self, path: AttributePath) -> Self {
        self.path = Some(path);
        self
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    pub fn error_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path));
    }

    pub fn warning_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::warning(summary, detail).at(path));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform() {
        let p = AttributePath::attr("endpoints").then_attr("eks");
        assert_eq!(p.to_string(), "endpoints.eks");
        let p = AttributePath::attr("labels").then_key("team");
        assert_eq!(p.to_string(), "labels[\"team\"]");
        let p = AttributePath::attr("taints").then_index(0).then_attr("key");
        assert_eq!(p.to_string(), "taints[0].key");
    }

    #[test]
    fn warnings_alone_are_not_errors() {
        let mut d = Diagnostics::new();
        d.warning_at(AttributePath::attr("a"), "w", "x");
        assert!(!d.has_errors());
        d.error("e", "y");
        assert!(d.has_errors());
    }
}
