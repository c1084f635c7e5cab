//! A POSIX-shell tokenizer just deep enough to read what a bootstrap script
//! writes: words (quotes, escapes, `$VAR`, `$(…)`, backquotes, globs),
//! operators, redirections and here-documents, with line numbers.
//! Whatever it cannot take literally (a command substitution, an unknown
//! variable) is kept as a dynamic piece, never guessed.

/// One piece of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text (quotes and escapes undone).
    Lit(String),
    /// `$NAME` or `${NAME}`.
    Var(String),
    /// Anything computed at run time (`$(…)`, `` `…` ``, `$1`, `${x:-y}`,
    /// `<(…)`), as written.
    Dynamic(String),
    /// An unquoted glob character (`*`, `?`, `[`).
    Glob(char),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub pieces: Vec<Piece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    /// `>`, `>|`, `&>` (fd 1 or both).
    Write,
    /// `>>`, `&>>`.
    Append,
    /// `<`
    Read,
    /// `<<`, `<<-`: the body follows as [`Tok::HereBody`].
    Heredoc,
    /// `<<<`
    HereString,
    /// `>&`, `<&`, `<>`: descriptor plumbing, no content.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `;`, `;;`, `&`, a newline: the end of a pipeline.
    End,
    /// `&&`, `||`: the end of a pipeline; the next runs conditionally.
    AndOr,
    /// `|`, `|&`
    Pipe,
    /// `(`, `)`
    Paren,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Word(Word),
    Op(Op),
    Redirect {
        /// The descriptor written before it (`2>`), if any.
        fd: Option<u32>,
        kind: Redirect,
    },
    /// A here-document's body; `dynamic` when its delimiter was unquoted and
    /// the body expands something.
    HereBody {
        text: String,
        dynamic: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based line the token starts on.
    pub line: usize,
}

struct PendingHeredoc {
    /// Index of the delimiter word token, replaced by the body.
    at: usize,
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    out: Vec<Token>,
    pending: Vec<PendingHeredoc>,
    /// The next word is a heredoc delimiter (strip tabs?).
    want_delimiter: Option<bool>,
}

