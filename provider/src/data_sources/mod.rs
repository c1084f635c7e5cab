//! Data sources: pure reads that never create anything.

pub mod capability;
pub mod karpenter_pool;
pub mod openshift_profile;
