use super::*;

fn doc(boundary: &str, body: &str) -> String {
    format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\n\n{body}")
}

#[test]
fn delimiters_count_only_as_whole_lines() {
    let text = doc(
        "b",
        "preamble --b is not a part\n--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho --b\necho x--b\n--bogus\n--b  \t\nContent-Type: text/plain\n\ntwo\n--b--  \nepilogue\n--b\nContent-Type: text/plain\n\nnot a part\n",
    );
    let parts = parse(&text).unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].body, "#!/bin/sh\necho --b\necho x--b\n--bogus\n");
    assert_eq!(parts[1].body, "two\n");
}

#[test]
fn headers_are_kept_unfolded_and_parameters_read() {
    let text = doc(
        "b",
        "--b\nContent-Type: text/x-shellscript;\n charset=\"utf-8\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"setup; one.sh\"\nX-Merge-Type: list(append)\n\nIyEvYmluL3NoCmVjaG8gaGkK\n--b--\n",
    );
    let parts = parse(&text).unwrap();
    let p = &parts[0];
    assert_eq!(p.content_type, "text/x-shellscript; charset=\"utf-8\"");
    assert_eq!(p.media_type(), "text/x-shellscript");
    assert_eq!(p.transfer_encoding(), "base64");
    assert_eq!(p.filename().as_deref(), Some("setup; one.sh"));
    assert_eq!(p.header("x-merge-type"), Some("list(append)"));
    assert_eq!(
        p.content().unwrap(),
        Content::Text("#!/bin/sh\necho hi\n".into())
    );
    // Rendered again, every header is there.
    let again = render(&parts);
    assert!(
        again.contains("\nContent-Transfer-Encoding: base64\n"),
        "{again}"
    );
    assert!(again.contains("\nContent-Disposition: attachment; filename=\"setup; one.sh\"\n"));
    assert_eq!(parse(&again).unwrap(), parts);
}

#[test]
fn the_boundary_never_occurs_in_a_part() {
    let hostile = Part::new(
        "text/x-shellscript",
        format!(
            "#!/bin/bash\necho start\n--{DEFAULT_BOUNDARY}\nContent-Type: text/x-shellscript\n\n#!/bin/bash\necho injected\n--{DEFAULT_BOUNDARY}--\n"
        ),
    );
    let ours = Part::new("application/node.eks.aws", "---\nkind: NodeConfig\n");
    let parts = vec![hostile, ours];
    let text = render(&parts);
    let boundary = boundary_for(&parts);
    assert_ne!(boundary, DEFAULT_BOUNDARY);
    assert!(parts.iter().all(|p| !p.body.contains(&boundary)));
    assert_eq!(text, render(&parts), "deterministic");
    assert_eq!(parse(&text).unwrap(), parts);
    // Without the default in any part, the bytes are what they always were.
    let plain = vec![Part::new("text/x-shellscript", "#!/bin/sh\necho hi\n")];
    assert_eq!(
        render(&plain),
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//NESTED-BOUNDARY//\"\n\n--//NESTED-BOUNDARY//\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--//NESTED-BOUNDARY//--\n"
    );
    // A part that also holds the derived boundary gets another.
    let derived = format!("//NESTED-BOUNDARY-{:016x}//", fnv1a(&parts));
    let both = vec![Part::new(
        "text/plain",
        format!("{DEFAULT_BOUNDARY} {derived}\n"),
    )];
    let b = boundary_for(&both);
    assert!(!both[0].body.contains(&b), "{b}");
}

#[test]
fn what_readers_would_split_differently_is_refused() {
    for bad in [
        // A boundary after a lone CR (cloud-init splits, nodeadm does not).
        doc(
            "b",
            "--b\nContent-Type: text/plain\n\nx\r--b\nContent-Type: text/x-shellscript\n\nevil\n--b--\n",
        ),
        // After U+2028.
        doc(
            "b",
            "--b\nContent-Type: text/plain\n\nx\u{2028}--b--\n--b--\n",
        ),
        // In the preamble.
        doc(
            "b",
            "x\u{85}--b\nContent-Type: text/plain\n\nhidden\n--b\nContent-Type: text/plain\n\ny\n--b--\n",
        ),
        // A header value with a line break only Python sees.
        doc(
            "b",
            "--b\nContent-Type: text/plain\u{2028}X: y\n\nx\n--b--\n",
        ),
        // No close delimiter.
        doc("b", "--b\nContent-Type: text/plain\n\nx\n"),
        // Not a header, no empty line after the headers.
        doc(
            "b",
            "--b\nContent-Type: text/plain\n#!/bin/sh\n\nx\n--b--\n",
        ),
        // base64 declared, not base64.
        doc(
            "b",
            "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nnot base64!\n--b--\n",
        ),
        // A transfer encoding nobody here reads.
        doc(
            "b",
            "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nx\n--b--\n",
        ),
    ] {
        assert!(parse(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn quoted_printable_and_empty_bodies() {
    let text = doc(
        "b",
        "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nsysctl -w a=3D1 =\nb\n--b\nContent-Type: text/plain\n\n--b--\n",
    );
    let parts = parse(&text).unwrap();
    assert_eq!(
        parts[0].content().unwrap(),
        Content::Text("sysctl -w a=1 b\n".into())
    );
    assert_eq!(parts[1].body, "");
    assert_eq!(parse(&render(&parts)).unwrap(), parts);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn body() -> impl Strategy<Value = String> {
        // Lines that are, or look like, delimiters and headers.
        let line = prop_oneof![
            "[a-z #!=-]{0,12}",
            Just(format!("--{DEFAULT_BOUNDARY}")),
            Just(format!("--{DEFAULT_BOUNDARY}--")),
            Just("Content-Type: text/x-shellscript".to_string()),
            Just(String::new()),
        ];
        prop::collection::vec(line, 0..8).prop_map(|lines| {
            let mut s = lines.join("\n");
            s.push('\n');
            s
        })
    }

    proptest! {
        #[test]
        fn any_parts_render_to_a_document_that_reads_back_as_them(
            bodies in prop::collection::vec(body(), 1..4)
        ) {
            let parts: Vec<Part> = bodies
                .into_iter()
                .map(|b| Part::new("text/x-shellscript", b))
                .collect();
            let text = render(&parts);
            prop_assert_eq!(parse(&text).unwrap(), parts);
        }
    }
}
