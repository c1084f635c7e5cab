//! Managed resources.

pub mod nodegroup;
