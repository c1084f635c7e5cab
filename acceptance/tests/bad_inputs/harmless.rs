//! The inputs of the bad-input suite that are accepted, each with why that
//! is harmless, and those another section of issue 26 refuses.

use acceptance::hostile::{Input, Part};

/// Accepted inputs, each with why it is harmless: (schema, attribute,
/// part, inputs, reason). A row that no longer matches an accepted case
/// fails the test (the table stays true).
pub static HARMLESS: &[(&str, &str, Part, &[Input], &str)] = &[
    (
        "function bottlerocket_settings",
        "settings",
        Part::MapValue,
        &[Input::Newline, Input::Nul],
        "written as a TOML basic string with an escape (\\n, \\u0000), which TOML readers (tomllib, the provider's merge) read back as the same string and EKS's merge accepts; only quotes are refused by EKS (render::bottlerocket::unsafe_string)",
    ),
    (
        "provider",
        "default_tags",
        Part::Value,
        &[Input::Empty],
        "no default tags: the same as leaving default_tags out",
    ),
    (
        "provider",
        "profile",
        Part::Value,
        &[Input::Quote, Input::Megabyte],
        "a profile name is only looked up in the local AWS config files, never sent anywhere; a name that is not there fails the first AWS call with the SDK's \"profile … was not defined\" (aws_errors tests), and every diagnostic line the provider sends is cut at 2000 characters",
    ),
    (
        "resource nested_nodegroup",
        "bootstrap_extra_settings",
        Part::Value,
        &[Input::Newline],
        "a newline at the end of a TOML document ends its last line: the same settings",
    ),
    (
        "data nested_capability",
        "bootstrap_extra_settings",
        Part::Value,
        &[Input::Newline],
        "a newline at the end of a TOML document ends its last line: the same settings",
    ),
    (
        "data nested_karpenter_pool",
        "bootstrap_extra_settings",
        Part::Value,
        &[Input::Newline],
        "a newline at the end of a TOML document ends its last line: the same settings",
    ),
    (
        "function merge_bottlerocket_toml",
        "base",
        Part::Value,
        &[Input::Newline],
        "a newline at the end of a TOML document ends its last line: the same document",
    ),
    (
        "function merge_bottlerocket_toml",
        "overlay",
        Part::Value,
        &[Input::Newline],
        "a newline at the end of a TOML document ends its last line: the same document",
    ),
    (
        "resource nested_nodegroup",
        "labels",
        Part::Value,
        &[Input::Empty],
        "no labels of the user's: EKS gets the sandbox's node label only, as when labels is left out",
    ),
    (
        "resource nested_nodegroup",
        "labels",
        Part::Value,
        &[Input::Thousand],
        "1000 valid labels: neither EKS (CreateNodegroup labels: each key and value 1-63 characters, no count limit) nor Kubernetes (ValidateLabels checks each label) limits how many a node carries",
    ),
    (
        "resource nested_nodegroup",
        "tags",
        Part::Value,
        &[Input::Empty],
        "no tags of the user's: the node group carries the provider's own, as when tags is left out",
    ),
    (
        "resource nested_nodegroup",
        "tag_specifications.instance",
        Part::Value,
        &[Input::Empty],
        "an empty tag specification is left out of the launch template (and read back as written)",
    ),
    (
        "resource nested_nodegroup",
        "tag_specifications.network_interface",
        Part::Value,
        &[Input::Empty],
        "an empty tag specification is left out of the launch template (and read back as written)",
    ),
    (
        "resource nested_nodegroup",
        "tag_specifications.volume",
        Part::Value,
        &[Input::Empty],
        "an empty tag specification is left out of the launch template (and read back as written)",
    ),
    (
        "resource nested_nodegroup",
        "security_group_ids",
        Part::Value,
        &[Input::Empty],
        "no security groups in the launch template: EKS uses the cluster security group, as when security_group_ids is left out; read back as written",
    ),
    (
        "resource nested_nodegroup",
        "taints",
        Part::Value,
        &[Input::Empty],
        "no taints, as when taints is left out",
    ),
    (
        "data nested_karpenter_pool",
        "labels",
        Part::Value,
        &[Input::Empty],
        "no labels of the user's: the NodePool carries the sandbox's node label only",
    ),
    (
        "data nested_karpenter_pool",
        "taints",
        Part::Value,
        &[Input::Empty],
        "documented: `[]` for no taints",
    ),
    (
        "data nested_karpenter_pool",
        "requirements.architectures",
        Part::Value,
        &[Input::Empty],
        "documented: an empty requirement list is left out of the NodePool (amd64 is then the default)",
    ),
    (
        "data nested_karpenter_pool",
        "requirements.capacity_types",
        Part::Value,
        &[Input::Empty],
        "documented: an empty requirement list is left out of the NodePool",
    ),
    (
        "data nested_karpenter_pool",
        "requirements.instance_families",
        Part::Value,
        &[Input::Empty],
        "documented: an empty requirement list is left out of the NodePool",
    ),
    (
        "function bottlerocket_settings",
        "settings",
        Part::MapValue,
        &[Input::Negative],
        "-1 is an integer TOML holds exactly; the function renders any settings object and does not judge what Bottlerocket's API accepts for a key",
    ),
];

/// Accepted inputs another section of the issue fixes (its helper's
/// branch refuses them): (schema, attribute, part, inputs, section). When
/// that fix is merged these cases are refused and their rows must go.
pub static FIXED_ELSEWHERE: &[(&str, &str, Part, &[Input], &str)] = &[];
