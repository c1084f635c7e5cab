//! Bottlerocket user data: one TOML document, never MIME-wrapped.
//!
//! The provider's settings are merged into the user's own TOML with
//! `toml_edit`, which keeps the user's keys, order and comments. A key both
//! set with different values is an error, not a silent overwrite. TOML that
//! EKS's user-data merge rejects (quoted keys in table headers, quotes inside
//! keys, quotes inside values, mixed-type arrays) is refused up front.

use toml_edit::{Array, DocumentMut, Item, Key, Table, TableLike, Value};

use super::sysctl_key;

/// One provider-owned setting: a key path under the document root and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub path: Vec<String>,
    pub value: SettingValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    String(String),
    Integer(i64),
    Bool(bool),
    Strings(Vec<String>),
}

impl SettingValue {
    fn to_toml(&self) -> Value {
        match self {
            SettingValue::String(s) => Value::from(s.as_str()),
            SettingValue::Integer(i) => Value::from(*i),
            SettingValue::Bool(b) => Value::from(*b),
            SettingValue::Strings(v) => {
                let mut a = Array::new();
                for s in v {
                    a.push(s.as_str());
                }
                Value::Array(a)
            }
        }
    }

    /// Same TOML value, ignoring formatting.
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (SettingValue::String(a), Value::String(b)) => a == b.value(),
            (SettingValue::Integer(a), Value::Integer(b)) => a == b.value(),
            (SettingValue::Bool(a), Value::Boolean(b)) => a == b.value(),
            (SettingValue::Strings(a), Value::Array(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| y.as_str() == Some(x.as_str()))
            }
            _ => false,
        }
    }

    fn display(&self) -> String {
        self.to_toml().to_string().trim().to_string()
    }
}

impl Setting {
    pub fn new(path: &[&str], value: SettingValue) -> Self {
        Self {
            path: path.iter().map(|s| (*s).to_string()).collect(),
            value,
        }
    }

    /// `settings.kernel.sysctl."user.max_user_namespaces"`
    pub fn dotted(&self) -> String {
        dotted(&self.path)
    }
}

fn dotted(path: &[String]) -> String {
    path.iter()
        .map(|p| {
            if p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.clone()
            } else {
                format!("\"{p}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BottlerocketError {
    /// Not TOML at all.
    #[error("not valid TOML: {0}")]
    Syntax(String),
    /// Valid TOML that EKS's user-data merge refuses.
    #[error("{key}: {problem}")]
    Unsafe { key: String, problem: String },
    /// The user's document and the provider need different values.
    #[error(
        "{key} is set to {theirs} here, but the sandbox needs {ours}; remove the key or set it to {ours}"
    )]
    Conflict {
        key: String,
        theirs: String,
        ours: String,
    },
    /// Another spelling of a sysctl key the provider writes (Bottlerocket
    /// writes both to the same file, in no fixed order).
    #[error(
        "{key} names the same sysctl as {ours_key} (/proc/sys/{file}) and is set to {theirs} here, but the sandbox needs {ours}; remove {key} (the provider writes {ours_key} itself)"
    )]
    Alias {
        key: String,
        ours_key: String,
        file: String,
        theirs: String,
        ours: String,
    },
    /// A key the provider must not take from the user.
    #[error("{key}: {problem}")]
    Forbidden { key: String, problem: String },
    /// Two documents merged into one give one key a table in one and a
    /// value in the other.
    #[error(
        "{key} is {in_base} in base but {in_overlay} in overlay, and one key cannot be both; make it {in_base} in overlay too, or use another key"
    )]
    Shape {
        key: String,
        in_base: &'static str,
        in_overlay: &'static str,
    },
}

impl BottlerocketError {
    /// The offending key, for diagnostics.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Syntax(_) => None,
            Self::Unsafe { key, .. }
            | Self::Conflict { key, .. }
            | Self::Alias { key, .. }
            | Self::Forbidden { key, .. }
            | Self::Shape { key, .. } => Some(key),
        }
    }
}

