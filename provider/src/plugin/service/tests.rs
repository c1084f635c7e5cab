//! The service end to end: protobuf requests in, protobuf answers out,
//! through the framework server, with the RPC span on every log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::watch;
use tonic::Request;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

use super::{ProviderRpc, ProviderService, pb};
use crate::framework::provider::{
    ApplyRequest, ApplyResponse, ConfigureRequest, ConfigureResponse, DataSource, Function,
    FunctionDefinition, FunctionError, Halt, Parameter, PlanRequest, PlanResponse, Provider,
    ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse, Resource,
};
use crate::framework::schema::{Attribute, Schema};
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::plugin::codec::{decode_msgpack, encode_msgpack};
use crate::plugin::logging::HclogLayer;

struct TestProvider;
struct Panics;
struct Thing;
struct Upper;

#[async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &'static str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new("test provider")
    }
    async fn configure(&self, _req: ConfigureRequest) -> ConfigureResponse {
        ConfigureResponse::default()
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Panics)]
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Upper)]
    }
    fn list_resources(&self) -> Vec<Arc<dyn crate::framework::provider::ListResource>> {
        vec![Arc::new(list::Things)]
    }
}

mod list;

#[async_trait]
impl DataSource for Panics {
    fn type_name(&self) -> &'static str {
        "test_panics"
    }
    fn schema(&self) -> Schema {
        Schema::new("panics").attribute(Attribute::string("x").optional())
    }
    async fn read(&self, _req: ReadDataRequest) -> ReadDataResponse {
        let v: Vec<u8> = Vec::new();
        // An out-of-bounds index: a bug of the kind that must not crash the plugin.
        let _ = v[usize::from(v.is_empty())];
        ReadDataResponse::default()
    }
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new("thing")
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("id").computed())
    }
    fn identity_schema(&self) -> Option<Schema> {
        Some(Schema::new("identity").attribute(Attribute::string("name").required()))
    }
    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        tracing::debug!("planning");
        let mut planned = req.proposed_new_state;
        if req.prior_state.is_null() {
            planned.set_attr("id", Value::unknown());
        }
        PlanResponse {
            planned_state: planned,
            ..Default::default()
        }
    }
    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut state = req.planned_state;
        let name = state.attr("name").cloned().unwrap_or_default();
        state.set_attr("id", Value::string("thing-1"));
        ApplyResponse {
            new_state: state,
            new_identity: Some(Value::object([("name", name)])),
            ..Default::default()
        }
    }
    async fn read(&self, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            ..Default::default()
        }
    }
}

impl Function for Upper {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition {
            name: "upper".into(),
            summary: "upper-case".into(),
            description: String::new(),
            parameters: vec![Parameter::new("s", Type::String, "text")],
            variadic: None,
            return_type: Type::String,
            deprecation: None,
        }
    }
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        match arguments[0].as_str() {
            Some("") => Err(FunctionError::at_argument(0, "empty")),
            Some(s) => Ok(Value::string(s.to_uppercase())),
            None => Err(FunctionError::at_argument(0, "null")),
        }
    }
}

fn service() -> ProviderService {
    let (tx, _) = watch::channel(Halt::Running);
    ProviderService::new(Arc::new(TestProvider), tx)
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, ty).unwrap(),
        json: vec![],
    })
}

#[tokio::test]
async fn a_panic_in_a_handler_becomes_an_error_diagnostic() {
    let s = service();
    let ty = Schema::new("")
        .attribute(Attribute::string("x").optional())
        .value_type();
    let r = s
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_panics".into(),
            config: dv(&Value::object([("x", Value::Null)]), &ty),
            ..Default::default()
        }))
        .await
        .expect("no transport error")
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    let d = &r.diagnostics[0];
    assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
    assert_eq!(d.summary, "Provider internal error");
    assert!(d.detail.contains("ReadDataSource"), "{}", d.detail);
    assert!(d.detail.contains("index out of bounds"), "{}", d.detail);
    // The service is still usable afterwards.
    let again = s
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(again.resource_schemas.contains_key("test_thing"));
}

#[tokio::test]
async fn the_schema_is_optional_before_other_calls() {
    // Terraform may then answer later provider processes from its cache;
    // every RPC works on a service that was never asked for its schema
    // (a_panic_in_a_handler_becomes_an_error_diagnostic reads first).
    let s = service();
    let meta = s
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    let caps = meta.server_capabilities.unwrap();
    assert!(caps.get_provider_schema_optional);
    assert!(caps.plan_destroy);
}

