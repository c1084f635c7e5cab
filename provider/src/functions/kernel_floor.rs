//! `provider::nested::kernel_floor(sandbox)`.

use crate::capability::{CapabilityData, SANDBOXES, SandboxKind};
use crate::framework::{Function, FunctionDefinition, FunctionError, Parameter, Type, Value};

pub struct KernelFloorFunction;

impl Function for KernelFloorFunction {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition {
            name: "kernel_floor".into(),
            summary: "Lowest Linux release a sandbox can run on".into(),
            description: "Returns the lowest Linux kernel release (e.g. `\"6.7\"`) on which the \
                          given sandbox can work inside a pod, or null when every supported node \
                          image is new enough."
                .into(),
            parameters: vec![Parameter::new(
                "sandbox",
                Type::String,
                "One of `nsjail`, `landjail`, `bubblewrap`, `podman`.",
            )],
            variadic: None,
            return_type: Type::String,
            deprecation: None,
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let name = arguments
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| FunctionError::at_argument(0, "sandbox must be a string"))?;
        let data = CapabilityData::embedded().map_err(|e| FunctionError {
            text: e.to_string(),
            argument: None,
        })?;
        let sandbox = SandboxKind::parse(name)
            .and_then(|k| data.sandbox(k))
            .ok_or_else(|| {
                FunctionError::at_argument(
                    0,
                    format!(
                        "{} is not a known sandbox; use one of: {}",
                        crate::validate::quoted(name),
                        SANDBOXES.join(", ")
                    ),
                )
            })?;
        Ok(data.kernel_floor(sandbox).map(|v| v.to_string()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_floor_or_null() {
        let f = KernelFloorFunction;
        assert_eq!(f.call(&[Value::string("podman")]), Ok(Value::string("6.3")));
        assert_eq!(f.call(&[Value::string("nsjail")]), Ok(Value::Null));
    }

    #[test]
    fn unknown_sandbox_points_at_the_argument() {
        let e = KernelFloorFunction
            .call(&[Value::string("docker")])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("landjail"));
    }
}