fn is_quoted(key: &Key) -> bool {
    key.as_repr()
        .and_then(|r| r.as_raw().as_str())
        .is_some_and(|raw| raw.starts_with('"') || raw.starts_with('\''))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::Datetime(_) => "datetime",
        Value::Array(_) => "array",
        Value::InlineTable(_) => "table",
    }
}

/// Why EKS's merge of launch-template user data refuses a key, if it does:
/// quotes inside it, or a character that needs an escape inside a quoted
/// key (backslash, control characters). The one rule for keys, used by the
/// merge and by `provider::nested::bottlerocket_settings`.
pub fn unsafe_key(name: &str) -> Option<&'static str> {
    if name.contains(['"', '\'']) {
        Some("quotes inside a key are not accepted by EKS")
    } else if name.contains('\\') || name.chars().any(char::is_control) {
        Some(
            "a backslash or control character in a key needs an escape inside a quoted key, which EKS does not accept",
        )
    } else {
        None
    }
}

/// Why EKS's merge refuses a string value, if it does: the one rule for
/// values, used by the merge and by `bottlerocket_settings`.
pub fn unsafe_string(value: &str) -> Option<&'static str> {
    value
        .contains('"')
        .then_some("quotes inside a string value are not accepted by EKS")
}

/// Refuse what EKS's merge of launch-template user data rejects.
pub fn check_eks_safe(doc: &DocumentMut) -> Result<(), BottlerocketError> {
    check_table_like(doc.as_table(), &mut Vec::new(), true)
}

fn check_table_like(
    table: &dyn TableLike,
    path: &mut Vec<String>,
    header_context: bool,
) -> Result<(), BottlerocketError> {
    for (name, item) in table.iter() {
        path.push(name.to_string());
        let key_label = dotted(path);
        if let Some(problem) = unsafe_key(name) {
            return Err(BottlerocketError::Unsafe {
                key: key_label,
                problem: problem.into(),
            });
        }
        let quoted = table.key(name).is_some_and(is_quoted);
        match item {
            Item::Table(t) => {
                if header_context && quoted {
                    return Err(BottlerocketError::Unsafe {
                        key: key_label,
                        problem: "a quoted key in a table header (e.g. [foo.\"bar.baz\"]) is not accepted by EKS; put the quoted key inside the table instead".into(),
                    });
                }
                check_table_like(t, path, true)?;
            }
            Item::ArrayOfTables(a) => {
                if quoted {
                    return Err(BottlerocketError::Unsafe {
                        key: key_label,
                        problem: "a quoted key in a table header is not accepted by EKS".into(),
                    });
                }
                for t in a.iter() {
                    check_table_like(t, path, true)?;
                }
            }
            Item::Value(v) => check_value(v, path)?,
            Item::None => {}
        }
        path.pop();
    }
    Ok(())
}

fn check_value(v: &Value, path: &mut Vec<String>) -> Result<(), BottlerocketError> {
    match v {
        Value::String(s) => {
            if let Some(problem) = unsafe_string(s.value()) {
                return Err(BottlerocketError::Unsafe {
                    key: dotted(path),
                    problem: problem.into(),
                });
            }
        }
        Value::Array(a) => {
            let mut kinds = a.iter().map(type_name);
            if let Some(first) = kinds.next()
                && kinds.any(|k| k != first)
            {
                return Err(BottlerocketError::Unsafe {
                    key: dotted(path),
                    problem: "arrays mixing value types are not accepted by EKS".into(),
                });
            }
            for item in a.iter() {
                check_value(item, path)?;
            }
        }
        Value::InlineTable(t) => check_table_like(t, path, false)?,
        _ => {}
    }
    Ok(())
}

