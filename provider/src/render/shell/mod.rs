//! What a user's shell script does to the sysctls the sandbox needs.
//!
//! The script is read as the shell would run it, as far as that can be
//! done with certainty: `sysctl -w`/`sysctl KEY=VALUE` (procps: any
//! argument with `=` writes), `sysctl -p FILE`/`--load`/`--system`,
//! writes to `/proc/sys/…` (`echo`, `printf`, `tee`, `dd`, `cp`, here-docs
//! and here-strings), `sysctl.d` files (applied at every boot by
//! systemd-sysctl), literal variables, `base64 -d` of literal text, and
//! nested `sh -c`/`source` of what the script itself wrote. Key spellings
//! are compared as the files they name ([`super::sysctl_key`]).
//!
//! What cannot be evaluated (a computed key or value, `eval`, a script
//! piped from `curl` or a decoder, a file copied from elsewhere into
//! `sysctl.d`, a command the reader does not know that mentions the key)
//! is a doubt, never a guess. A write inside `if`/`while`/`for`/`case` or
//! after `&&`/`||` is a doubt too: it happens only when a condition holds.

mod lex;

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine;

use super::sysctl_key;
use lex::{Op, Piece, Redirect, Tok, Word};

/// One thing a script does to a key the sandbox needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Finding {
    /// Sets `key` to `value`: for certain, or only when a condition holds
    /// (`if`, loops, after `&&`/`||`).
    Sets {
        line: usize,
        key: String,
        value: String,
        how: String,
        conditional: bool,
    },
    /// May change `key`; how cannot be evaluated.
    Doubt {
        line: usize,
        key: String,
        why: String,
    },
}

/// How deep `sh -c`, `source` and `eval` of literal text are followed.
const MAX_DEPTH: usize = 4;

/// Doubts kept per key: more say nothing new, and a script of many
/// thousand lines must not cost quadratic time or as many warnings.
const MAX_DOUBTS_PER_KEY: usize = 3;

/// Paths systemd-sysctl and `sysctl --system` apply at every boot.
fn is_sysctl_conf(path: &str) -> bool {
    if path == "/etc/sysctl.conf" {
        return true;
    }
    let dirs = [
        "/etc/sysctl.d/",
        "/run/sysctl.d/",
        "/usr/local/lib/sysctl.d/",
        "/usr/lib/sysctl.d/",
        "/lib/sysctl.d/",
    ];
    dirs.iter().any(|d| {
        path.strip_prefix(d)
            .is_some_and(|name| !name.contains('/') && name.ends_with(".conf"))
    })
}

fn is_sysctl_dir(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    [
        "/etc/sysctl.d",
        "/run/sysctl.d",
        "/usr/local/lib/sysctl.d",
        "/usr/lib/sysctl.d",
        "/lib/sysctl.d",
    ]
    .contains(&p)
}

/// `/etc//sysctl.d/./x.conf` → `/etc/sysctl.d/x.conf`.
fn normal_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A word with variables substituted where they are known.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    /// The text; unknown pieces appear as written (`$K`, `$(…)`).
    s: String,
    /// Every piece known.
    known: bool,
    /// Holds an unquoted glob character.
    glob: bool,
}

impl Text {
    fn literal(s: impl Into<String>) -> Self {
        Self {
            s: s.into(),
            known: true,
            glob: false,
        }
    }
}

/// What a command writes to stdout, or a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Content {
    /// Unknown pieces appear as written (`$V`), so a line holding `$` or a
    /// backquote is not taken literally.
    text: String,
    /// Nothing of it is known (a download, a compressed stream).
    opaque: bool,
}

impl Content {
    fn known(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            opaque: false,
        }
    }

    fn opaque() -> Self {
        Self {
            text: String::new(),
            opaque: true,
        }
    }

    fn empty() -> Self {
        Self::known("")
    }
}

fn dynamic_line(line: &str) -> bool {
    line.contains('$') || line.contains('`')
}

