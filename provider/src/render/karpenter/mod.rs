//! Karpenter and EKS Auto Mode pools: the rows of `schemas/karpenter.toml`,
//! Karpenter's Bottlerocket user-data merge, and the manifests.

pub mod bottlerocket_merge;
pub mod data;
pub mod manifests;

pub use data::{KarpenterData, KarpenterDataError};
