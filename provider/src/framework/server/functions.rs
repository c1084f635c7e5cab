//! CallFunction: a provider-defined function called with its arguments
//! decoded at its parameters' types. Failures are function errors (shown at
//! the call, or at the argument at fault), never diagnostics.

use super::Server;
use super::codec::DynamicValue;
use super::panics::guard;
use crate::framework::provider::FunctionError;
use crate::framework::value::Value;

/// The name of the operation.
pub const CALL_FUNCTION: &str = "CallFunction";

/// A call: the function's name and its arguments, still encoded.
#[derive(Debug, Clone, Default)]
pub struct CallFunctionRequest {
    pub name: String,
    pub arguments: Vec<DynamicValue>,
}

impl Server {
    /// Call the function `req.name`; the result is encoded at its return
    /// type.
    pub async fn call_function(
        &self,
        req: CallFunctionRequest,
    ) -> Result<DynamicValue, FunctionError> {
        guard(CALL_FUNCTION, async { self.call(&req) })
            .await
            .unwrap_or_else(|d| {
                Err(FunctionError {
                    text: d.detail,
                    argument: None,
                })
            })
    }

    fn call(&self, req: &CallFunctionRequest) -> Result<DynamicValue, FunctionError> {
        let error = |text: String| FunctionError {
            text,
            argument: None,
        };
        let entry = self
            .registry
            .functions
            .get(&req.name)
            .ok_or_else(|| error(format!("This provider has no function {:?}.", req.name)))?;
        let def = &entry.definition;
        let args = req
            .arguments
            .iter()
            .enumerate()
            .map(|(i, dv)| {
                let param = def
                    .parameters
                    .get(i)
                    .or(def.variadic.as_ref())
                    .ok_or_else(|| {
                        error(format!(
                            "{} takes {} argument(s); got {}.",
                            def.name,
                            def.parameters.len(),
                            req.arguments.len()
                        ))
                    })?;
                self.codec.decode(dv, &param.ty).map_err(|e| {
                    let index = i64::try_from(i).unwrap_or(i64::MAX);
                    FunctionError::at_argument(index, format!("Invalid argument: {e}"))
                })
            })
            .collect::<Result<Vec<Value>, FunctionError>>()?;
        let result = entry.imp.call(&args)?;
        self.codec
            .encode(&result, &def.return_type)
            .map_err(|e| error(format!("Invalid result (provider bug): {e}")))
    }
}
