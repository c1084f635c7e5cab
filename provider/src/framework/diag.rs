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

    /// This path, then `rest` (a path relative to the value here, e.g. a
    /// nested model's attribute).
    #[must_use]
    pub fn then(mut self, rest: AttributePath) -> Self {
        self.steps.extend(rest.steps);
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

    /// The diagnostic as it may leave the provider: no line longer than
    /// [`MAX_LINE_CHARS`] (a message that quotes a 1 MB value, e.g. a
    /// parser's snippet of the offending line, is cut) and no control
    /// character but newline and tab (a value's escape sequences never
    /// reach the user's terminal raw).
    #[must_use]
    pub fn bounded(&self) -> Diagnostic {
        Diagnostic {
            severity: self.severity,
            summary: bounded_text(&self.summary),
            detail: bounded_text(&self.detail),
            path: self.path.clone(),
        }
    }
}

/// Longest part of a user's value a message repeats.
const SHOWN_CHARS: usize = 64;

/// `value` quoted for a message, cut after 64 characters so a 1 MB value is
/// never echoed back whole: `"aaaa…" (1048576 characters)`.
pub fn quoted(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}… ({n} characters)")
    }
}

/// Longest line of a diagnostic the provider sends.
pub const MAX_LINE_CHARS: usize = 2000;

/// `text` with no line longer than [`MAX_LINE_CHARS`] and control
/// characters other than newline and tab escaped.
pub fn bounded_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(64 * 1024));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let n = line.chars().count();
        for c in line.chars().take(MAX_LINE_CHARS) {
            if c.is_control() && c != '\t' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        if n > MAX_LINE_CHARS {
            out.push_str(&format!("… ({} more characters)", n - MAX_LINE_CHARS));
        }
    }
    out
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

    /// One diagnostic per path, severity and summary: a rule broken by each
    /// of 1000 set elements (which share the set's path) is one error that
    /// says how many more there are, not 1000 errors at one line.
    #[must_use]
    pub fn collapsed(&self) -> Diagnostics {
        let mut out: Vec<(Diagnostic, usize)> = Vec::new();
        for d in &self.0 {
            match out.iter_mut().find(|(o, _)| {
                o.path.is_some()
                    && o.path == d.path
                    && o.severity == d.severity
                    && o.summary == d.summary
            }) {
                Some((_, more)) => *more += 1,
                None => out.push((d.clone(), 0)),
            }
        }
        Diagnostics(
            out.into_iter()
                .map(|(mut d, more)| {
                    if more > 0 {
                        d.detail
                            .push_str(&format!(" ({more} more values here break the same rule.)"));
                    }
                    d
                })
                .collect(),
        )
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
    fn what_leaves_the_provider_is_bounded_and_has_no_raw_control_characters() {
        let huge = format!("not valid TOML:\n1 | {}\nfix it", "a".repeat(1 << 20));
        let d = Diagnostic::error("Bad \u{1b}[31m", huge).bounded();
        assert!(d.detail.len() < MAX_LINE_CHARS + 100, "{}", d.detail.len());
        assert!(d.detail.contains("more characters)"));
        assert!(d.detail.ends_with("\nfix it"));
        assert_eq!(d.summary, "Bad \\u{1b}[31m");
        let plain = Diagnostic::error("s", "line one\n\tline two");
        assert_eq!(plain.bounded(), plain);
    }

    #[test]
    fn errors_at_one_path_with_one_summary_are_one_error() {
        let mut d = Diagnostics::new();
        for i in 0..1000 {
            d.error_at(
                AttributePath::attr("subnet_ids"),
                "Invalid subnet ID",
                format!("{i} is not one."),
            );
        }
        d.error_at(AttributePath::attr("subnet_ids"), "Too many subnets", "x");
        d.error("Unpathed", "a");
        d.error("Unpathed", "b");
        let c = d.collapsed();
        assert_eq!(c.0.len(), 4, "{c:?}");
        assert_eq!(
            c.0[0].detail,
            "0 is not one. (999 more values here break the same rule.)"
        );
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
