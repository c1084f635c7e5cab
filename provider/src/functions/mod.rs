//! Provider-defined functions (Terraform ≥ 1.8): pure, no configuration needed.

pub mod kernel_floor;