/// A TOML parse error as "line L, column C: what", without the parser's
/// snippet of the line (which would repeat a huge line whole).
fn syntax_error(text: &str, e: &toml_edit::TomlError) -> BottlerocketError {
    let at = e.span().map_or(0, |s| s.start.min(text.len()));
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    BottlerocketError::Syntax(format!(
        "line {line}, column {column}: {}",
        e.message().trim_end()
    ))
}

/// Parse user TOML and check it is EKS-safe.
pub fn parse_user(text: &str) -> Result<DocumentMut, BottlerocketError> {
    let doc: DocumentMut = text.parse().map_err(|e| syntax_error(text, &e))?;
    check_eks_safe(&doc)?;
    Ok(doc)
}

/// Keys EKS injects into Bottlerocket user data on a managed node group with
/// an EKS-provided AMI: the user must not set them (as eksctl refuses too).
pub const EKS_INJECTED_KEYS: [&str; 4] = [
    "api-server",
    "cluster-certificate",
    "cluster-name",
    "cluster-dns-ip",
];

/// Refuse cluster bootstrap keys in user TOML when EKS injects them.
pub fn check_no_injected_keys(doc: &DocumentMut) -> Result<(), BottlerocketError> {
    let kubernetes = doc
        .get("settings")
        .and_then(Item::as_table_like)
        .and_then(|s| s.get("kubernetes"))
        .and_then(Item::as_table_like);
    if let Some(k) = kubernetes {
        for key in EKS_INJECTED_KEYS {
            if k.contains_key(key) {
                return Err(BottlerocketError::Forbidden {
                    key: format!("settings.kubernetes.{key}"),
                    problem: "EKS injects this for managed node groups with an EKS-provided AMI; remove it (it is only needed with a custom AMI)".into(),
                });
            }
        }
    }
    Ok(())
}

/// Insert `settings` into `doc`; conflicts with what is there are errors.
pub fn merge_settings(
    doc: &mut DocumentMut,
    settings: &[Setting],
) -> Result<(), BottlerocketError> {
    for s in settings {
        let Some((leaf, parents)) = s.path.split_last() else {
            continue;
        };
        let mut table: &mut dyn TableLike = doc.as_table_mut();
        for (depth, p) in parents.iter().enumerate() {
            let here = dotted(&s.path[..=depth]);
            let entry = table.entry(p).or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            });
            table = match entry.as_table_like_mut() {
                Some(t) => t,
                None => {
                    return Err(BottlerocketError::Conflict {
                        key: here,
                        theirs: "a value".into(),
                        ours: "a table".into(),
                    });
                }
            };
        }
        if parents == ["settings", "kernel", "sysctl"] {
            check_sysctl_aliases(&*table, parents, leaf, &s.value)?;
        }
        match table.get(leaf) {
            None => {
                table.insert(leaf, Item::Value(s.value.to_toml()));
            }
            Some(Item::Value(v)) if s.value.matches(v) => {}
            Some(existing) => {
                return Err(BottlerocketError::Conflict {
                    key: s.dotted(),
                    theirs: existing.as_value().map_or_else(
                        || "a table".to_string(),
                        |v| v.to_string().trim().to_string(),
                    ),
                    ours: s.value.display(),
                });
            }
        }
    }
    // Tables created for the provider's keys get a header only where they
    // hold values; parents stay implicit so no table appears twice.
    Ok(())
}

/// Another key of `settings.kernel.sysctl` that names the same file as
/// `leaf` (Bottlerocket's corndog turns every `.` into `/`:
/// `user/max_user_namespaces` is `user.max_user_namespaces`) with another
/// value: the two would be written in no fixed order.
fn check_sysctl_aliases(
    table: &dyn TableLike,
    parents: &[String],
    leaf: &str,
    ours: &SettingValue,
) -> Result<(), BottlerocketError> {
    let file = sysctl_key::bottlerocket_path(leaf);
    for (name, item) in table.iter() {
        if name == leaf || sysctl_key::bottlerocket_path(name) != file {
            continue;
        }
        if item.as_value().is_some_and(|v| ours.matches(v)) {
            continue;
        }
        let mut path = parents.to_vec();
        path.push(name.to_string());
        let mut ours_path = parents.to_vec();
        ours_path.push(leaf.to_string());
        return Err(BottlerocketError::Alias {
            key: dotted(&path),
            ours_key: dotted(&ours_path),
            file,
            theirs: item.as_value().map_or_else(
                || "a table".to_string(),
                |v| v.to_string().trim().to_string(),
            ),
            ours: ours.display(),
        });
    }
    Ok(())
}

