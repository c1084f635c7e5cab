//! The families' behaviour: release parameters, renderers, amiType rows.

use super::*;
use crate::capability::{Input, decide};
use crate::render::{CustomAmi, Taint, al2023, bottlerocket};

fn decision(sandbox: &str, family: &str, k8s: &str) -> Decision {
    let mut i = Input::new(sandbox, "eks");
    i.ami_family = Some(family.into());
    i.kubernetes_version = Some(k8s.parse().unwrap());
    // A podman user whose nested images own ids above 64535 asks for more.
    i.ids_per_pod = (sandbox == "podman").then_some(131_072);
    decide(CapabilityData::embedded().unwrap(), &i).unwrap()
}

fn render(sandbox: &str, family: &str, k8s: &str, opts: &UserDataOptions<'_>) -> Option<String> {
    let data = CapabilityData::embedded().unwrap();
    user_data(data, &decision(sandbox, family, k8s), opts)
        .unwrap()
        .text
}

#[test]
fn bottlerocket_podman_gets_sysctl_and_ids_per_pod() {
    let out = render(
        "podman",
        "bottlerocket",
        "1.34",
        &UserDataOptions::default(),
    )
    .unwrap();
    assert_eq!(
        out,
        "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n\n[settings.kubernetes]\nids-per-pod = 131072\n"
    );
    assert!(!out.contains("MIME"));
}

#[test]
fn nothing_to_render_is_null() {
    assert_eq!(
        render("landjail", "al2023", "1.33", &UserDataOptions::default()),
        None
    );
    assert_eq!(
        render(
            "landjail",
            "bottlerocket",
            "1.33",
            &UserDataOptions::default()
        ),
        None
    );
}

#[test]
fn custom_ami_bottlerocket_includes_cluster_keys_labels_and_taints() {
    let custom = CustomAmi {
        cluster: al2023::ClusterInfo {
            name: "prod".into(),
            api_server_endpoint: "https://x.eks.amazonaws.com".into(),
            certificate_authority: "Q0E=".into(),
            service_cidr: "10.100.0.0/16".into(),
        },
        cluster_dns_ip: Some("10.100.0.10".into()),
        labels: [("team".to_string(), "ai".to_string())].into(),
        taints: vec![Taint {
            key: "sandbox".into(),
            value: "nsjail".into(),
            effect: "NoSchedule".into(),
        }],
    };
    let opts = UserDataOptions {
        user: None,
        custom_ami: Some(&custom),
    };
    let out = render("nsjail", "bottlerocket", "1.33", &opts).unwrap();
    let t: toml::Table = toml::from_str(&out).unwrap();
    let k = &t["settings"]["kubernetes"];
    assert_eq!(k["cluster-name"].as_str(), Some("prod"));
    assert_eq!(
        k["api-server"].as_str(),
        Some("https://x.eks.amazonaws.com")
    );
    assert_eq!(k["cluster-dns-ip"].as_str(), Some("10.100.0.10"));
    assert_eq!(k["node-labels"]["team"].as_str(), Some("ai"));
    assert_eq!(
        k["node-taints"]["sandbox"][0].as_str(),
        Some("nsjail:NoSchedule")
    );
    bottlerocket::check_eks_safe(&out.parse().unwrap()).unwrap();
}

#[test]
fn al2023_podman_is_mime_with_a_nodeconfig_only() {
    let out = render("podman", "al2023", "1.34", &UserDataOptions::default()).unwrap();
    let parts = al2023::parse(&out).unwrap();
    assert_eq!(parts.len(), 1, "{out}");
    assert_eq!(parts[0].content_type, "application/node.eks.aws");
    let out = render("nsjail", "al2", "1.32", &UserDataOptions::default());
    assert_eq!(out, None, "AL2 nsjail needs nothing");
}

