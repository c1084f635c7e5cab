//! The cluster keys a node from a custom AMI needs to join
//! (`nested_capability`'s `cluster`): the CA as EKS gives it, the service
//! CIDR and the DNS IP, written exactly (they go into the node's bootstrap
//! document as they are).

use std::net::IpAddr;

use super::limits::Limits;
use super::quoted;

/// The cluster CA, base64 on one line as EKS gives it
/// (`certificate_authority[0].data`), small enough for EC2 user data.
pub fn certificate_authority(s: &str, l: &Limits) -> Result<(), String> {
    let fix = "use the base64 CA data EKS gives (aws_eks_cluster.this.certificate_authority[0].data), not PEM text";
    if s.is_empty() {
        return Err(format!("the certificate authority is empty; {fix}"));
    }
    let max = l.ec2.user_data_bytes.max;
    if s.len() as u64 > max {
        return Err(format!(
            "the certificate authority is {} bytes; it goes into the node's user data, which EC2 limits to {max} bytes: {fix}",
            s.len()
        ));
    }
    let body = s.trim_end_matches('=');
    let ok = s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !ok {
        return Err(format!(
            "{} is not base64 on one line (letters, digits, \"+\", \"/\" and \"=\" padding; no spaces, line breaks or PEM armour); {fix}",
            quoted(s)
        ));
    }
    Ok(())
}

/// An IPv4 or IPv6 CIDR, `10.100.0.0/16`.
pub fn cidr(s: &str) -> Result<(), String> {
    let ok = s.split_once('/').is_some_and(|(ip, prefix)| {
        let plain = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit());
        match (ip.parse::<IpAddr>(), prefix.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(p)) => plain && p <= 32,
            (Ok(IpAddr::V6(_)), Ok(p)) => plain && p <= 128,
            _ => false,
        }
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a CIDR such as \"10.100.0.0/16\"; use aws_eks_cluster.this.kubernetes_network_config[0].service_ipv4_cidr (nodeadm refuses a NodeConfig without one)",
            quoted(s)
        ))
    }
}

/// An IPv4 or IPv6 address, `10.100.0.10`.
pub fn ip(s: &str) -> Result<(), String> {
    s.parse::<IpAddr>().map(|_| ()).map_err(|_| {
        format!(
            "{} is not an IP address such as \"10.100.0.10\" (the cluster DNS service's IP)",
            quoted(s)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> &'static Limits {
        Limits::embedded().unwrap()
    }

    #[test]
    fn cluster_keys_are_written_exactly() {
        assert!(certificate_authority("Q0E=", l()).is_ok());
        assert!(certificate_authority("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", l()).is_ok());
        for bad in [
            "",
            "Q0E=\n",
            "Q0 E=",
            "-----BEGIN CERTIFICATE-----",
            "Q0E===",
            "Q\u{0}E=",
        ] {
            assert!(certificate_authority(bad, l()).is_err(), "{bad:?}");
        }
        assert!(
            certificate_authority(&"Q".repeat(1 << 20), l())
                .unwrap_err()
                .contains("16384")
        );
        assert!(cidr("10.100.0.0/16").is_ok());
        assert!(cidr("fd00::/108").is_ok());
        for bad in [
            "10.100.0.0/16\n",
            " 10.100.0.0/16",
            "10.100.0.0/33",
            "10.100.0.0",
            "10.100.0.0/+8",
        ] {
            assert!(cidr(bad).is_err(), "{bad:?}");
        }
        assert!(ip("10.100.0.10").is_ok());
        assert!(ip("10.100.0.10\n").is_err());
    }
}
