//! Every configurable attribute of every schema (the provider block, the
//! resource, each data source, the list resource and each function's
//! parameters), as `terraform providers schema -json` reports them, fed
//! hostile and careless inputs ([`acceptance::hostile`]) through real
//! Terraform: `terraform validate`, then `plan` for what validate let
//! through. Each input must be refused with an error at its attribute's
//! line that names the rule (and never echoes a huge value), or be accepted
//! and listed in `harmless.rs` with why that is fine. Each attribute's valid
//! value is a control that must be accepted. Booleans get no cases: Terraform
//! itself refuses anything but `true` and `false` for them.
//!
//! `BAD_INPUTS_REPORT=<file>` writes the failures there; `BAD_INPUTS_KEEP=<dir>`
//! keeps each configuration Terraform judged.

use std::collections::BTreeMap;

use acceptance::hostile::{
    Body, Case, Input, Leaf, Node, Part, Schema, Shape, cases_for, diagnostic_line, diagnostics,
    hcl_string, hostile_number, hostile_string, leaves, render, shape, with_value,
};
use acceptance::{PROVIDER_SOURCE, Terraform, Workspace};
use serde_json::Value as Json;

use super::harmless::{FIXED_ELSEWHERE, HARMLESS};
use super::valid::{TOML, base, context, good, good_number, parent, s};

const HEADER: &str = r#"terraform {
  required_providers {
    nested = { source = "nested-sandbox/nested" }
  }
}
provider "nested" {
  offline = true
}
"#;

/// Every case of a schema's block.
fn block_cases(schema: &Schema, block: &Json) -> Vec<Case> {
    let mut out = Vec::new();
    for leaf in leaves(block) {
        let (g, k) = good(schema, &leaf.path);
        let valid = match shape(&leaf.ty) {
            Shape::String => Some(hcl_string(g)),
            Shape::Number => Some(good_number(&leaf.path).to_string()),
            Shape::StringList | Shape::StringSet => Some(format!("[{}]", hcl_string(g))),
            Shape::StringMap => Some(format!("{{ {} = {} }}", hcl_string(k), hcl_string(g))),
            _ => None,
        };
        if let Some(v) = valid {
            out.push(Case {
                schema: schema.clone(),
                attribute: leaf.path.clone(),
                part: Part::Value,
                input: Input::Valid,
                hcl: v,
            });
        }
        let leaf_good = if shape(&leaf.ty) == Shape::NestedList {
            "[for i in range(1000) : { key = \"k${i}\", value = \"v\", effect = \"NoSchedule\" }]"
        } else {
            g
        };
        out.extend(cases_for(schema, &leaf, leaf_good, k));
    }
    out
}

/// A rendered configuration of cases, and where each case's attribute is.
struct Batch {
    files: Vec<(String, String)>,
    /// Per case: file, first and last line of its block, its attribute's line.
    at: Vec<(String, usize, usize, usize)>,
}

fn block_header(schema: &Schema, i: usize) -> (String, String) {
    match schema {
        Schema::Resource(t) => ("main.tf".into(), format!("resource \"{t}\" \"c{i}\" {{")),
        Schema::DataSource(t) => ("main.tf".into(), format!("data \"{t}\" \"c{i}\" {{")),
        Schema::ListResource(t) => (
            "cases.tfquery.hcl".into(),
            format!("list \"{t}\" \"c{i}\" {{\n  provider = nested\n  config {{"),
        ),
        Schema::Provider => (
            "main.tf".into(),
            format!("provider \"nested\" {{\n  alias = \"c{i}\""),
        ),
        Schema::Function(_) => ("main.tf".into(), format!("output \"c{i}\" {{")),
    }
}