#[test]
fn release_parameters_follow_the_published_layout() {
    let param =
        |f: AmiFamily, k: &str, v: ImageVariant, a: Architecture| of(f).release_parameter(k, v, a);
    assert_eq!(
        param(
            AmiFamily::Bottlerocket,
            "1.33",
            ImageVariant::Standard,
            Architecture::X86_64
        )
        .as_deref(),
        Some("/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version")
    );
    assert_eq!(
        param(
            AmiFamily::Bottlerocket,
            "1.33",
            ImageVariant::Fips,
            Architecture::Arm64
        )
        .as_deref(),
        Some("/aws/service/bottlerocket/aws-k8s-1.33-fips/arm64/latest/image_version")
    );
    assert_eq!(
        param(
            AmiFamily::Bottlerocket,
            "1.34",
            ImageVariant::NvidiaFips,
            Architecture::X86_64
        )
        .as_deref(),
        Some("/aws/service/bottlerocket/aws-k8s-1.34-nvidia-fips/x86_64/latest/image_version")
    );
    assert_eq!(
        param(
            AmiFamily::Al2023,
            "1.34",
            ImageVariant::Standard,
            Architecture::Arm64
        )
        .as_deref(),
        Some(
            "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/recommended/release_version"
        )
    );
    assert_eq!(
        param(
            AmiFamily::Al2023,
            "1.34",
            ImageVariant::Nvidia,
            Architecture::X86_64
        )
        .as_deref(),
        Some(
            "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/nvidia/recommended/release_version"
        )
    );
    assert_eq!(
        param(
            AmiFamily::Al2,
            "1.32",
            ImageVariant::Standard,
            Architecture::X86_64
        ),
        None
    );
}

#[test]
fn every_family_has_its_behaviour_and_ami_types_round_trip() {
    let data = CapabilityData::embedded().unwrap();
    // The amiTypes EKS knows, from the AWS SDK's own enum.
    let eks_knows = aws_sdk_eks::types::AmiTypes::values();
    let mut named = 0;
    for kind in AmiFamily::ALL {
        assert_eq!(of(*kind).kind(), *kind);
        for variant in ImageVariant::ALL {
            for arch in [Architecture::X86_64, Architecture::Arm64] {
                let Some(t) = ami_type(data, *kind, *variant, arch) else {
                    continue;
                };
                named += 1;
                assert!(eks_knows.contains(&t), "{t} is not an EKS amiType");
                assert_eq!(
                    from_ami_type(data, t),
                    Some(AmiTypeOf {
                        family: *kind,
                        variant: *variant,
                        architecture: arch
                    }),
                    "{t}"
                );
            }
        }
        for arch in [Architecture::X86_64, Architecture::Arm64] {
            assert!(ami_type(data, *kind, ImageVariant::Standard, arch).is_some());
        }
    }
    // Every Linux amiType of these families is named (Windows and CUSTOM
    // are not node images the provider judges).
    let linux: Vec<&&str> = eks_knows
        .iter()
        .filter(|t| t.starts_with("AL2") || t.starts_with("BOTTLEROCKET"))
        .collect();
    assert_eq!(named, linux.len(), "{linux:?}");
    assert_eq!(
        from_ami_type(data, "BOTTLEROCKET_ARM_64_FIPS"),
        Some(AmiTypeOf {
            family: AmiFamily::Bottlerocket,
            variant: ImageVariant::Fips,
            architecture: Architecture::Arm64
        })
    );
    assert_eq!(from_ami_type(data, "CUSTOM"), None);
    assert_eq!(
        from_ami_type(data, "bottlerocket_x86_64"),
        None,
        "amiTypes are exact"
    );
}

#[test]
fn auto_mode_owns_the_bootstrap() {
    let data = CapabilityData::embedded().unwrap();
    let mut i = Input::new("nsjail", "eks_auto_mode");
    i.kubernetes_version = Some("1.34".parse().unwrap());
    let d = decide(data, &i).unwrap();
    assert_eq!(
        user_data(data, &d, &UserDataOptions::default()),
        Ok(UserData::default())
    );
}

#[test]
fn bottlerocket_toml_given_to_amazon_linux_says_it_is_toml_and_names_the_family() {
    let data = CapabilityData::embedded().unwrap();
    let opts = UserDataOptions {
        user: Some("[settings.kubernetes]\nmax-pods = 58\n"),
        custom_ami: None,
    };
    for (family, k8s) in [("al2023", "1.34"), ("al2", "1.32")] {
        let e = user_data(data, &decision("podman", family, k8s), &opts).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "this is TOML (Bottlerocket settings), but ami_family {family} takes an Amazon Linux MIME multipart document"
            )),
            "{text}"
        );
        assert!(text.contains("ami_family = \"bottlerocket\""), "{text}");
    }
    // A shell script and a MIME document are still taken as they are.
    for user in ["#!/bin/bash\necho hi\n", "echo = hi"] {
        let opts = UserDataOptions {
            user: Some(user),
            custom_ami: None,
        };
        let r = user_data(data, &decision("podman", "al2023", "1.34"), &opts);
        if user.starts_with("#!") {
            assert!(r.is_ok(), "{r:?}");
        } else {
            // `echo = hi` is not TOML (a bare value): still "not MIME".
            assert!(
                r.unwrap_err()
                    .to_string()
                    .contains("not a MIME multipart document")
            );
        }
    }
}

