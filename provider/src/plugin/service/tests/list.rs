//! ListResource and ValidateListResourceConfig through the service: events
//! as they are found, `limit` stops the listing, failures are diagnostics
//! in the stream.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use tonic::Request;

use super::{ProviderRpc, dv, pb, service};
use crate::framework::diag::{AttributePath, Diagnostic};
use crate::framework::provider::{ListRequest, ListResource, ListResult, ListSink};
use crate::framework::schema::{Attribute, Schema};
use crate::framework::value::Value;
use crate::plugin::codec::decode_msgpack;

/// Lists `count` things of `test_thing`; an odd `count` fails after them.
pub(super) struct Things;

/// How many results `Things` made, over every test.
static MADE: AtomicUsize = AtomicUsize::new(0);

fn config_schema() -> Schema {
    Schema::new("things").attribute(Attribute::number("count").required())
}

#[async_trait]
impl ListResource for Things {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        config_schema()
    }
    fn validate(&self, config: &Value) -> crate::framework::Diagnostics {
        match config
            .attr("count")
            .and_then(Value::as_number)
            .and_then(crate::framework::value::Number::as_i64)
        {
            Some(n) if n < 0 => Diagnostic::error("Negative count", "Count from zero.")
                .at(AttributePath::attr("count"))
                .into(),
            _ => crate::framework::Diagnostics::new(),
        }
    }
    async fn list(&self, req: ListRequest, sink: &mut ListSink) {
        let n = req
            .config
            .attr("count")
            .and_then(Value::as_number)
            .and_then(crate::framework::value::Number::as_i64)
            .unwrap_or(0);
        for i in 0..n {
            MADE.fetch_add(1, Ordering::SeqCst);
            let name = Value::string(format!("thing-{i}"));
            let r = ListResult {
                identity: Some(Value::object([("name", name.clone())])),
                display_name: format!("thing {i}"),
                state: Some(Value::object([("name", name), ("id", Value::string("x"))])),
                ..Default::default()
            };
            if !sink.result(r).await {
                return;
            }
        }
        if n % 2 == 1 {
            sink.diagnostics(
                Diagnostic::error("Listing failed", "The last page could not be read.")
                    .at(AttributePath::attr("count"))
                    .into(),
            )
            .await;
        }
    }
}

async fn list(count: i64, limit: i64, include: bool) -> Vec<pb::list_resource::Event> {
    let ty = config_schema().value_type();
    let events = service()
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "test_thing".into(),
            config: dv(&Value::object([("count", Value::int(count))]), &ty),
            include_resource_object: include,
            limit,
        }))
        .await
        .expect("no transport error")
        .into_inner();
    events
        .map(|e| e.expect("no transport error"))
        .collect()
        .await
}

#[tokio::test]
async fn results_stream_with_identity_and_state_when_asked() {
    let events = list(2, 100, true).await;
    assert_eq!(events.len(), 2);
    let id_ty = Schema::new("")
        .attribute(Attribute::string("name").required())
        .value_type();
    let e = &events[1];
    assert_eq!(e.display_name, "thing 1");
    assert!(e.diagnostic.is_empty());
    let identity = e.identity.as_ref().unwrap().identity_data.as_ref().unwrap();
    let identity = decode_msgpack(&identity.msgpack, &id_ty).unwrap();
    assert_eq!(
        identity.attr("name").and_then(Value::as_str),
        Some("thing-1")
    );
    assert!(e.resource_object.is_some());
    // Without include_resource_object, no state travels.
    let events = list(2, 100, false).await;
    assert!(events.iter().all(|e| e.resource_object.is_none()));
}

#[tokio::test]
async fn the_limit_ends_the_listing() {
    let before = MADE.load(Ordering::SeqCst);
    let events = list(1000, 3, false).await;
    assert_eq!(events.len(), 3);
    // Other tests list at the same time; this one made at most its three.
    let made = MADE.load(Ordering::SeqCst) - before;
    assert!(made < 20, "the listing went on after the limit: {made}");
    assert!(list(5, 0, false).await.is_empty());
}

#[tokio::test]
async fn failures_are_diagnostics_in_the_stream() {
    // Two results, then the error, as its own event.
    let events = list(3, 100, false).await;
    assert_eq!(events.len(), 4);
    let last = &events[3];
    assert!(last.identity.is_none());
    assert_eq!(last.diagnostic[0].summary, "Listing failed");
    // An unknown type.
    let events = service()
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "test_nothing".into(),
            limit: 10,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(events.len(), 1);
    let e = events[0].as_ref().unwrap();
    assert_eq!(e.diagnostic[0].summary, "Unknown list resource type");
}

#[tokio::test]
async fn validation_points_into_the_config_block_and_metadata_names_the_type() {
    let s = service();
    let ty = config_schema().value_type();
    let r = s
        .validate_list_resource_config(Request::new(pb::validate_list_resource_config::Request {
            type_name: "test_thing".into(),
            config: dv(&Value::object([("count", Value::int(-1))]), &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let steps = &r.diagnostics[0].attribute.as_ref().unwrap().steps;
    let names: Vec<_> = steps
        .iter()
        .map(|s| match &s.selector {
            Some(pb::attribute_path::step::Selector::AttributeName(a)) => a.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(names, ["config", "count"]);
    let meta = s
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.list_resources[0].type_name, "test_thing");
    let schema = s
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.list_resource_schemas.contains_key("test_thing"));
}
