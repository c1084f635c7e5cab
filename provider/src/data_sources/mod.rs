//! Data sources: pure reads that never create anything.

pub mod capability;