fn batch(cases: &[(usize, &Case)], function_args: &dyn Fn(&Case) -> String) -> Batch {
    // One node group per case: each its own name (two resources creating
    // one node group are refused at plan).
    let unique = |i: usize, body: &mut Body| {
        for (k, v) in body.iter_mut() {
            if k == "name" && *v == s("agents") {
                *v = s(&format!("agents{i}"));
            }
        }
    };
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    files.insert("main.tf".into(), HEADER.lines().map(String::from).collect());
    let mut at = Vec::new();
    for (i, c) in cases {
        let (file, header) = block_header(&c.schema, *i);
        let lines = files.entry(file.clone()).or_default();
        let start = lines.len() + 1;
        lines.extend(header.lines().map(String::from));
        let attr_line;
        if let Schema::Function(f) = &c.schema {
            attr_line = lines.len() + 1;
            lines.push(format!(
                "  value = provider::nested::{f}({})",
                function_args(c)
            ));
        } else {
            let mut body = base(&c.schema);
            if matches!(c.schema, Schema::Resource(_)) {
                unique(*i, &mut body);
            }
            for (k, v) in context(&c.schema, &c.attribute) {
                body.retain(|(x, _)| *x != k);
                body.push((k, v));
            }
            let body = with_value(&body, &c.attribute, Node::Expr(c.hcl.clone()), &parent);
            let mut out = Vec::new();
            let mut where_ = BTreeMap::new();
            let indent = if matches!(c.schema, Schema::ListResource(_)) {
                4
            } else {
                2
            };
            render(&body, indent, "", &mut out, &mut where_);
            attr_line = lines.len() + 1 + where_.get(&c.attribute).copied().unwrap_or(0);
            lines.extend(out);
        }
        if matches!(c.schema, Schema::ListResource(_)) {
            lines.push("  }".into());
        }
        lines.push("}".into());
        if c.schema == Schema::Provider {
            let user = format!(
                "data \"nested_openshift_profile\" \"c{i}\" {{\n  provider = nested.c{i}\n  openshift_version = \"4.20\"\n  sandbox = \"podman\"\n}}"
            );
            lines.extend(user.lines().map(String::from));
        }
        let end = lines.len();
        at.push((file, start, end, attr_line));
    }
    Batch {
        files: files
            .into_iter()
            .map(|(k, v)| (k, v.join("\n") + "\n"))
            .collect(),
        at,
    }
}

/// What Terraform made of one case.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Refused,
    Accepted,
    Unclear(String),
}

/// Judge each case of a batch from Terraform's diagnostics.
fn judge(b: &Batch, stdout: &str, stderr: &str) -> Vec<Outcome> {
    for crash in [
        "bug in the provider",
        "panicked",
        "Plugin did not respond",
        "plugin exited",
        "The plugin encountered an error",
    ] {
        assert!(
            !stdout.contains(crash) && !stderr.contains(crash),
            "the provider crashed ({crash}):\n{}",
            &stderr[..stderr.len().min(4000)]
        );
    }
    let errors: Vec<Json> = diagnostics(stdout)
        .into_iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    let mut placed = vec![false; errors.len()];
    let mut out = Vec::new();
    for (file, start, end, attr_line) in &b.at {
        let mine: Vec<(usize, &Json)> = errors
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                diagnostic_line(d).is_some_and(|(f, l)| {
                    f.ends_with(file.as_str()) && (*start..=*end).contains(&l)
                })
            })
            .collect();
        if mine.is_empty() {
            out.push(Outcome::Accepted);
            continue;
        }
        let mut problems = Vec::new();
        for (i, d) in &mine {
            placed[*i] = true;
            let line = diagnostic_line(d).map_or(0, |(_, l)| l);
            let summary = d["summary"].as_str().unwrap_or_default();
            let detail = d["detail"].as_str().unwrap_or_default();
            if line != *attr_line {
                problems.push(format!(
                    "{summary:?} at line {line}, not the attribute's line {attr_line}"
                ));
            } else if detail.trim().is_empty() || detail == summary {
                problems.push(format!("{summary:?} says no rule or fix"));
            } else if detail.contains(&"a".repeat(200)) {
                problems.push(format!("{summary:?} echoes the 1 MB value"));
            }
        }
        out.push(if problems.is_empty() {
            Outcome::Refused
        } else {
            let first = mine
                .first()
                .map(|(_, d)| {
                    format!(
                        "{} {}",
                        d["summary"],
                        d["detail"]
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(300)
                            .collect::<String>()
                    )
                })
                .unwrap_or_default();
            Outcome::Unclear(format!("{}; {first}", problems.join("; ")))
        });
    }
    let stray: Vec<String> = errors
        .iter()
        .zip(&placed)
        .filter(|(_, p)| !**p)
        .map(|(d, _)| {
            format!(
                "{} {} {:?}",
                d["summary"],
                d["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>(),
                diagnostic_line(d)
            )
        })
        .collect();
    assert!(
        stray.is_empty(),
        "errors outside every case's block:\n{}",
        stray.join("\n")
    );
    out
}