#[tokio::test]
async fn functions_are_listed_and_called() {
    let s = service();
    let f = s
        .get_functions(Request::new(pb::get_functions::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(f.functions["upper"].parameters[0].name, "s");
    let call = |arg: &str| {
        let s = s.clone();
        let arg = arg.to_string();
        async move {
            s.call_function(Request::new(pb::call_function::Request {
                name: "upper".into(),
                arguments: vec![dv(&Value::string(arg), &Type::String).unwrap()],
            }))
            .await
            .unwrap()
            .into_inner()
        }
    };
    let ok = call("abc").await;
    let out = decode_msgpack(&ok.result.unwrap().msgpack, &Type::String).unwrap();
    assert_eq!(out, Value::string("ABC"));
    let err = call("").await.error.unwrap();
    assert_eq!(err.function_argument, Some(0));
    assert_eq!(err.text, "empty");
}

#[tokio::test]
async fn resource_lifecycle_with_identity_and_default_import() {
    let s = service();
    let ty = Thing.schema().value_type();
    let config = Value::object([("name", Value::string("a")), ("id", Value::Null)]);
    let plan = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&config, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    let planned = decode_msgpack(&plan.planned_state.clone().unwrap().msgpack, &ty).unwrap();
    assert!(planned.attr("id").unwrap().is_unknown());

    let apply = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: plan.planned_state,
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = decode_msgpack(&apply.new_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(state.attr("id"), Some(&Value::string("thing-1")));
    let id_ty = Thing.identity_schema().unwrap().value_type();
    let identity = decode_msgpack(
        &apply.new_identity.unwrap().identity_data.unwrap().msgpack,
        &id_ty,
    )
    .unwrap();
    assert_eq!(identity.attr("name"), Some(&Value::string("a")));

    let schemas = s
        .get_resource_identity_schemas(Request::new(pb::get_resource_identity_schemas::Request {}))
        .await
        .unwrap()
        .into_inner();
    let attr = &schemas.identity_schemas["test_thing"].identity_attributes[0];
    assert!(attr.required_for_import);

    let import = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_thing".into(),
            id: "a".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(import.diagnostics[0].summary, "Import not supported");

    // Destroy plans to null without asking the resource.
    let destroy = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&state, &ty),
            proposed_new_state: dv(&Value::Null, &ty),
            config: dv(&Value::Null, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let planned = decode_msgpack(&destroy.planned_state.unwrap().msgpack, &ty).unwrap();
    assert!(planned.is_null());
}

#[tokio::test]
async fn stored_state_is_upgraded_from_json_and_unknown_versions_are_refused() {
    let s = service();
    let ok = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"a","id":"thing-1"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.diagnostics.is_empty());
    let v = decode_msgpack(
        &ok.upgraded_state.unwrap().msgpack,
        &Thing.schema().value_type(),
    )
    .unwrap();
    assert_eq!(v.attr("id"), Some(&Value::string("thing-1")));
    let bad = s
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bad.diagnostics[0].summary, "Unsupported state version");
}

#[tokio::test]
async fn stop_provider_fires_the_stop_token() {
    let (tx, _) = watch::channel(Halt::Running);
    let s = ProviderService::new(Arc::new(TestProvider), tx);
    let mut token = s.server().stop_token();
    assert!(!token.is_stopped());
    s.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(1), token.stopped())
        .await
        .expect("stop token fired");
}

/// Log lines as the provider writes them to stderr, collected.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn log_lines_written_while_handling_a_request_carry_its_span() {
    let logs = LogBuffer::default();
    let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(logs.clone()));
    // Even at ERROR (the least Terraform shows), the span's fields are there.
    for level in [LevelFilter::TRACE, LevelFilter::ERROR] {
        let sub =
            tracing_subscriber::registry().with(HclogLayer::new(out.clone()).with_filter(level));
        let _default = tracing::subscriber::set_default(sub);
        let s = service();
        let ty = Thing.schema().value_type();
        let config = Value::object([("name", Value::string("a")), ("id", Value::Null)]);
        for _ in 0..2 {
            s.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: dv(&Value::Null, &ty),
                proposed_new_state: dv(&config, &ty),
                config: dv(&config, &ty),
                ..Default::default()
            }))
            .await
            .unwrap();
        }
        let ds_ty = Schema::new("")
            .attribute(Attribute::string("x").optional())
            .value_type();
        s.read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_panics".into(),
            config: dv(&Value::object([("x", Value::Null)]), &ds_ty),
            ..Default::default()
        }))
        .await
        .unwrap();
    }
    let lines = logs.lines();

    // TRACE: the resource's own line and the adapter's, for each request.
    let planning: Vec<_> = lines
        .iter()
        .filter(|l| l["@message"] == "planning")
        .collect();
    assert_eq!(planning.len(), 2, "{lines:#?}");
    for line in &planning {
        assert_eq!(line["tf_rpc"], "PlanResourceChange");
        assert_eq!(line["tf_resource_type"], "test_thing");
        assert_eq!(line["tf_req_id"].as_str().unwrap().len(), 36, "{line}");
    }
    assert_ne!(planning[0]["tf_req_id"], planning[1]["tf_req_id"]);
    let request = lines
        .iter()
        .find(|l| l["@message"] == "request" && l["tf_rpc"] == "PlanResourceChange")
        .expect("a request line");
    assert!(request.get("tf_req_id").is_some(), "{request}");

    // The panic, at both levels, is logged inside the data source's span.
    let panics: Vec<_> = lines
        .iter()
        .filter(|l| l["@message"] == "handler panicked")
        .collect();
    assert_eq!(panics.len(), 2, "{lines:#?}");
    for line in panics {
        assert_eq!(line["tf_rpc"], "ReadDataSource");
        assert_eq!(line["tf_data_source_type"], "test_panics");
        assert!(line["tf_req_id"].is_string(), "{line}");
        assert!(line.get("tf_resource_type").is_none(), "{line}");
    }
}
