//! List resources (`terraform query`, Terraform ≥ 1.14): each finds the
//! objects of the resource type of its name and streams them with the
//! resource's identity and, when asked, its state, so `terraform query
//! -generate-config-out` writes `import` and `resource` blocks for them.

pub mod nodegroup;