/// One simple command as the tokens give it.
#[derive(Default)]
struct Cmd {
    words: Vec<Word>,
    redirects: Vec<(Option<u32>, Redirect, Option<Tok>)>,
    line: usize,
    /// Runs only when a condition holds (`&&`, `||`, `if`, loops).
    conditional: bool,
}

struct Scanner<'a> {
    sysctls: &'a BTreeMap<String, String>,
    mentions: &'a [String],
    vars: HashMap<String, Option<String>>,
    /// Files the script wrote, by path (not `/proc`, not `sysctl.d`).
    files: HashMap<String, Content>,
    findings: Vec<Finding>,
    /// Doubts already recorded, and how many per key.
    seen: HashSet<Finding>,
    doubts_per_key: HashMap<String, usize>,
    depth: usize,
    /// `if`/`while`/`for`/`case` nesting.
    blocks: usize,
}

/// The findings for `script`. `sysctls` are the sandbox's (dotted key →
/// value); `mentions` are other names (kubelet settings) whose mention in
/// a script the provider cannot evaluate is a doubt.
pub fn scan(script: &str, sysctls: &BTreeMap<String, String>, mentions: &[String]) -> Vec<Finding> {
    let mut s = Scanner {
        sysctls,
        mentions,
        vars: HashMap::new(),
        files: HashMap::new(),
        findings: Vec::new(),
        seen: HashSet::new(),
        doubts_per_key: HashMap::new(),
        depth: 0,
        blocks: 0,
    };
    s.script(script, 0);
    s.findings
}

/// [`scan`] of `scripts` after `files` (path, text or `None` when it cannot
/// be read, line) were written, as cloud-config's `write_files` runs before
/// `runcmd`: `sysctl.d` files and `/proc` writes are read, other files are
/// remembered for `sysctl -p` and `sh FILE`.
pub fn scan_with_files(
    files: &[(String, Option<String>, usize)],
    scripts: &[(String, usize)],
    sysctls: &BTreeMap<String, String>,
    mentions: &[String],
) -> Vec<Finding> {
    let mut s = Scanner {
        sysctls,
        mentions,
        vars: HashMap::new(),
        files: HashMap::new(),
        findings: Vec::new(),
        seen: HashSet::new(),
        doubts_per_key: HashMap::new(),
        depth: 0,
        blocks: 0,
    };
    for (path, text, line) in files {
        let content = text.clone().map_or_else(Content::opaque, Content::known);
        s.write(&Text::literal(path.clone()), content, false, *line, false);
    }
    for (script, line) in scripts {
        s.script(script, line.saturating_sub(1));
    }
    s.findings
}

