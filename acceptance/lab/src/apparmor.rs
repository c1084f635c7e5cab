//! containerd's default AppArmor profile, taken from the containerd binary
//! the CRI lab runs and rendered as containerd renders it, so that the
//! lab's AppArmor runs use the runtime's own profile, never one written here.
//!
//! containerd (`contrib/apparmor/template.go`) keeps the profile as a Go
//! template (`defaultTemplate`), a string constant of the binary. `loadData`
//! fills it: `Imports` is `#include <tunables/global>` when
//! `/etc/apparmor.d/tunables/global` exists (else `@{PROC}=/proc/`),
//! `InnerImports` is `#include <abstractions/base>` when that file exists,
//! `DaemonProfile` is containerd's own profile (`unconfined` for an
//! unconfined daemon), `RootlessKit` is empty for a rootful containerd;
//! `load` runs `apparmor_parser -Kr` on the file. The CRI applies it as
//! [`CONTAINERD_DEFAULT_PROFILE`] to every container whose pod names no
//! AppArmor profile or `RuntimeDefault`, when the host has AppArmor
//! (`internal/cri/server/container_create_linux.go`,
//! `generateApparmorSpecOpts`); `Unconfined` gets none.

use std::path::Path;

use crate::LabError;

/// The name containerd's CRI gives its default profile
/// (`defaultApparmorProfile`; also a string of the binary).
pub const CONTAINERD_DEFAULT_PROFILE: &str = "cri-containerd.apparmor.d";

/// Where AppArmor's profile includes live (containerd's `dir`).
pub const APPARMOR_DIR: &str = "/etc/apparmor.d";

const TEMPLATE_START: &str = "{{range $value := .Imports}}";
const TEMPLATE_ANCHOR: &str = "flags=(attach_disconnected,mediate_deleted) {";

/// containerd's profile template, read out of its binary.
pub fn containerd_template(binary: &Path) -> Result<String, LabError> {
    let data = std::fs::read(binary)
        .map_err(|e| LabError::Harness(format!("read {}: {e}", binary.display())))?;
    template_in(&data).ok_or_else(|| {
        LabError::Harness(format!(
            "{}: no AppArmor profile template (`{TEMPLATE_START}` … `{TEMPLATE_ANCHOR}` … `}}`)",
            binary.display()
        ))
    })
}

/// The template in a binary's bytes: from the `Imports` range before the
/// profile line to the profile's closing brace.
fn template_in(data: &[u8]) -> Option<String> {
    let anchor = find(data, TEMPLATE_ANCHOR.as_bytes(), 0)?;
    let start = rfind(&data[..anchor], TEMPLATE_START.as_bytes())?;
    let end = find(data, b"\n}\n", anchor)? + 3;
    String::from_utf8(data[start..end].to_vec()).ok()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// What containerd's `loadData` puts into the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileData {
    pub name: String,
    pub imports: Vec<String>,
    pub inner_imports: Vec<String>,
    pub daemon_profile: String,
    pub rootless_kit: String,
}

impl ProfileData {
    /// `loadData(name)` for a rootful, unconfined containerd, with the
    /// includes that exist under `apparmor_dir`.
    pub fn containerd(name: &str, apparmor_dir: &Path) -> Self {
        let exists = |m: &str| apparmor_dir.join(m).exists();
        ProfileData {
            name: name.to_string(),
            imports: vec![if exists("tunables/global") {
                "#include <tunables/global>".into()
            } else {
                "@{PROC}=/proc/".into()
            }],
            inner_imports: if exists("abstractions/base") {
                vec!["#include <abstractions/base>".into()]
            } else {
                Vec::new()
            },
            daemon_profile: "unconfined".into(),
            rootless_kit: String::new(),
        }
    }
}