#[test]
fn amazon_linux_releases_name_their_kubernetes_version_bottlerocket_ones_do_not() {
    let data = CapabilityData::embedded().unwrap();
    let k8s = |f: AmiFamily, r: &str| {
        data.release_format(f)
            .unwrap()
            .parse_pin(r)
            .ok()
            .flatten()
            .and_then(|p| p.kubernetes)
            .map(|v| v.to_string())
    };
    assert_eq!(
        k8s(AmiFamily::Al2023, "1.33.0-20250704").as_deref(),
        Some("1.33")
    );
    assert_eq!(
        k8s(AmiFamily::Al2, "1.29.3-20240202").as_deref(),
        Some("1.29")
    );
    assert_eq!(k8s(AmiFamily::Al2023, "latest"), None);
    assert_eq!(
        k8s(AmiFamily::Bottlerocket, "1.42.0-7c3e9198"),
        None,
        "Bottlerocket numbers its own releases"
    );
}

#[test]
fn the_container_volume_is_bottlerockets_data_volume_and_amazon_linuxs_root() {
    assert_eq!(of(AmiFamily::Bottlerocket).container_volume(), "/dev/xvdb");
    assert_eq!(of(AmiFamily::Al2023).container_volume(), "/dev/xvda");
    assert_eq!(of(AmiFamily::Al2).container_volume(), "/dev/xvda");
}

#[test]
fn user_data_over_16_kib_is_refused() {
    assert!(user_data_size(&"x".repeat(16384)).is_ok());
    assert!(
        user_data_size(&"x".repeat(16385))
            .unwrap_err()
            .contains("16384")
    );
}

/// AL2023 allows user namespaces by default, so the provider writes no
/// sysctl there, but a part of the user's that sets the limit to 0 is
/// still refused: the sandbox's need is a floor.
#[test]
fn a_users_part_cannot_lower_the_user_namespace_floor_the_image_gives() {
    let d = decision("nsjail", "al2023", "1.33");
    assert!(d.sysctls.is_empty(), "{:?}", d.sysctls);
    assert_eq!(d.sysctl_floors.get("user.max_user_namespaces"), Some(&1));
    let data = CapabilityData::embedded().unwrap();
    let opts = UserDataOptions {
        user: Some("#!/bin/bash\necho 0 > /proc/sys/user/max_user_namespaces\n"),
        custom_ami: None,
    };
    let e = user_data(data, &d, &opts).unwrap_err();
    assert!(
        e.to_string()
            .contains("sets user.max_user_namespaces to 0, but the sandbox needs at least 1"),
        "{e}"
    );
    // landjail needs no user namespace: no floor, nothing refused.
    let l = decision("landjail", "al2023", "1.33");
    assert!(l.sysctl_floors.is_empty(), "{:?}", l.sysctl_floors);
    assert!(user_data(data, &l, &opts).is_ok());
}

/// Bottlerocket takes settings TOML (bottlerocket-os/bottlerocket: README
/// "Using user data"); the Amazon Linux AMIs MIME multipart, AL2023 with
/// nodeadm parts and AL2 with bootstrap.sh (awslabs/amazon-eks-ami).
#[test]
fn each_family_says_how_its_user_data_is_written() {
    use super::{UserDataFormat, user_data_format};
    assert_eq!(
        user_data_format(Some(AmiFamily::Bottlerocket)),
        Some(UserDataFormat::SettingsToml)
    );
    assert_eq!(
        user_data_format(Some(AmiFamily::Al2023)),
        Some(UserDataFormat::AmazonLinuxMime { al2: false })
    );
    assert_eq!(
        user_data_format(Some(AmiFamily::Al2)),
        Some(UserDataFormat::AmazonLinuxMime { al2: true })
    );
    assert_eq!(user_data_format(None), None);
}