/// The provider's settings alone, as a document.
pub fn render(settings: &[Setting]) -> Result<String, BottlerocketError> {
    let mut doc = DocumentMut::new();
    merge_settings(&mut doc, settings)?;
    Ok(finish(&doc))
}

/// The user's document with the provider's settings merged in.
pub fn render_merged(
    user: &str,
    settings: &[Setting],
    eks_ami: bool,
) -> Result<String, BottlerocketError> {
    let mut doc = parse_user(user)?;
    if eks_ami {
        check_no_injected_keys(&doc)?;
    }
    merge_settings(&mut doc, settings)?;
    check_eks_safe(&doc)?;
    Ok(finish(&doc))
}

/// Merge two user documents: `overlay` wins on values, tables merge, and
/// `base` keeps its comments and order.
pub fn merge_documents(base: &str, overlay: &str) -> Result<String, BottlerocketError> {
    let mut doc = parse_user(base)?;
    let over = parse_user(overlay)?;
    merge_tables(doc.as_table_mut(), over.as_table(), &mut Vec::new())?;
    check_eks_safe(&doc)?;
    Ok(finish(&doc))
}

fn merge_tables(
    base: &mut dyn TableLike,
    over: &dyn TableLike,
    path: &mut Vec<String>,
) -> Result<(), BottlerocketError> {
    for (name, item) in over.iter() {
        path.push(name.to_string());
        let over_is_table = item.is_table_like();
        match base.get_mut(name) {
            None => {
                base.insert(name, item.clone());
            }
            Some(existing) if existing.is_table_like() && over_is_table => {
                if let (Some(b), Some(o)) = (existing.as_table_like_mut(), item.as_table_like()) {
                    merge_tables(b, o, path)?;
                }
            }
            Some(existing) if existing.is_table_like() != over_is_table => {
                let shape = |table: bool| if table { "a table" } else { "a value" };
                return Err(BottlerocketError::Shape {
                    key: dotted(path),
                    in_base: shape(existing.is_table_like()),
                    in_overlay: shape(over_is_table),
                });
            }
            Some(existing) => {
                if let (Some(slot), Some(v)) = (existing.as_value_mut(), item.as_value()) {
                    // Keep the base's decoration (comments) around the new value.
                    let decor = slot.decor().clone();
                    *slot = v.clone();
                    *slot.decor_mut() = decor;
                }
            }
        }
        path.pop();
    }
    Ok(())
}