fn run_batch(
    tf: &Terraform,
    cases: &[(usize, &Case)],
    plan: bool,
    args: &dyn Fn(&Case) -> String,
) -> Vec<Outcome> {
    let b = batch(cases, args);
    let ws = Workspace::new(tf, "").unwrap();
    for (name, text) in &b.files {
        ws.write(name, text).unwrap();
    }
    if let Ok(dir) = std::env::var("BAD_INPUTS_KEEP") {
        let d = std::path::Path::new(&dir).join(
            format!(
                "{}-{}-{}",
                cases[0].1.schema,
                if plan { "plan" } else { "validate" },
                cases[0].0
            )
            .replace(' ', "-"),
        );
        let _ = std::fs::create_dir_all(&d);
        for (name, text) in &b.files {
            let _ = std::fs::write(d.join(name), text);
        }
    }
    let query = b.files.iter().any(|(n, _)| n.ends_with(".tfquery.hcl"));
    let cmd: Vec<&str> = match (plan, query) {
        (true, _) => vec!["plan", "-json", "-input=false", "-lock=false"],
        (false, true) => vec!["validate", "-query", "-json"],
        (false, false) => vec!["validate", "-json"],
    };
    let r = ws.run(&cmd).unwrap();
    eprintln!(
        "terraform {} over {} cases: {:.1} s",
        cmd[0],
        cases.len(),
        r.took.as_secs_f64()
    );
    judge(&b, &r.stdout, &r.stderr)
}

/// Each function's parameters, with a valid argument each.
type ValidArguments = BTreeMap<String, Vec<(String, String)>>;

/// The function calls' cases, and the valid arguments of each function.
fn function_cases(functions: &Json) -> (Vec<Case>, ValidArguments) {
    let mut cases = Vec::new();
    let mut valid_args = BTreeMap::new();
    for (name, f) in functions.as_object().into_iter().flatten() {
        let schema = Schema::Function(name.clone());
        let mut args = Vec::new();
        for p in f["parameters"].as_array().into_iter().flatten() {
            let pname = p["name"].as_str().unwrap_or_default().to_string();
            let good = match pname.as_str() {
                "sandbox" => hcl_string("nsjail"),
                "settings" => {
                    "{ kernel = { sysctl = { \"user.max_user_namespaces\" = \"65536\" } } }".into()
                }
                _ => hcl_string(TOML),
            };
            args.push((pname.clone(), good.clone()));
            let leaf = Leaf {
                path: pname.clone(),
                ty: p["type"].clone(),
            };
            cases.push(Case {
                schema: schema.clone(),
                attribute: pname.clone(),
                part: Part::Value,
                input: Input::Valid,
                hcl: good,
            });
            if shape(&leaf.ty) == Shape::Dynamic {
                for i in Input::STRINGS {
                    cases.push(Case {
                        schema: schema.clone(),
                        attribute: pname.clone(),
                        part: Part::MapValue,
                        input: i,
                        hcl: format!(
                            "{{ kernel = {{ sysctl = {{ \"user.max_user_namespaces\" = {} }} }} }}",
                            hostile_string("65536", i)
                        ),
                    });
                    cases.push(Case {
                        schema: schema.clone(),
                        attribute: pname.clone(),
                        part: Part::Key,
                        input: i,
                        hcl: format!(
                            "{{ kernel = {{ sysctl = {{ ({}) = \"1\" }} }} }}",
                            hostile_string("user.max_user_namespaces", i)
                        ),
                    });
                }
                for i in Input::NUMBERS {
                    cases.push(Case {
                        schema: schema.clone(),
                        attribute: pname.clone(),
                        part: Part::MapValue,
                        input: i,
                        hcl: format!(
                            "{{ kernel = {{ sysctl = {{ \"user.max_user_namespaces\" = {} }} }} }}",
                            hostile_number(i)
                        ),
                    });
                }
            } else {
                let g = if pname == "sandbox" { "nsjail" } else { TOML };
                cases.extend(cases_for(&schema, &leaf, g, "k"));
            }
        }
        valid_args.insert(name.clone(), args);
    }
    (cases, valid_args)
}

