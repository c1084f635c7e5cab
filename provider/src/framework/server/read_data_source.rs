//! ReadDataSource: a data source computes its result from its
//! configuration, with the schema's defaults filled in.

use super::codec::DynamicValue;
use super::panics::answer;
use super::{OrReport, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::ReadDataRequest;
use crate::framework::schema::{apply_defaults, validate_declared};

/// The name of the operation.
pub const READ_DATA_SOURCE: &str = "ReadDataSource";

/// A data source's configuration, still encoded.
#[derive(Debug, Clone, Default)]
pub struct ReadDataSourceRequest {
    pub type_name: String,
    pub config: Option<DynamicValue>,
}

/// The data source's result; absent when reading it failed.
#[derive(Debug, Clone, Default)]
pub struct ReadDataSourceResponse {
    pub state: Option<DynamicValue>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Read the data source `req.type_name`.
    pub async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        answer(READ_DATA_SOURCE, async {
            let entry = self.registry.data_source(&req.type_name)?;
            let ty = &entry.config.ty;
            let mut config = self.decode("data source configuration", req.config.as_ref(), ty)?;
            // The rules the schema declares, for a client that skipped
            // ValidateDataResourceConfig.
            let mut declared = Diagnostics::new();
            validate_declared(&entry.config.schema.block, &config, &mut declared);
            if declared.has_errors() {
                return Ok(ReadDataSourceResponse {
                    state: None,
                    diagnostics: declared,
                });
            }
            apply_defaults(&entry.config.schema.block.attributes, &mut config);
            let resp = entry
                .imp
                .read(ReadDataRequest {
                    config,
                    provider: self.provider_data(),
                    stop: self.stop_token(),
                })
                .await;
            let mut diagnostics = resp.diagnostics;
            let state = if diagnostics.has_errors() {
                None
            } else {
                self.encode("data source result", &resp.state, ty)
                    .or_report(&mut diagnostics)
            };
            Ok(ReadDataSourceResponse { state, diagnostics })
        })
        .await
    }
}