impl Scanner<'_> {
    fn keys(&self) -> Vec<(String, String)> {
        self.sysctls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn doubt(&mut self, line: usize, key: &str, why: String) {
        let count = self.doubts_per_key.entry(key.to_string()).or_insert(0);
        if *count >= MAX_DOUBTS_PER_KEY {
            return;
        }
        let f = Finding::Doubt {
            line,
            key: key.to_string(),
            why,
        };
        if self.seen.insert(f.clone()) {
            *count += 1;
            self.findings.push(f);
        }
    }

    fn sets(&mut self, line: usize, key: &str, value: &str, how: String, conditional: bool) {
        self.findings.push(Finding::Sets {
            line,
            key: key.to_string(),
            value: value.trim().to_string(),
            how,
            conditional,
        });
    }

    /// A doubt for each key the texts mention.
    fn mention_check(&mut self, texts: &[&str], line: usize, what: &str) {
        for (key, _) in self.keys() {
            if texts.iter().any(|t| sysctl_key::mentioned(t, &key)) {
                self.doubt(
                    line,
                    &key,
                    format!("{what} mentions {key} in a way the provider cannot evaluate"),
                );
            }
        }
        for name in self.mentions {
            if texts.iter().any(|t| word_in(t, name)) {
                self.doubt(
                    line,
                    name,
                    format!("{what} mentions {name} in a way the provider cannot evaluate"),
                );
            }
        }
    }

    /// A doubt for every key: code the provider cannot read runs.
    fn opaque_code(&mut self, line: usize, why: &str) {
        for (key, _) in self.keys() {
            self.doubt(
                line,
                &key,
                format!("{why}, so whether it changes {key} cannot be known"),
            );
        }
        for name in self.mentions {
            self.doubt(
                line,
                name,
                format!("{why}, so whether it changes {name} cannot be known"),
            );
        }
    }

    fn resolve(&self, w: &Word) -> Text {
        let mut t = Text::literal("");
        for p in &w.pieces {
            match p {
                Piece::Lit(s) => t.s.push_str(s),
                Piece::Glob(c) => {
                    t.s.push(*c);
                    t.glob = true;
                }
                Piece::Var(v) => match self.vars.get(v) {
                    Some(Some(value)) => t.s.push_str(value),
                    _ => {
                        t.s.push('$');
                        t.s.push_str(v);
                        t.known = false;
                    }
                },
                Piece::Dynamic(raw) => {
                    t.s.push_str(raw);
                    t.known = false;
                }
            }
        }
        t
    }

    fn script(&mut self, text: &str, line_offset: usize) {
        if self.depth > MAX_DEPTH {
            self.opaque_code(
                line_offset.max(1),
                "scripts nest deeper than the provider follows",
            );
            return;
        }
        self.depth += 1;
        let tokens = lex::lex(text);
        let mut pipeline: Vec<Cmd> = Vec::new();
        let mut cmd = Cmd::default();
        let mut after_and_or = false;
        let mut iter = tokens.into_iter().peekable();
        while let Some(t) = iter.next() {
            let line = t.line + line_offset;
            if cmd.words.is_empty() && cmd.redirects.is_empty() {
                cmd.line = line;
            }
            match t.tok {
                Tok::Word(w) => cmd.words.push(w),
                Tok::Redirect { fd, kind } => {
                    let target = match iter.peek().map(|n| &n.tok) {
                        Some(Tok::Word(_) | Tok::HereBody { .. }) => iter.next().map(|n| n.tok),
                        _ => None,
                    };
                    cmd.redirects.push((fd, kind, target));
                }
                Tok::HereBody { .. } => {}
                Tok::Op(Op::Pipe) => pipeline.push(std::mem::take(&mut cmd)),
                Tok::Op(op @ (Op::End | Op::AndOr | Op::Paren)) => {
                    pipeline.push(std::mem::take(&mut cmd));
                    let conditional = after_and_or || self.blocks > 0;
                    self.pipeline(std::mem::take(&mut pipeline), conditional);
                    // `a && b`, `a || b`: b runs only when a condition holds.
                    after_and_or = op == Op::AndOr;
                }
            }
        }
        self.depth -= 1;
    }

    fn pipeline(&mut self, cmds: Vec<Cmd>, conditional: bool) {
        let mut input: Option<Content> = None;
        for mut cmd in cmds {
            cmd.conditional |= conditional;
            let mut stdin = input.take();
            for (_, kind, target) in &cmd.redirects {
                match (kind, target) {
                    (Redirect::Heredoc, Some(Tok::HereBody { text, .. })) => {
                        stdin = Some(Content::known(text.clone()));
                    }
                    (Redirect::HereString, Some(Tok::Word(w))) => {
                        let t = self.resolve(w);
                        stdin = Some(Content::known(format!("{}\n", t.s)));
                    }
                    (Redirect::Read, Some(Tok::Word(w))) => {
                        let t = self.resolve(w);
                        stdin = Some(self.read_file(&t));
                    }
                    _ => {}
                }
            }
            let out = self.command(&cmd, stdin);
            let mut redirected = false;
            for (fd, kind, target) in &cmd.redirects {
                let append = match kind {
                    Redirect::Write => false,
                    Redirect::Append => true,
                    _ => continue,
                };
                if !matches!(fd, None | Some(1)) {
                    continue;
                }
                if let Some(Tok::Word(w)) = target {
                    let t = self.resolve(w);
                    self.write(&t, out.clone(), append, cmd.line, cmd.conditional);
                    redirected = true;
                }
            }
            input = Some(if redirected { Content::empty() } else { out });
        }
    }

    fn read_file(&self, path: &Text) -> Content {
        if !path.known {
            return Content::opaque();
        }
        self.files
            .get(&normal_path(&path.s))
            .cloned()
            .unwrap_or_else(Content::opaque)
    }

    /// Track `if`…`fi` and loops by their reserved words; returns the
    /// words after the reserved ones.
    fn strip_reserved(&mut self, words: &mut Vec<Text>) {
        while let Some(first) = words.first() {
            match first.s.as_str() {
                "if" | "while" | "until" | "case" | "select" | "for" => {
                    self.blocks += 1;
                    if matches!(first.s.as_str(), "for" | "case" | "select") {
                        // The rest is a loop header or a case word.
                        words.clear();
                        return;
                    }
                    words.remove(0);
                }
                "fi" | "done" | "esac" => {
                    self.blocks = self.blocks.saturating_sub(1);
                    words.remove(0);
                }
                "then" | "else" | "elif" | "do" | "!" | "{" | "}" | "time" => {
                    words.remove(0);
                }
                _ => return,
            }
        }
    }

    fn command(&mut self, cmd: &Cmd, stdin: Option<Content>) -> Content {
        let mut words: Vec<Text> = cmd.words.iter().map(|w| self.resolve(w)).collect();
        let raw: Vec<String> = words.iter().map(|w| w.s.clone()).collect();
        if let Some(first) = words.first()
            && matches!(first.s.as_str(), "for" | "case" | "select")
        {
            let refs: Vec<&str> = raw.iter().map(String::as_str).collect();
            self.mention_check(&refs, cmd.line, &format!("`{}`", shorten(&raw.join(" "))));
        }
        self.strip_reserved(&mut words);
        // Leading assignments (NAME=value) set variables.
        let mut i = 0;
        while i < words.len()
            && words[i]
                .s
                .split_once('=')
                .is_some_and(|(n, _)| lex::is_name(n))
        {
            let (name, value) = words[i].s.split_once('=').unwrap_or_default();
            let v = words[i].known.then(|| value.to_string());
            self.vars.insert(name.to_string(), v);
            i += 1;
        }
        let words = words.split_off(i);
        self.run(words, stdin, cmd.line, cmd.conditional)
    }

    fn run(
        &mut self,
        words: Vec<Text>,
        stdin: Option<Content>,
        line: usize,
        conditional: bool,
    ) -> Content {
        let Some(first) = words.first() else {
            return Content::empty();
        };
        let text = words
            .iter()
            .map(|w| w.s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let what = format!("`{}`", shorten(&text));
        if !first.known {
            let mut texts: Vec<&str> = words.iter().map(|w| w.s.as_str()).collect();
            if let Some(c) = &stdin {
                texts.push(&c.text);
            }
            self.mention_check(&texts, line, &what);
            return Content::opaque();
        }
        let name = basename(&first.s).to_string();
        let args = &words[1..];
        match name.as_str() {
            "sudo" | "doas" => self.run(
                skip_options(args, &["-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U"]),
                stdin,
                line,
                conditional,
            ),
            "command" | "exec" | "nohup" | "builtin" | "stdbuf" => {
                self.run(skip_options(args, &[]), stdin, line, conditional)
            }
            "nice" | "ionice" => {
                self.run(skip_options(args, &["-n", "-c"]), stdin, line, conditional)
            }
            "timeout" => {
                let rest = skip_options(args, &["-s", "-k"]);
                self.run(rest.into_iter().skip(1).collect(), stdin, line, conditional)
            }
            "env" => {
                let rest: Vec<Text> = skip_options(args, &["-u", "-C", "-S"])
                    .into_iter()
                    .skip_while(|w| w.s.split_once('=').is_some_and(|(n, _)| lex::is_name(n)))
                    .collect();
                self.run(rest, stdin, line, conditional)
            }
            "nsenter" | "chroot" | "unshare" => {
                // Runs its command in another namespace or root: the paths
                // may not be the node's.
                let texts: Vec<&str> = words.iter().map(|w| w.s.as_str()).collect();
                self.mention_check(&texts, line, &what);
                Content::opaque()
            }
            "export" | "local" | "declare" | "typeset" | "readonly" => {
                for w in args {
                    if let Some((n, v)) = w.s.split_once('=')
                        && lex::is_name(n)
                    {
                        self.vars
                            .insert(n.to_string(), w.known.then(|| v.to_string()));
                    }
                }
                Content::empty()
            }
            "echo" => Content::known(echo(args)),
            "printf" => printf(args).map_or_else(Content::opaque, Content::known),
            "cat" => {
                let files: Vec<&Text> = args
                    .iter()
                    .filter(|a| !a.s.starts_with('-') || a.s == "-")
                    .collect();
                if files.is_empty() {
                    return stdin.unwrap_or_else(Content::empty);
                }
                let mut out = Content::empty();
                for f in files {
                    let c = if f.s == "-" {
                        stdin.clone().unwrap_or_else(Content::empty)
                    } else {
                        self.read_file(f)
                    };
                    out.text.push_str(&c.text);
                    out.opaque |= c.opaque;
                }
                out
            }
            "tee" => {
                let append = args.iter().any(|a| a.s == "-a" || a.s == "--append");
                let input = stdin.unwrap_or_else(Content::opaque);
                for a in args.iter().filter(|a| !a.s.starts_with('-')) {
                    self.write(a, input.clone(), append, line, conditional);
                }
                input
            }
            "dd" => {
                let mut input = stdin.unwrap_or_else(Content::opaque);
                if let Some(f) = args.iter().find_map(|a| a.s.strip_prefix("if=")) {
                    input = self.read_file(&Text::literal(f));
                }
                for a in args {
                    if let Some(target) = a.s.strip_prefix("of=") {
                        let t = Text {
                            s: target.to_string(),
                            ..a.clone()
                        };
                        self.write(&t, input.clone(), false, line, conditional);
                    }
                }
                Content::empty()
            }
            "cp" | "install" | "mv" | "ln" => {
                self.copy(args, line, conditional, &what);
                Content::empty()
            }
            "sysctl" => {
                self.sysctl(args, stdin, line, conditional, &what);
                Content::empty()
            }
            "base64" => {
                let decode = args.iter().any(|a| {
                    a.s == "--decode"
                        || (a.s.starts_with('-') && !a.s.starts_with("--") && a.s.contains('d'))
                });
                let input = match args.iter().find(|a| !a.s.starts_with('-')) {
                    Some(f) => self.read_file(f),
                    None => stdin.unwrap_or_else(Content::opaque),
                };
                if !decode {
                    return Content::opaque();
                }
                decode_base64(&input)
            }
            "eval" => {
                if args.iter().all(|a| a.known) {
                    let code = args
                        .iter()
                        .map(|a| a.s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    self.script(&code, line.saturating_sub(1));
                } else {
                    self.opaque_code(line, &format!("{what} runs code built at run time"));
                }
                Content::opaque()
            }
            "source" | "." => {
                match args.first() {
                    Some(f) if !f.known => {
                        self.opaque_code(
                            line,
                            &format!("{what} sources a file the provider cannot read"),
                        );
                    }
                    Some(f) => {
                        let c = self.read_file(f);
                        if self.files.contains_key(&normal_path(&f.s)) {
                            self.nested(&c, line, &what);
                        }
                    }
                    None => {}
                }
                Content::opaque()
            }
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "busybox" => {
                self.shell(&name, args, stdin, line, &what);
                Content::opaque()
            }
            "xargs" => {
                let rest = skip_options(args, &["-n", "-I", "-L", "-P", "-d", "-E", "-s", "-a"]);
                match stdin {
                    Some(c) if !c.opaque && !dynamic_line(&c.text) => {
                        let mut cmd = rest;
                        cmd.extend(c.text.split_whitespace().map(Text::literal));
                        self.run(cmd, None, line, conditional)
                    }
                    other => {
                        let mut texts: Vec<&str> = rest.iter().map(|w| w.s.as_str()).collect();
                        let text = other.map(|c| c.text).unwrap_or_default();
                        texts.push(&text);
                        if rest.first().is_some_and(|w| basename(&w.s) == "sysctl") {
                            self.opaque_code(
                                line,
                                &format!(
                                    "{what} runs sysctl with arguments the provider cannot read"
                                ),
                            );
                        } else {
                            self.mention_check(&texts, line, &what);
                        }
                        Content::opaque()
                    }
                }
            }
            "grep" | "egrep" | "fgrep" | "zgrep" | "head" | "tail" | "test" | "[" | "[["
            | "logger" | "wc" | "true" | "false" | ":" | "stat" | "ls" | "diff" | "cmp"
            | "sleep" | "set" | "exit" | "return" | "modprobe" | "systemctl" | "mkdir"
            | "chmod" | "chown" | "touch" => Content::opaque(),
            _ => {
                let mut texts: Vec<&str> = words.iter().map(|w| w.s.as_str()).collect();
                if let Some(c) = &stdin {
                    texts.push(&c.text);
                }
                self.mention_check(&texts, line, &what);
                Content::opaque()
            }
        }
    }

    /// Follow code the script runs from text it holds.
    fn nested(&mut self, code: &Content, line: usize, what: &str) {
        if code.opaque {
            self.opaque_code(line, &format!("{what} runs a script the provider cannot read (downloaded, decoded or computed)"));
        } else {
            self.script(&code.text.clone(), line.saturating_sub(1));
        }
    }

    fn shell(
        &mut self,
        name: &str,
        args: &[Text],
        stdin: Option<Content>,
        line: usize,
        what: &str,
    ) {
        let args: Vec<&Text> = if name == "busybox" {
            args.iter().skip(1).collect()
        } else {
            args.iter().collect()
        };
        if let Some(pos) = args.iter().position(|a| {
            a.s == "-c" || (a.s.starts_with('-') && !a.s.starts_with("--") && a.s.ends_with('c'))
        }) {
            match args.get(pos + 1) {
                Some(code) if code.known => self.script(&code.s.clone(), line.saturating_sub(1)),
                Some(_) => self.opaque_code(line, &format!("{what} runs code built at run time")),
                None => {}
            }
            return;
        }
        match args.iter().find(|a| !a.s.starts_with('-')) {
            Some(file) if !file.known => {
                self.opaque_code(
                    line,
                    &format!("{what} runs a script whose name is computed at run time"),
                );
            }
            Some(file) => {
                if self.files.contains_key(&normal_path(&file.s)) {
                    let c = self.read_file(file);
                    self.nested(&c, line, what);
                }
            }
            None => {
                let code = stdin.unwrap_or_else(Content::empty);
                self.nested(&code, line, what);
            }
        }
    }

    fn copy(&mut self, args: &[Text], line: usize, conditional: bool, what: &str) {
        let operands: Vec<&Text> = {
            let mut out = Vec::new();
            let mut skip = false;
            for a in args {
                if skip {
                    skip = false;
                    continue;
                }
                if matches!(
                    a.s.as_str(),
                    "-m" | "-o" | "-g" | "-t" | "-S" | "--mode" | "--owner" | "--group"
                ) {
                    skip = true;
                    continue;
                }
                if !a.s.starts_with('-') {
                    out.push(a);
                }
            }
            out
        };
        let Some((dest, sources)) = operands.split_last() else {
            return;
        };
        for src in sources {
            let content = self.read_file(src);
            let target = if dest.s.ends_with('/') || is_sysctl_dir(&dest.s) {
                Text {
                    s: format!("{}/{}", dest.s.trim_end_matches('/'), basename(&src.s)),
                    ..(*dest).clone()
                }
            } else {
                (*dest).clone()
            };
            if !src.known {
                let texts = [src.s.as_str(), target.s.as_str()];
                self.mention_check(&texts, line, what);
            }
            self.write(&target, content, false, line, conditional);
        }
    }

    fn write(
        &mut self,
        target: &Text,
        content: Content,
        append: bool,
        line: usize,
        conditional: bool,
    ) {
        if !target.known {
            let texts = [target.s.as_str(), content.text.as_str()];
            self.mention_check(&texts, line, &format!("a write to {}", target.s));
            return;
        }
        let path = normal_path(&target.s);
        if let Some(proc) = sysctl_key::proc_path(&path) {
            for (key, _) in self.keys() {
                let ours = sysctl_key::procps_path(&key);
                let hit = if target.glob {
                    sysctl_key::names(&proc, &key)
                } else {
                    proc == ours
                };
                if !hit {
                    continue;
                }
                let value = content.text.trim();
                if content.opaque || dynamic_line(value) || value.is_empty() {
                    self.doubt(
                        line,
                        &key,
                        format!("a write to {path} has a value computed at run time"),
                    );
                } else {
                    self.sets(
                        line,
                        &key,
                        value,
                        format!("writing {value} to {path}"),
                        conditional,
                    );
                }
            }
            return;
        }
        if is_sysctl_conf(&path) {
            self.conf(&content, line, &path, conditional);
            return;
        }
        if target.glob && (path.starts_with("/etc/sysctl") || path.contains("/sysctl.d/")) {
            self.mention_check(&[&content.text], line, &format!("a write to {path}"));
            return;
        }
        for name in self.mentions {
            if word_in(&content.text, name) {
                self.doubt(
                    line,
                    name,
                    format!(
                        "a file written to {path} mentions {name}; what reads it cannot be known"
                    ),
                );
            }
        }
        let entry = self.files.entry(path).or_insert_with(Content::empty);
        if append {
            entry.text.push_str(&content.text);
            entry.opaque |= content.opaque;
        } else {
            *entry = content;
        }
    }

    /// Lines of a sysctl.d file (procps `parse_setting_line`).
    fn conf(&mut self, content: &Content, line: usize, place: &str, conditional: bool) {
        if content.opaque {
            self.opaque_code(
                line,
                &format!("content the provider cannot read goes to {place}, which sysctl applies"),
            );
            return;
        }
        for l in content.text.lines() {
            let l = l.trim_start();
            if l.len() < 2 || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            let Some((key, value)) = l.split_once('=') else {
                continue;
            };
            for (ours, _) in self.keys() {
                if !sysctl_key::names(key, &ours) {
                    if dynamic_line(key) {
                        self.doubt(
                            line,
                            &ours,
                            format!("`{}` in {place} has a key computed at run time", shorten(l)),
                        );
                    }
                    continue;
                }
                if dynamic_line(l) {
                    self.doubt(
                        line,
                        &ours,
                        format!("`{}` in {place} is computed at run time", shorten(l)),
                    );
                } else {
                    self.sets(
                        line,
                        &ours,
                        value,
                        format!("`{}` in {place}", shorten(l.trim())),
                        conditional,
                    );
                }
            }
        }
    }

    fn sysctl(
        &mut self,
        args: &[Text],
        stdin: Option<Content>,
        line: usize,
        conditional: bool,
        what: &str,
    ) {
        let mut write_mode = false;
        let mut load: Option<Vec<Text>> = None;
        let mut positional: Vec<&Text> = Vec::new();
        let mut iter = args.iter();
        let mut options_done = false;
        while let Some(a) = iter.next() {
            let s = a.s.as_str();
            if options_done || !s.starts_with('-') || s == "-" {
                positional.push(a);
                continue;
            }
            if s == "--" {
                options_done = true;
            } else if s == "--write" {
                write_mode = true;
            } else if s == "--load" || s == "--system" {
                load.get_or_insert_with(Vec::new);
            } else if let Some(f) = s.strip_prefix("--load=") {
                load.get_or_insert_with(Vec::new).push(Text {
                    s: f.to_string(),
                    ..a.clone()
                });
            } else if s == "--pattern" {
                iter.next();
            } else if !s.starts_with("--") {
                let flags: Vec<char> = s[1..].chars().collect();
                for (i, c) in flags.iter().enumerate() {
                    match c {
                        'w' => write_mode = true,
                        'p' | 'f' => {
                            let rest: String = flags[i + 1..].iter().collect();
                            let files = load.get_or_insert_with(Vec::new);
                            if !rest.is_empty() {
                                files.push(Text {
                                    s: rest,
                                    ..a.clone()
                                });
                            }
                            break;
                        }
                        'r' => {
                            if i + 1 == flags.len() {
                                iter.next();
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(mut files) = load {
            let system = args.iter().any(|a| a.s == "--system");
            if system {
                return;
            }
            files.extend(positional.into_iter().cloned());
            if files.is_empty() {
                files.push(Text::literal("/etc/sysctl.conf"));
            }
            for f in files {
                if !f.known {
                    self.opaque_code(
                        line,
                        &format!("{what} loads a file whose name is computed at run time"),
                    );
                } else if f.s == "-" || f.s == "/dev/stdin" {
                    let c = stdin.clone().unwrap_or_else(Content::opaque);
                    self.conf(&c, line, "sysctl's input", conditional);
                } else if let Some(c) = self.files.get(&normal_path(&f.s)).cloned() {
                    let place = normal_path(&f.s);
                    self.conf(&c, line, &place, conditional);
                }
            }
            return;
        }
        for p in positional {
            if !(write_mode || p.s.contains('=')) {
                continue;
            }
            let (key, value) = p.s.split_once('=').unwrap_or((p.s.as_str(), ""));
            for (ours, _) in self.keys() {
                if dynamic_line(key) {
                    self.doubt(
                        line,
                        &ours,
                        format!("{what} sets a key computed at run time"),
                    );
                } else if sysctl_key::names(key, &ours) {
                    if dynamic_line(value) {
                        self.doubt(
                            line,
                            &ours,
                            format!("{what} sets it to a value computed at run time"),
                        );
                    } else {
                        self.sets(line, &ours, value, what.to_string(), conditional);
                    }
                }
            }
        }
    }
}

/// A whole word `name` in `text` (letters, digits and `_` around it end it).
fn word_in(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(word)
            && !text[at + name.len()..].chars().next().is_some_and(word)
    })
}

fn shorten(s: &str) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line
    }
}

/// The words after a command's options (`takes_value` options skip the next
/// word too).
fn skip_options(args: &[Text], takes_value: &[&str]) -> Vec<Text> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(a) = iter.next() {
        if a.s == "--" {
            out.extend(iter.cloned());
            break;
        }
        if a.s.starts_with('-') && a.s.len() > 1 {
            if takes_value.contains(&a.s.as_str()) {
                iter.next();
            }
            continue;
        }
        out.push(a.clone());
        out.extend(iter.cloned());
        break;
    }
    out
}

fn echo(args: &[Text]) -> String {
    let mut newline = true;
    let mut escapes = false;
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first() {
        let s = first.s.as_str();
        if s.len() > 1 && s.starts_with('-') && s[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
        {
            newline &= !s.contains('n');
            escapes = s.contains('e');
            rest = tail;
        } else {
            break;
        }
    }
    let mut out = rest
        .iter()
        .map(|a| a.s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if escapes {
        out = unescape(&out);
    }
    if newline {
        out.push('\n');
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

/// `printf FORMAT ARGS…` for `%s`, `%d`, `%i`, `%u`, `%%` and `\n`;
/// `None` for other directives.
fn printf(args: &[Text]) -> Option<String> {
    let (format, values) = args.split_first()?;
    let format = unescape(&format.s);
    let mut values = values.iter().map(|v| v.s.as_str());
    let mut out = String::new();
    loop {
        let mut used = false;
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s' | 'd' | 'i' | 'u') => {
                    used = true;
                    out.push_str(values.next().unwrap_or_default());
                }
                _ => return None,
            }
        }
        if !used || values.len() == 0 {
            break;
        }
    }
    Some(out)
}

fn decode_base64(input: &Content) -> Content {
    if input.opaque || dynamic_line(&input.text) {
        return Content::opaque();
    }
    let compact: String = input
        .text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map_or_else(Content::opaque, Content::known)
}

#[cfg(test)]
mod tests;