pub fn every_attribute(tf: &Terraform) {
    let ws = Workspace::new(tf, HEADER).unwrap();
    let r = ws.must(&["providers", "schema", "-json"]).unwrap();
    let v: Json = serde_json::from_str(&r.stdout).unwrap();
    let ours = &v["provider_schemas"][PROVIDER_SOURCE];

    let mut cases: Vec<Case> = Vec::new();
    cases.extend(block_cases(&Schema::Provider, &ours["provider"]["block"]));
    for (kind, make) in [
        ("resource_schemas", Schema::Resource as fn(String) -> Schema),
        ("data_source_schemas", Schema::DataSource),
        ("list_resource_schemas", Schema::ListResource),
    ] {
        for (name, s) in ours[kind].as_object().into_iter().flatten() {
            cases.extend(block_cases(&make(name.clone()), &s["block"]));
        }
    }
    let (fn_cases, valid_args) = function_cases(&ours["functions"]);
    cases.extend(fn_cases);
    let args = |c: &Case| -> String {
        let Schema::Function(f) = &c.schema else {
            return String::new();
        };
        valid_args[f]
            .iter()
            .map(|(p, g)| {
                if *p == c.attribute {
                    c.hcl.clone()
                } else {
                    g.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };

    // validate, then plan what validate let through (list resources are
    // judged by validation alone: listing needs AWS).
    let mut outcome: Vec<Option<Outcome>> = vec![None; cases.len()];
    let mut by_schema: BTreeMap<Schema, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        by_schema.entry(c.schema.clone()).or_default().push(i);
    }
    let functions: Vec<usize> = by_schema
        .iter()
        .filter(|(s, _)| matches!(s, Schema::Function(_)))
        .flat_map(|(_, v)| v.clone())
        .collect();
    let mut groups: Vec<Vec<usize>> = by_schema
        .into_iter()
        .filter(|(s, _)| !matches!(s, Schema::Function(_)))
        .map(|(_, v)| v)
        .collect();
    groups.push(functions);
    for group in groups {
        for plan in [false, true] {
            let todo: Vec<(usize, &Case)> = group
                .iter()
                .filter(|i| {
                    outcome[**i]
                        .as_ref()
                        .is_none_or(|o| *o == Outcome::Accepted)
                })
                .filter(|i| !(plan && matches!(cases[**i].schema, Schema::ListResource(_))))
                .map(|i| (*i, &cases[*i]))
                .collect();
            // Terraform slows down superlinearly with many 1 MB values in
            // one configuration: at most 30 cases a run.
            for chunk in todo.chunks(30) {
                for ((i, _), o) in chunk.iter().zip(run_batch(tf, chunk, plan, &args)) {
                    outcome[*i] = Some(o);
                }
            }
        }
    }

    // Compare with the table.
    let harmless = |c: &Case| {
        HARMLESS
            .iter()
            .chain(FIXED_ELSEWHERE)
            .find(|(schema, attr, part, inputs, _)| {
                *schema == c.schema.to_string()
                    && *attr == c.attribute
                    && *part == c.part
                    && inputs.contains(&c.input)
            })
    };
    let rows: Vec<_> = HARMLESS.iter().chain(FIXED_ELSEWHERE).collect();
    let mut used = vec![false; rows.len()];
    let mut failures = Vec::new();
    let (mut refused, mut accepted, mut elsewhere, mut controls) = (0, 0, 0, 0);
    for (c, o) in cases.iter().zip(&outcome) {
        let o = o.clone().unwrap_or(Outcome::Unclear("never judged".into()));
        if c.input == Input::Valid {
            controls += 1;
            if o != Outcome::Accepted {
                failures.push(format!(
                    "control {c}: its valid value {} is not accepted: {o:?}",
                    c.hcl
                ));
            }
            continue;
        }
        match (o, harmless(c)) {
            (Outcome::Refused, None) => refused += 1,
            (Outcome::Refused, Some(row)) => {
                failures.push(format!("{c}: refused, but HARMLESS says {:?}", row.4))
            }
            (Outcome::Accepted, Some(row)) => {
                if FIXED_ELSEWHERE.iter().any(|r| std::ptr::eq(r, row)) {
                    elsewhere += 1;
                } else {
                    accepted += 1;
                }
                if let Some(i) = rows.iter().position(|r| std::ptr::eq(*r, row)) {
                    used[i] = true;
                }
            }
            (Outcome::Accepted, None) => failures.push(format!("{c}: silently accepted")),
            (Outcome::Unclear(why), _) => failures.push(format!("{c}: unclear: {why}")),
        }
    }
    for (row, u) in rows.iter().zip(&used) {
        if !u {
            failures.push(format!(
                "HARMLESS row {:?} {:?} matches no accepted case",
                row.0, row.1
            ));
        }
    }
    let hostile = cases.len() - controls;
    let attributes: std::collections::BTreeSet<(String, &str)> = cases
        .iter()
        .map(|c| (c.schema.to_string(), c.attribute.as_str()))
        .collect();
    eprintln!(
        "bad-input suite: {hostile} cases over {} attributes of {} schemas: {refused} refused at their attribute, {accepted} accepted as harmless, {elsewhere} accepted and left to another section (FIXED_ELSEWHERE); {controls} valid-value controls; {} failures",
        attributes.len(),
        attributes
            .iter()
            .map(|(s, _)| s)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        failures.len()
    );
    if let Ok(dir) = std::env::var("BAD_INPUTS_REPORT") {
        let _ = std::fs::write(dir, failures.join("\n") + "\n");
    }
    assert!(
        failures.is_empty(),
        "{} of {hostile} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
