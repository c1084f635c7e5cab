//! EC2 instance type names (`m6i.large`, `c7g.2xlarge`, `x2gd.metal`) and
//! the CPU architecture they imply, from AWS's naming convention: family
//! letters, generation digits, attribute letters, `.`, size. The attribute
//! `g` means AWS Graviton (arm64); `a1` is the first Graviton generation.

use super::limits::Limits;
use super::quoted;

/// The parts of a well-formed name.
#[derive(Debug, PartialEq, Eq)]
pub struct InstanceType<'a> {
    pub family: &'a str,
    pub generation: &'a str,
    pub attributes: &'a str,
    pub size: &'a str,
}

impl InstanceType<'_> {
    pub fn is_arm64(&self, l: &Limits) -> bool {
        let series = format!("{}{}", self.family, self.generation);
        l.ec2.graviton_families.contains(&series)
            || self
                .attributes
                .split('-')
                .next()
                .is_some_and(|a| a.contains(l.ec2.graviton_attribute.as_str()))
    }
}

fn size_ok(size: &str, l: &Limits) -> bool {
    if l.ec2.sizes.iter().any(|s| s == size) {
        return true;
    }
    // `2xlarge` … `48xlarge`, `metal-24xl`, `metal-48xl`.
    let counted = |s: &str, suffix: &str| {
        s.strip_suffix(suffix).is_some_and(|n| {
            !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
        })
    };
    counted(size, "xlarge")
        || size
            .strip_prefix("metal-")
            .is_some_and(|m| counted(m, "xl"))
}

/// Parse `name`, or say why it is not an instance type.
pub fn parse<'a>(name: &'a str, l: &Limits) -> Result<InstanceType<'a>, String> {
    let fix = "an EC2 instance type is family, generation, attributes, \".\" and size, e.g. \"m6i.large\" or \"c7g.2xlarge\"";
    let Some((series, size)) = name.split_once('.') else {
        return Err(format!("{} is not an instance type: {fix}", quoted(name)));
    };
    // High-memory types: `u-6tb1.metal`, `u7i-12tb.224xlarge`.
    let series_core = series.strip_prefix("u-").map_or(series, |_| "u1");
    let family_end = series_core
        .find(|c: char| !c.is_ascii_lowercase())
        .unwrap_or(series_core.len());
    let (family, rest) = series_core.split_at(family_end);
    let gen_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (generation, attributes) = rest.split_at(gen_end);
    let attributes_ok = attributes
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if family.is_empty() || generation.is_empty() || !attributes_ok {
        return Err(format!("{} is not an instance type: {fix}", quoted(name)));
    }
    if !size_ok(size, l) {
        return Err(format!(
            "{} has no size {}; sizes are {}, Nxlarge (e.g. 2xlarge) and metal-Nxl",
            quoted(name),
            quoted(size),
            l.ec2.sizes.join(", ")
        ));
    }
    Ok(InstanceType {
        family,
        generation,
        attributes: if series.starts_with("u-") {
            ""
        } else {
            attributes
        },
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> &'static Limits {
        Limits::embedded().unwrap()
    }

    #[test]
    fn architecture_follows_the_naming_convention() {
        let arm = |n: &str| parse(n, l()).unwrap().is_arm64(l());
        for a in [
            "m6g.large",
            "c7g.2xlarge",
            "t4g.micro",
            "x2gd.metal",
            "im4gn.large",
            "is4gen.xlarge",
            "g5g.xlarge",
            "hpc7g.16xlarge",
            "c7gn.medium",
            "m8g.48xlarge",
            "a1.medium",
            "r8gd.metal-24xl",
        ] {
            assert!(arm(a), "{a} is arm64");
        }
        for x in [
            "m6i.large",
            "c5.xlarge",
            "g5.xlarge",
            "g4dn.xlarge",
            "p5.48xlarge",
            "m7i-flex.large",
            "inf2.xlarge",
            "trn1n.32xlarge",
            "u-6tb1.metal",
            "u7i-12tb.224xlarge",
            "m5zn.metal",
        ] {
            assert!(!arm(x), "{x} is x86_64");
        }
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in [
            "large",
            "m6i",
            "m6i.huge",
            "M6i.large",
            "6i.large",
            "m.large",
            "m6i.0xlarge",
        ] {
            assert!(parse(bad, l()).is_err(), "{bad}");
        }
    }
}