fn finish(doc: &DocumentMut) -> String {
    let mut text = doc.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysctl(v: &str) -> Setting {
        Setting::new(
            &["settings", "kernel", "sysctl", "user.max_user_namespaces"],
            SettingValue::String(v.into()),
        )
    }

    #[test]
    fn renders_the_sysctl_table_eks_accepts() {
        let out = render(&[
            sysctl("65536"),
            Setting::new(
                &["settings", "kubernetes", "ids-per-pod"],
                SettingValue::Integer(131072),
            ),
        ])
        .unwrap();
        assert_eq!(
            out,
            "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n\n[settings.kubernetes]\nids-per-pod = 131072\n"
        );
        check_eks_safe(&out.parse().unwrap()).unwrap();
    }

    #[test]
    fn merge_keeps_user_keys_order_and_comments_and_adds_ours() {
        let user = "# team settings\n[settings.kubernetes]\n# keep pods modest\nmax-pods = 40\n\n[settings.kernel.sysctl]\n\"vm.max_map_count\" = \"262144\" # for search\n";
        let out = render_merged(user, &[sysctl("65536")], true).unwrap();
        assert_eq!(
            out,
            "# team settings\n[settings.kubernetes]\n# keep pods modest\nmax-pods = 40\n\n[settings.kernel.sysctl]\n\"vm.max_map_count\" = \"262144\" # for search\n\"user.max_user_namespaces\" = \"65536\"\n"
        );
        // One table per header.
        assert_eq!(out.matches("[settings.kernel.sysctl]").count(), 1);
    }

    #[test]
    fn a_conflicting_user_value_is_an_error_naming_the_key() {
        let user = "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"0\"\n";
        let e = render_merged(user, &[sysctl("65536")], true).unwrap_err();
        assert_eq!(
            e.key(),
            Some("settings.kernel.sysctl.\"user.max_user_namespaces\"")
        );
        assert!(e.to_string().contains("\"0\""), "{e}");
        assert!(e.to_string().contains("\"65536\""), "{e}");
        // The same value is fine and keeps the user's text.
        let same =
            "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\" # ours too\n";
        assert_eq!(render_merged(same, &[sysctl("65536")], true).unwrap(), same);
    }

    #[test]
    fn another_spelling_of_our_sysctl_key_is_a_conflict() {
        for user in [
            "[settings.kernel.sysctl]\n\"user/max_user_namespaces\" = \"0\"\n",
            "[settings.kernel]\nsysctl = { \"user//max_user_namespaces\" = \"0\" }\n",
            "[settings.kernel.sysctl]\n\"user/max_user_namespaces\" = \"0\"\n\"user.max_user_namespaces\" = \"65536\"\n",
        ] {
            let e = render_merged(user, &[sysctl("65536")], true).unwrap_err();
            assert!(matches!(e, BottlerocketError::Alias { .. }), "{user}: {e}");
            let text = e.to_string();
            assert!(
                text.contains("/proc/sys/user/max_user_namespaces"),
                "{text}"
            );
            assert!(
                text.contains("\"0\"") && text.contains("\"65536\""),
                "{text}"
            );
            assert!(e.key().unwrap().contains("user/"), "{text}");
        }
        // The same value under another spelling writes the same thing.
        let same = "[settings.kernel.sysctl]\n\"user/max_user_namespaces\" = \"65536\"\n";
        assert!(render_merged(same, &[sysctl("65536")], true).is_ok());
        // Other sysctls are untouched.
        let other = "[settings.kernel.sysctl]\n\"user/max_ipc_namespaces\" = \"0\"\n";
        assert!(render_merged(other, &[sysctl("65536")], true).is_ok());
    }

    #[test]
    fn inline_tables_are_merged_into_not_duplicated() {
        let user = "[settings.kernel]\nsysctl = { \"vm.swappiness\" = \"10\" }\n";
        let out = render_merged(user, &[sysctl("65536")], true).unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        let s = &v["settings"]["kernel"]["sysctl"];
        assert_eq!(s["vm.swappiness"].as_str(), Some("10"));
        assert_eq!(s["user.max_user_namespaces"].as_str(), Some("65536"));
    }

    #[test]
    fn toml_eks_rejects_is_refused() {
        let cases = [
            (
                "[settings.kernel.sysctl.\"user.max_user_namespaces\"]\nx = \"1\"\n",
                "table header",
            ),
            (
                "[settings]\n'quoted \"value\"' = \"v\"\n",
                "quotes inside a key",
            ),
            (
                "[settings]\nmotd = \"say \\\"hi\\\"\"\n",
                "quotes inside a string",
            ),
            ("[settings]\nx = [1, 2.5]\n", "mixing value types"),
            ("[settings]\nx = [\"a\", 1]\n", "mixing value types"),
            ("[settings]\n\"a\\\\b\" = 1\n", "backslash"),
            ("[settings]\n\"a\\tb\" = 1\n", "control character"),
        ];
        for (doc, why) in cases {
            let e = parse_user(doc).unwrap_err();
            assert!(e.to_string().contains(why), "{doc:?}: {e}");
        }
        assert!(matches!(
            parse_user("[a\nb"),
            Err(BottlerocketError::Syntax(_))
        ));
    }

    #[test]
    fn cluster_keys_are_refused_with_an_eks_ami_and_allowed_with_a_custom_one() {
        let user = "[settings.kubernetes]\ncluster-name = \"prod\"\n";
        let e = render_merged(user, &[], true).unwrap_err();
        assert_eq!(e.key(), Some("settings.kubernetes.cluster-name"));
        assert!(render_merged(user, &[], false).is_ok());
    }

    #[test]
    fn merge_documents_lets_the_overlay_win_and_keeps_base_comments() {
        let base = "# base\n[settings.kubernetes]\nmax-pods = 40 # default\n";
        let over =
            "[settings.kubernetes]\nmax-pods = 58\n[settings.kernel.sysctl]\n\"a.b\" = \"1\"\n";
        let out = merge_documents(base, over).unwrap();
        assert!(
            out.starts_with("# base\n[settings.kubernetes]\nmax-pods = 58 # default\n"),
            "{out}"
        );
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["settings"]["kernel"]["sysctl"]["a.b"].as_str(), Some("1"));
        let e = merge_documents("[settings]\nx = 1\n", "[settings.x]\ny = 2\n").unwrap_err();
        assert_eq!(e.key(), Some("settings.x"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = String> {
            "[a-z][a-z0-9-]{0,6}(\\.[a-z]{1,4})?"
        }

        fn scalar() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z0-9 ]{0,8}".prop_map(|s| format!("\"{s}\"")),
                any::<i32>().prop_map(|i| i.to_string()),
                any::<bool>().prop_map(|b| b.to_string()),
            ]
        }

        /// Small TOML documents of one or two tables under settings.
        fn doc() -> impl Strategy<Value = String> {
            prop::collection::btree_map(
                "[a-z]{1,5}",
                prop::collection::btree_map(key(), scalar(), 0..4),
                0..3,
            )
            .prop_map(|tables| {
                let mut out = String::new();
                for (t, kv) in tables {
                    out.push_str(&format!("[settings.{t}]\n"));
                    for (k, v) in kv {
                        let k = if k.contains('.') {
                            format!("\"{k}\"")
                        } else {
                            k
                        };
                        out.push_str(&format!("{k} = {v}\n"));
                    }
                }
                out
            })
        }

        proptest! {
            #[test]
            fn merging_any_two_documents_gives_valid_toml_or_an_error(a in doc(), b in doc()) {
                match merge_documents(&a, &b) {
                    Ok(out) => {
                        let parsed: Result<toml::Table, _> = toml::from_str(&out);
                        prop_assert!(parsed.is_ok(), "{out}");
                        prop_assert!(parse_user(&out).is_ok());
                    }
                    Err(e) => prop_assert!(e.key().is_some(), "{e}"),
                }
            }

            #[test]
            fn provider_settings_merge_into_any_document(a in doc(), v in 0u32..1_000_000) {
                let s = sysctl(&v.to_string());
                match render_merged(&a, &[s], true) {
                    Ok(out) => {
                        let t: toml::Table = toml::from_str(&out).unwrap();
                        let want = v.to_string();
                        prop_assert_eq!(
                            t["settings"]["kernel"]["sysctl"]["user.max_user_namespaces"].as_str(),
                            Some(want.as_str())
                        );
                    }
                    Err(e) => prop_assert!(matches!(e, BottlerocketError::Conflict { .. }), "{e}"),
                }
            }

            #[test]
            fn arbitrary_text_never_panics(text in ".{0,80}") {
                let _ = parse_user(&text);
                let _ = merge_documents(&text, "[settings]\n");
            }
        }
    }
}