fn is_operator_char(c: char) -> bool {
    matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')')
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek(i) == Some(c))
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    fn run(mut self) -> Vec<Token> {
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' => self.pos += 1,
                '\\' if self.peek(1) == Some('\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\n' => {
                    self.push(Tok::Op(Op::End), self.line);
                    self.pos += 1;
                    self.line += 1;
                    self.read_heredoc_bodies();
                }
                c if c.is_ascii_digit() && self.fd_redirect_follows() => {
                    let start = self.pos;
                    while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                    let fd: String = self.chars[start..self.pos].iter().collect();
                    self.operator(fd.parse().ok());
                }
                '<' | '>' if self.peek(1) == Some('(') => {
                    let line = self.line;
                    let raw = self.balanced(1);
                    self.push(
                        Tok::Word(Word {
                            pieces: vec![Piece::Dynamic(raw)],
                        }),
                        line,
                    );
                }
                c if is_operator_char(c) => self.operator(None),
                _ => {
                    let before = self.pos;
                    self.word();
                    // Never stand still, whatever the input.
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
            }
        }
        self.push(Tok::Op(Op::End), self.line);
        self.out
    }

    /// Digits directly followed by `<` or `>`.
    fn fd_redirect_follows(&self) -> bool {
        let mut i = 0;
        while self.peek(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        matches!(self.peek(i), Some('<' | '>'))
    }

    fn operator(&mut self, fd: Option<u32>) {
        let line = self.line;
        let table: [(&str, Tok); 20] = [
            (
                "&>>",
                Tok::Redirect {
                    fd: None,
                    kind: Redirect::Append,
                },
            ),
            (
                "&>",
                Tok::Redirect {
                    fd: None,
                    kind: Redirect::Write,
                },
            ),
            (
                "<<<",
                Tok::Redirect {
                    fd,
                    kind: Redirect::HereString,
                },
            ),
            (
                "<<-",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Heredoc,
                },
            ),
            (
                "<<",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Heredoc,
                },
            ),
            (
                ">>",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Append,
                },
            ),
            (
                ">|",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Write,
                },
            ),
            (
                ">&",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Other,
                },
            ),
            (
                "<&",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Other,
                },
            ),
            (
                "<>",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Other,
                },
            ),
            (
                ">",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Write,
                },
            ),
            (
                "<",
                Tok::Redirect {
                    fd,
                    kind: Redirect::Read,
                },
            ),
            ("&&", Tok::Op(Op::AndOr)),
            ("||", Tok::Op(Op::AndOr)),
            ("|&", Tok::Op(Op::Pipe)),
            (";;", Tok::Op(Op::End)),
            ("|", Tok::Op(Op::Pipe)),
            ("&", Tok::Op(Op::End)),
            (";", Tok::Op(Op::End)),
            ("(", Tok::Op(Op::Paren)),
        ];
        if self.peek(0) == Some(')') {
            self.pos += 1;
            self.push(Tok::Op(Op::Paren), line);
            return;
        }
        for (text, tok) in table {
            if self.starts_with(text) {
                self.pos += text.chars().count();
                if matches!(
                    tok,
                    Tok::Redirect {
                        kind: Redirect::Heredoc,
                        ..
                    }
                ) {
                    self.want_delimiter = Some(text == "<<-");
                }
                self.push(tok, line);
                return;
            }
        }
        self.pos += 1;
    }

    /// `$(`…`)`, `<(`…`)`, `${`…`}` from `open` chars before the bracket,
    /// as written (quotes inside respected roughly).
    fn balanced(&mut self, prefix: usize) -> String {
        let start = self.pos;
        self.pos += prefix;
        let open = self.peek(0).unwrap_or('(');
        let close = if open == '{' { '}' } else { ')' };
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == '\n' {
                self.line += 1;
            }
            match quote {
                Some(q) if c == q => quote = None,
                Some('"') if c == '\\' => self.pos += 1,
                Some(_) => {}
                None => match c {
                    '\'' | '"' | '`' => quote = Some(c),
                    '\\' => self.pos += 1,
                    c if c == open => depth += 1,
                    c if c == close => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                },
            }
        }
        self.pos = self.pos.min(self.chars.len());
        self.chars[start..self.pos].iter().collect()
    }

    fn backquoted(&mut self) -> String {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '\\' => self.pos += 1,
                '`' => break,
                '\n' => self.line += 1,
                _ => {}
            }
        }
        self.pos = self.pos.min(self.chars.len());
        self.chars[start..self.pos].iter().collect()
    }

    /// `$…` at the cursor.
    fn dollar(&mut self) -> Piece {
        match self.peek(1) {
            Some('(') => Piece::Dynamic(self.balanced(1)),
            Some('{') => {
                let raw = self.balanced(1);
                let inner = raw
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix('}'))
                    .unwrap_or_default();
                if is_name(inner) {
                    Piece::Var(inner.to_string())
                } else {
                    Piece::Dynamic(raw)
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                self.pos += 1;
                let start = self.pos;
                while self
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.pos += 1;
                }
                Piece::Var(self.chars[start..self.pos].iter().collect())
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.pos += 2;
                Piece::Dynamic(format!("${c}"))
            }
            _ => {
                self.pos += 1;
                Piece::Lit("$".into())
            }
        }
    }

    fn word(&mut self) {
        let line = self.line;
        let mut w = Word::default();
        let mut lit = String::new();
        let mut quoted = false;
        let flush = |w: &mut Word, lit: &mut String| {
            if !lit.is_empty() {
                w.pieces.push(Piece::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = self.peek(0) {
            // Only space, tab and newline separate words (IFS); any other
            // character, U+2028 or CR included, is part of one.
            if matches!(c, ' ' | '\t' | '\n') || is_operator_char(c) {
                break;
            }
            match c {
                '\\' => {
                    match self.peek(1) {
                        Some('\n') => self.line += 1,
                        Some(n) => lit.push(n),
                        None => {}
                    }
                    self.pos += 2;
                }
                '\'' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        self.pos += 1;
                        if c == '\'' {
                            break;
                        }
                        if c == '\n' {
                            self.line += 1;
                        }
                        lit.push(c);
                    }
                }
                '$' if self.peek(1) == Some('\'') => {
                    quoted = true;
                    self.pos += 2;
                    while let Some(c) = self.peek(0) {
                        self.pos += 1;
                        match c {
                            '\'' => break,
                            '\\' => {
                                let e = self.peek(0).unwrap_or('\\');
                                self.pos += 1;
                                lit.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    'r' => '\r',
                                    other => other,
                                });
                            }
                            c => lit.push(c),
                        }
                    }
                }
                '"' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        match c {
                            '"' => {
                                self.pos += 1;
                                break;
                            }
                            '\\' if matches!(self.peek(1), Some('$' | '`' | '"' | '\\' | '\n')) => {
                                if self.peek(1) != Some('\n') {
                                    lit.push(self.peek(1).unwrap_or('\\'));
                                } else {
                                    self.line += 1;
                                }
                                self.pos += 2;
                            }
                            '$' => {
                                flush(&mut w, &mut lit);
                                let p = self.dollar();
                                w.pieces.push(p);
                            }
                            '`' => {
                                flush(&mut w, &mut lit);
                                let raw = self.backquoted();
                                w.pieces.push(Piece::Dynamic(raw));
                            }
                            c => {
                                if c == '\n' {
                                    self.line += 1;
                                }
                                lit.push(c);
                                self.pos += 1;
                            }
                        }
                    }
                }
                '$' => {
                    flush(&mut w, &mut lit);
                    let p = self.dollar();
                    w.pieces.push(p);
                }
                '`' => {
                    flush(&mut w, &mut lit);
                    let raw = self.backquoted();
                    w.pieces.push(Piece::Dynamic(raw));
                }
                '*' | '?' | '[' => {
                    flush(&mut w, &mut lit);
                    w.pieces.push(Piece::Glob(c));
                    self.pos += 1;
                }
                c => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut w, &mut lit);
        if let Some(strip_tabs) = self.want_delimiter.take() {
            let delimiter: String = w
                .pieces
                .iter()
                .map(|p| match p {
                    Piece::Lit(s) | Piece::Dynamic(s) => s.clone(),
                    Piece::Var(v) => format!("${v}"),
                    Piece::Glob(c) => c.to_string(),
                })
                .collect();
            self.pending.push(PendingHeredoc {
                at: self.out.len(),
                delimiter,
                strip_tabs,
                quoted,
            });
        }
        self.push(Tok::Word(w), line);
    }

    fn read_heredoc_bodies(&mut self) {
        for h in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            loop {
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let raw: String = self.chars[start..self.pos].iter().collect();
                let at_end = self.peek(0).is_none();
                if !at_end {
                    self.pos += 1;
                    self.line += 1;
                }
                let line = if h.strip_tabs {
                    raw.trim_start_matches('\t').to_string()
                } else {
                    raw
                };
                if line.trim_end_matches('\r') == h.delimiter {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
                if at_end {
                    break;
                }
            }
            let dynamic = !h.quoted && (body.contains('$') || body.contains('`'));
            if let Some(t) = self.out.get_mut(h.at) {
                t.tok = Tok::HereBody {
                    text: body,
                    dynamic,
                };
            }
        }
    }
}

pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The tokens of a script, ending with [`Op::End`].
pub fn lex(text: &str) -> Vec<Token> {
    Lexer {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        out: Vec::new(),
        pending: Vec::new(),
        want_delimiter: None,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<Piece>> {
        lex(text)
            .into_iter()
            .filter_map(|t| match t.tok {
                Tok::Word(w) => Some(w.pieces),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn quotes_escapes_and_variables() {
        assert_eq!(
            words("sysctl -w 'user.max_user_namespaces'=\"0\" $K ${V} \"$(id)\" a\\ b"),
            vec![
                vec![Piece::Lit("sysctl".into())],
                vec![Piece::Lit("-w".into())],
                vec![Piece::Lit("user.max_user_namespaces=0".into())],
                vec![Piece::Var("K".into())],
                vec![Piece::Var("V".into())],
                vec![Piece::Dynamic("$(id)".into())],
                vec![Piece::Lit("a b".into())],
            ]
        );
    }

    #[test]
    fn heredocs_become_bodies_with_their_lines() {
        let toks = lex("cat > /etc/x.conf <<'EOF'\nk = $v\nEOF\necho done\n");
        let body = toks
            .iter()
            .find_map(|t| match &t.tok {
                Tok::HereBody { text, dynamic } => Some((text.clone(), *dynamic)),
                _ => None,
            })
            .unwrap();
        assert_eq!(body, ("k = $v\n".to_string(), false));
        let echo = toks
            .iter()
            .find(|t| {
                t.tok
                    == Tok::Word(Word {
                        pieces: vec![Piece::Lit("echo".into())],
                    })
            })
            .unwrap();
        assert_eq!(echo.line, 4);
        let unquoted = lex("cat <<-EOF\n\tk = $v\n\tEOF\n");
        assert!(unquoted.iter().any(|t| t.tok
            == Tok::HereBody {
                text: "k = $v\n".into(),
                dynamic: true
            }));
    }

    #[test]
    fn redirections_and_operators() {
        let toks: Vec<Tok> = lex("echo 0 2>/dev/null >>/p | tee -a f && x")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert!(toks.contains(&Tok::Redirect {
            fd: Some(2),
            kind: Redirect::Write
        }));
        assert!(toks.contains(&Tok::Redirect {
            fd: None,
            kind: Redirect::Append
        }));
        assert!(toks.contains(&Tok::Op(Op::Pipe)));
        assert!(toks.contains(&Tok::Op(Op::AndOr)));
    }
}
