//! `provider::nested::bottlerocket_settings(object)` and
//! `provider::nested::merge_bottlerocket_toml(base, overlay)`.

use crate::framework::{Function, FunctionDefinition, FunctionError, Parameter, Type, Value};
use crate::render::bottlerocket::{self, Setting, SettingValue};

pub struct BottlerocketSettingsFunction;
pub struct MergeBottlerocketTomlFunction;

/// Flatten an object of settings into provider settings under `settings`.
fn collect(value: &Value, path: &mut Vec<String>, out: &mut Vec<Setting>) -> Result<(), String> {
    if let Some(entries) = value.as_entries() {
        for (k, v) in entries {
            let under = if path.is_empty() {
                "settings".to_string()
            } else {
                path.join(".")
            };
            if k.is_empty() {
                return Err(format!("an empty key under {under}: name the key"));
            }
            if let Some(problem) = bottlerocket::unsafe_key(k) {
                return Err(format!(
                    "key {} under {under}: {problem}; rename the key",
                    crate::validate::quoted(k),
                ));
            }
            if k.contains('.') && v.as_entries().is_some() {
                return Err(format!(
                    "key {:?} under {} holds a table: a dotted key in a table header needs quotes, which EKS rejects; nest it as separate keys instead",
                    k,
                    path.join(".")
                ));
            }
            path.push(k.clone());
            collect(v, path, out)?;
            path.pop();
        }
        return Ok(());
    }
    let here = || path.join(".");
    let leaf = if value.is_null() {
        return Ok(());
    } else if let Some(s) = value.as_str() {
        check_string(s, &here())?;
        SettingValue::String(s.to_string())
    } else if let Some(b) = value.as_bool() {
        SettingValue::Bool(b)
    } else if let Some(n) = value.as_number() {
        SettingValue::Integer(n.as_i64().ok_or_else(|| {
            format!(
                "{} = {n}: only whole numbers are accepted (quote other values as strings)",
                here()
            )
        })?)
    } else if let Some(items) = value.as_elements() {
        let strings: Option<Vec<String>> = items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect();
        for item in strings.iter().flatten() {
            check_string(item, &here())?;
        }
        SettingValue::Strings(strings.ok_or_else(|| {
            format!(
                "{}: lists must hold only strings (EKS rejects mixed-type arrays)",
                here()
            )
        })?)
    } else {
        return Err(format!("{}: unknown values cannot be rendered yet", here()));
    };
    out.push(Setting {
        path: path.clone(),
        value: leaf,
    });
    Ok(())
}

/// A string value EKS's merge refuses (the merge's own rule), as the
/// function's error.
fn check_string(value: &str, at: &str) -> Result<(), String> {
    match bottlerocket::unsafe_string(value) {
        Some(problem) => Err(format!(
            "{at} = {}: {problem}; use single quotes inside the value, or none",
            crate::validate::quoted(value)
        )),
        None => Ok(()),
    }
}

impl Function for BottlerocketSettingsFunction {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition {
            name: "bottlerocket_settings".into(),
            summary: "Render Bottlerocket settings as EKS-safe TOML".into(),
            description: "Renders an object of Bottlerocket settings (the contents of the \
                          `settings` table) as one TOML document that EKS's user-data merge \
                          accepts: one table per header, dotted keys quoted only inside tables, \
                          never MIME-wrapped."
                .into(),
            parameters: vec![Parameter::new(
                "settings",
                Type::Dynamic,
                "Object of settings, e.g. `{ kernel = { sysctl = { \"user.max_user_namespaces\" = \"65536\" } } }`.",
            )],
            variadic: None,
            return_type: Type::String,
            deprecation: None,
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let arg = arguments.first().cloned().unwrap_or_default();
        if arg.as_entries().is_none() {
            return Err(FunctionError::at_argument(0, "settings must be an object"));
        }
        let mut settings = Vec::new();
        collect(&arg, &mut vec!["settings".to_string()], &mut settings)
            .map_err(|e| FunctionError::at_argument(0, e))?;
        let text = bottlerocket::render(&settings)
            .map_err(|e| FunctionError::at_argument(0, e.to_string()))?;
        // What the function returns, the provider's own merge takes: checked
        // by the merge's own reader, not by a second copy of its rules.
        bottlerocket::parse_user(&text)
            .map_err(|e| FunctionError::at_argument(0, e.to_string()))?;
        // Bottlerocket settings are EC2 user data: a document over EC2's
        // limit never reaches a node.
        if let Ok(l) = crate::validate::Limits::embedded() {
            let (n, max) = (text.len() as u64, l.ec2.user_data_bytes.max);
            if n > max {
                return Err(FunctionError::at_argument(
                    0,
                    format!(
                        "the settings render to {n} bytes of TOML, but Bottlerocket reads them from EC2 user data, which takes at most {max} bytes (before base64); shorten them by at least {} bytes",
                        n - max
                    ),
                ));
            }
        }
        Ok(Value::String(text))
    }
}