/// Renders the template with Go's `text/template` semantics for the
/// actions containerd's template uses: `{{range $value := .X}}…{{$value}}…
/// {{end}}`, `{{if .X}}…{{end}}` and `{{.X}}`. Any other action is an
/// error, so a changed template is noticed, not rendered wrong.
pub fn render(template: &str, data: &ProfileData) -> Result<String, LabError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| bad("an unclosed {{ action"))?;
        let action = after[..close].trim();
        rest = &after[close + 2..];
        if let Some(list) = action.strip_prefix("range $value := ") {
            let (body, tail) = block(rest)?;
            for value in list_field(data, list)? {
                out.push_str(&body.replace("{{$value}}", value));
            }
            rest = tail;
        } else if let Some(field) = action.strip_prefix("if ") {
            let (body, tail) = block(rest)?;
            if !string_field(data, field)?.is_empty() {
                out.push_str(&render(body, data)?);
            }
            rest = tail;
        } else {
            out.push_str(string_field(data, action)?);
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The text up to the matching `{{end}}` (no nesting in containerd's
/// template: a nested action there is refused) and what follows it.
fn block(text: &str) -> Result<(&str, &str), LabError> {
    let end = text
        .find("{{end}}")
        .ok_or_else(|| bad("a block without {{end}}"))?;
    let body = &text[..end];
    if body.contains("{{range") || body.contains("{{if") {
        return Err(bad("a nested block"));
    }
    Ok((body, &text[end + "{{end}}".len()..]))
}

fn list_field<'a>(data: &'a ProfileData, field: &str) -> Result<&'a [String], LabError> {
    match field {
        ".Imports" => Ok(&data.imports),
        ".InnerImports" => Ok(&data.inner_imports),
        other => Err(bad(&format!("the list {other}"))),
    }
}

fn string_field<'a>(data: &'a ProfileData, field: &str) -> Result<&'a str, LabError> {
    match field {
        ".Name" => Ok(&data.name),
        ".DaemonProfile" => Ok(&data.daemon_profile),
        ".RootlessKit" => Ok(&data.rootless_kit),
        other => Err(bad(&format!("the action {{{{{other}}}}}"))),
    }
}

fn bad(what: &str) -> LabError {
    LabError::Harness(format!(
        "containerd's AppArmor template has {what}, which the lab's renderer does not know: teach it (acceptance/lab/src/apparmor.rs)"
    ))
}

/// containerd's default profile as its CRI loads it on this machine's
/// AppArmor includes, from the containerd binary at `binary`.
pub fn containerd_default_profile(binary: &Path) -> Result<String, LabError> {
    let template = containerd_template(binary)?;
    render(
        &template,
        &ProfileData::containerd(CONTAINERD_DEFAULT_PROFILE, Path::new(APPARMOR_DIR)),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TEMPLATE: &str = "{{range $value := .Imports}}\n{{$value}}\n{{end}}\n\nprofile {{.Name}} flags=(attach_disconnected,mediate_deleted) {\n{{range $value := .InnerImports}}\n  {{$value}}\n{{end}}\n  signal (receive) peer={{.DaemonProfile}},\n{{if .RootlessKit}}\n  signal (receive) peer={{.RootlessKit}},\n{{end}}\n  deny mount,\n}\n";

    fn data() -> ProfileData {
        ProfileData {
            name: "p".into(),
            imports: vec!["#include <tunables/global>".into()],
            inner_imports: vec!["#include <abstractions/base>".into()],
            daemon_profile: "unconfined".into(),
            rootless_kit: String::new(),
        }
    }

    #[test]
    fn renders_as_go_text_template_does() {
        // What Go's text/template gives for this template and data
        // (containerd's testdata/with-abstractions-base.golden has the same
        // blank lines around each range).
        assert_eq!(
            render(TEMPLATE, &data()).unwrap(),
            "\n#include <tunables/global>\n\n\nprofile p flags=(attach_disconnected,mediate_deleted) {\n\n  #include <abstractions/base>\n\n  signal (receive) peer=unconfined,\n\n  deny mount,\n}\n"
        );
    }

    #[test]
    fn an_unknown_action_is_refused() {
        let e = render("{{if ge .Version 208095}}x{{end}}", &data()).unwrap_err();
        assert!(e.to_string().contains("ge .Version"), "{e}");
    }

    #[test]
    fn the_template_is_found_in_a_binary() {
        let bin = format!("\0\0junk{TEMPLATE}more\0");
        assert_eq!(template_in(bin.as_bytes()).unwrap(), TEMPLATE);
    }
}
