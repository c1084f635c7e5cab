//! Karpenter v1 field formats, as the NodePool CRD validates them
//! (kubernetes-sigs/karpenter:pkg/apis/v1/nodepool.go): `expireAfter` and
//! `consolidateAfter` match `^(([0-9]+(s|m|h))+|Never)$`, a budget's
//! `nodes` matches `^((100|[0-9]{1,2})%|[0-9]+)$`.

/// The seconds of a Karpenter duration (`720h`, `1h30m`), `None` for
/// `Never`; an error says what the CRD accepts.
pub fn duration_seconds(text: &str) -> Result<Option<u64>, String> {
    if text == "Never" {
        return Ok(None);
    }
    let bad = || {
        format!(
            "{} is not a Karpenter duration: whole numbers with s, m or h (e.g. \"720h\", \"1h30m\") or \"Never\"",
            super::quoted(text)
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if digits.is_empty() {
        Ok(Some(total))
    } else {
        Err(bad())
    }
}

/// A disruption budget's `nodes`: a percentage up to 100% or a count.
pub fn budget_nodes(text: &str) -> Result<(), String> {
    let ok = match text.strip_suffix('%') {
        Some(p) => {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() < 3 || p == "100")
        }
        None => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a budget: a percentage such as \"10%\" (at most 100%) or a node count such as \"1\"",
            super::quoted(text)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_crd_pattern() {
        assert_eq!(duration_seconds("720h"), Ok(Some(720 * 3600)));
        assert_eq!(duration_seconds("1h30m"), Ok(Some(5400)));
        assert_eq!(duration_seconds("0s"), Ok(Some(0)));
        assert_eq!(duration_seconds("Never"), Ok(None));
        for bad in ["", "1.5h", "10", "h", "5d", "-1h", "500ms", "never"] {
            assert!(duration_seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn budgets_follow_the_crd_pattern() {
        for ok in ["10%", "100%", "0%", "1", "25"] {
            assert!(budget_nodes(ok).is_ok(), "{ok:?}");
        }
        for bad in ["101%", "1000%", "%", "", "ten", "1.5"] {
            assert!(budget_nodes(bad).is_err(), "{bad:?}");
        }
    }
}