impl Function for MergeBottlerocketTomlFunction {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition {
            name: "merge_bottlerocket_toml".into(),
            summary: "Merge two Bottlerocket TOML documents".into(),
            description: "Merges `overlay` into `base`: tables merge, values in `overlay` win, \
                          and `base` keeps its comments and key order. Fails, naming the key, \
                          when a key is a table in one document and a value in the other, or \
                          when either document uses TOML that EKS's user-data merge rejects."
                .into(),
            parameters: vec![
                Parameter::new("base", Type::String, "Bottlerocket TOML user data."),
                Parameter::new("overlay", Type::String, "TOML whose values win."),
            ],
            variadic: None,
            return_type: Type::String,
            deprecation: None,
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let base = arguments
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let overlay = arguments.get(1).and_then(Value::as_str).unwrap_or_default();
        if let Err(e) = bottlerocket::parse_user(base) {
            return Err(FunctionError::at_argument(0, e.to_string()));
        }
        if let Err(e) = bottlerocket::parse_user(overlay) {
            return Err(FunctionError::at_argument(1, e.to_string()));
        }
        bottlerocket::merge_documents(base, overlay)
            .map(Value::String)
            .map_err(|e| FunctionError::at_argument(1, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_objects_as_one_table_per_header() {
        let arg = Value::object([(
            "kernel",
            Value::object([(
                "sysctl",
                Value::object([("user.max_user_namespaces", Value::string("65536"))]),
            )]),
        )]);
        let out = BottlerocketSettingsFunction.call(&[arg]).unwrap();
        assert_eq!(
            out.as_str(),
            Some("[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n")
        );
    }

    #[test]
    fn dotted_table_keys_and_mixed_lists_are_refused() {
        let arg = Value::object([("a.b", Value::object([("c", Value::string("d"))]))]);
        let e = BottlerocketSettingsFunction.call(&[arg]).unwrap_err();
        assert!(e.text.contains("\"a.b\""), "{}", e.text);
        let arg = Value::object([("x", Value::Tuple(vec![Value::string("a"), Value::int(1)]))]);
        assert!(BottlerocketSettingsFunction.call(&[arg]).is_err());
    }

    #[test]
    fn keys_with_quotes_are_refused_and_what_is_rendered_merges_back() {
        let arg = Value::object([(
            "kernel",
            Value::object([("sysctl", Value::object([("a\"b", Value::string("1"))]))]),
        )]);
        let e = BottlerocketSettingsFunction.call(&[arg]).unwrap_err();
        assert!(e.text.contains("quotes"), "{}", e.text);
        // Whatever the function renders, the provider's own merge accepts.
        let ok = Value::object([(
            "kernel",
            Value::object([(
                "sysctl",
                Value::object([("net.ipv4.ip_forward", Value::string("1"))]),
            )]),
        )]);
        let doc = BottlerocketSettingsFunction.call(&[ok]).unwrap();
        MergeBottlerocketTomlFunction
            .call(&[doc.clone(), doc])
            .unwrap();
    }

    #[test]
    fn values_the_merge_refuses_are_refused_and_everything_returned_merges() {
        for (value, ok) in [
            ("say \"hi\"", false),
            ("say 'hi'", true),
            ("a\\b", true),
            ("line\nbreak", true),
            ("tab\tand \u{7f} del", true),
        ] {
            let arg = Value::object([("motd", Value::string(value))]);
            match BottlerocketSettingsFunction.call(&[arg]) {
                Ok(doc) => {
                    assert!(ok, "{value:?} rendered {doc:?}");
                    let text = doc.as_str().unwrap();
                    bottlerocket::render_merged(text, &[], true).unwrap();
                    let t: toml::Table = toml::from_str(text).unwrap();
                    assert_eq!(t["settings"]["motd"].as_str(), Some(value));
                }
                Err(e) => {
                    assert!(!ok, "{value:?}: {}", e.text);
                    assert!(e.text.contains("settings.motd"), "{}", e.text);
                    assert!(
                        e.text.contains("quotes inside a string value"),
                        "{}",
                        e.text
                    );
                }
            }
        }
        let list = Value::object([(
            "x",
            Value::Tuple(vec![Value::string("a"), Value::string("b\"c")]),
        )]);
        assert!(BottlerocketSettingsFunction.call(&[list]).is_err());
    }

    #[test]
    fn merge_names_the_offending_argument_and_key() {
        let e = MergeBottlerocketTomlFunction
            .call(&[
                Value::string("[a]\nb = 1\n"),
                Value::string("[a.b]\nc = 1\n"),
            ])
            .unwrap_err();
        assert_eq!(e.argument, Some(1));
        assert_eq!(
            e.text,
            "a.b is a value in base but a table in overlay, and one key cannot be both; make it a value in overlay too, or use another key"
        );
        assert!(
            !e.text.contains("sandbox"),
            "a generic function: {}",
            e.text
        );
        let e = MergeBottlerocketTomlFunction
            .call(&[
                Value::string("[a.b]\nc = 1\n"),
                Value::string("[a]\nb = 1\n"),
            ])
            .unwrap_err();
        assert!(
            e.text
                .starts_with("a.b is a table in base but a value in overlay"),
            "{}",
            e.text
        );
        let e = MergeBottlerocketTomlFunction
            .call(&[Value::string("[x.\"y.z\"]\nk = 1\n"), Value::string("")])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
    }
}
