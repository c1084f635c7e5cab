//! An EBS volume's identifiers in a launch template's block device mapping:
//! the device name (the Linux names EC2 maps volumes to) and the KMS key
//! that encrypts it (a key ID, key ARN, alias or alias ARN).

use super::limits::Limits;
use super::quoted;

/// `/dev/sd[a-z]`, `/dev/xvd[a-z]` (and two-letter forms such as
/// `/dev/xvdba`), optionally with a partition number (`/dev/sda1`): the names
/// EC2 attaches EBS volumes under on Linux
/// (https://docs.aws.amazon.com/ebs/latest/userguide/device_naming.html).
pub fn device_name(s: &str) -> Result<(), String> {
    let ok = s
        .strip_prefix("/dev/sd")
        .or_else(|| s.strip_prefix("/dev/xvd"))
        .is_some_and(|rest| {
            let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            let digits = &rest[letters..];
            (1..=2).contains(&letters)
                && digits.len() <= 2
                && digits.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a Linux device name EC2 attaches EBS volumes under: \"/dev/xvd\" or \"/dev/sd\" and a letter, e.g. \"/dev/xvdb\" (leave it unset for the AMI family's container volume)",
            quoted(s)
        ))
    }
}

/// A KMS key EC2 can encrypt the volume with: a key ID
/// (`1234abcd-12ab-34cd-56ef-1234567890ab`, `mrk-…`), a key ARN, an alias
/// (`alias/ebs`) or an alias ARN.
pub fn kms_key_id(s: &str, l: &Limits) -> Result<(), String> {
    let fix = "use a key ID, key ARN, alias (\"alias/…\") or alias ARN, e.g. aws_kms_key.ebs.arn";
    let max = l.kms.key_id.max;
    if s.is_empty() || s.chars().count() as u64 > max {
        return Err(format!(
            "{} is {} characters long; a KMS key identifier has 1 to {max}; {fix}",
            quoted(s),
            s.chars().count()
        ));
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
    };
    let key_id_ok = |k: &str| {
        let hex = k.strip_prefix("mrk-").unwrap_or(k);
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    };
    let ok = if let Some(rest) = s.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID or :alias/NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        parts.len() == 5
            && parts[1] == "kms"
            && parts[3].len() == 12
            && parts[3].bytes().all(|b| b.is_ascii_digit())
            && (parts[4].strip_prefix("key/").is_some_and(key_id_ok)
                || parts[4].strip_prefix("alias/").is_some_and(name_ok))
    } else if let Some(alias) = s.strip_prefix("alias/") {
        name_ok(alias)
    } else {
        key_id_ok(s)
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} is not a KMS key identifier; {fix}", quoted(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> &'static Limits {
        Limits::embedded().unwrap()
    }

    #[test]
    fn device_names_are_linux_ebs_names() {
        for ok in [
            "/dev/xvdb",
            "/dev/xvda",
            "/dev/sdf",
            "/dev/sda1",
            "/dev/xvdba",
        ] {
            assert!(device_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "xvdb",
            "/dev/xvdb\n",
            "/dev/xv\"db",
            "/dev/nvme1n1",
            "/dev/xvd",
            "/dev/xvdB",
        ] {
            assert!(device_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kms_keys_take_the_four_forms_ec2_accepts() {
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/ebs",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/ebs",
        ] {
            assert!(kms_key_id(ok, l()).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "alias/",
            "arn:aws:s3:::bucket",
            "key\n",
            "alias/e\"bs",
            &"a".repeat(3000),
        ] {
            assert!(kms_key_id(bad, l()).is_err(), "{bad:?}");
        }
    }
}
