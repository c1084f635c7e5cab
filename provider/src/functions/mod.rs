//! Provider-defined functions (Terraform ≥ 1.8): pure, no configuration needed.

pub mod bottlerocket;
pub mod kernel_floor;
