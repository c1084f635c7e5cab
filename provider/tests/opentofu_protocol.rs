//! The provider driven as OpenTofu 1.11 and 1.12 drive it, over the real
//! plugin protocol (the executable, go-plugin's handshake, AutoMTLS, gRPC),
//! with `nested_nodegroup` against moto. What OpenTofu sends is read from
//! its source (`opentofu/opentofu:internal/plugin6/grpc_provider.go` at
//! v1.11.14 and v1.12.6):
//!
//! - `ClientCapabilities` is `{write_only_attributes_allowed: true}` on
//!   ConfigureProvider, ValidateResourceConfig, ReadResource,
//!   PlanResourceChange, ImportResourceState, ReadDataSource and
//!   OpenEphemeralResource; `deferral_allowed` is never set;
//! - 1.11 (protocol 6.9) never calls GetResourceIdentitySchemas nor sends an
//!   identity; 1.12 (protocol 6.10) calls it after GetProviderSchema, sends
//!   `current_identity` on ReadResource and imports by ID or by identity;
//! - neither calls GetMetadata, ValidateListResourceConfig or ListResource
//!   (no `tofu query`), nor any action RPC;
//! - `terraform_version` on ConfigureProvider is OpenTofu's own version.
//!
//! Every RPC must succeed without an error diagnostic, and the lifecycle
//! must hold: create, refresh, a clean second plan, import by ID (and by
//! identity on 1.12) with a clean plan after the take-over, destroy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Plugin, client_cert, grpc_channel, tls_client};
use nested_provider::framework::{AttributePath, Type, Value};
use nested_provider::plugin::codec::{decode_msgpack, encode_msgpack, from_json};
use nested_provider::plugin::proto::tfplugin6 as pb;
use nested_provider::plugin::proto::tfplugin6::provider_client::ProviderClient;
use pb::schema::object::NestingMode;
use serde_json::json;
use tonic::transport::Channel;

/// What differs between the two OpenTofu releases, as their source says.
#[derive(Clone, Copy, Debug)]
struct Tofu {
    version: &'static str,
    identity: bool,
}

const TOFU_1_11: Tofu = Tofu {
    version: "1.11.14",
    identity: false,
};
const TOFU_1_12: Tofu = Tofu {
    version: "1.12.6",
    identity: true,
};

fn capabilities() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

fn no_errors(what: &str, diags: &[pb::Diagnostic]) {
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// cty's implied type of a schema block, as OpenTofu builds it before it
/// encodes a value.
fn block_type(block: &pb::schema::Block) -> Type {
    let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
    for a in &block.attributes {
        attrs.insert(a.name.clone(), attribute_type(a));
    }
    for b in &block.block_types {
        let inner = block_type(b.block.as_ref().unwrap());
        let ty = match pb::schema::nested_block::NestingMode::try_from(b.nesting).unwrap() {
            pb::schema::nested_block::NestingMode::List => Type::list(inner),
            pb::schema::nested_block::NestingMode::Set => Type::set(inner),
            pb::schema::nested_block::NestingMode::Map => Type::map(inner),
            _ => inner,
        };
        attrs.insert(b.type_name.clone(), ty);
    }
    Type::Object {
        attributes: attrs,
        optional: Default::default(),
    }
}

fn attribute_type(a: &pb::schema::Attribute) -> Type {
    match &a.nested_type {
        None => Type::from_json_bytes(&a.r#type).unwrap(),
        Some(o) => {
            let inner = Type::Object {
                attributes: o
                    .attributes
                    .iter()
                    .map(|n| (n.name.clone(), attribute_type(n)))
                    .collect(),
                optional: Default::default(),
            };
            match NestingMode::try_from(o.nesting).unwrap() {
                NestingMode::List => Type::list(inner),
                NestingMode::Set => Type::set(inner),
                NestingMode::Map => Type::map(inner),
                _ => inner,
            }
        }
    }
}

/// OpenTofu's `objchange.ProposedNew` for the shapes this schema has: a
/// computed attribute left null in the configuration keeps its prior
/// value; single nested objects are merged attribute by attribute.
fn proposed_new(attrs: &[pb::schema::Attribute], prior: &Value, config: &Value) -> Value {
    let (Value::Object(p), Value::Object(c)) = (prior, config) else {
        return config.clone();
    };
    let mut out = c.clone();
    for a in attrs {
        let (pv, cv) = (
            p.get(&a.name).unwrap_or(&Value::Null),
            c.get(&a.name).unwrap_or(&Value::Null),
        );
        let merged = if matches!(cv, Value::Null) && a.computed {
            pv.clone()
        } else {
            match &a.nested_type {
                Some(o) if NestingMode::try_from(o.nesting).unwrap() == NestingMode::Single => {
                    proposed_new(&o.attributes, pv, cv)
                }
                _ => cv.clone(),
            }
        };
        out.insert(a.name.clone(), merged);
    }
    Value::Object(out)
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, ty).unwrap(),
        json: vec![],
    })
}

fn value(d: Option<&pb::DynamicValue>, ty: &Type) -> Value {
    decode_msgpack(&d.expect("a value").msgpack, ty).unwrap()
}

/// One provider process, as OpenTofu starts one per graph walk (validate,
/// plan, apply, import are separate walks, each with a new process).
struct Session {
    _plugin: Plugin,
    tofu: Tofu,
    client: ProviderClient<Channel>,
    schema: pb::get_provider_schema::Response,
    identity_schemas: Option<pb::get_resource_identity_schemas::Response>,
    /// The implied types of `nested_nodegroup` and (1.12) of its identity.
    nodegroup_type: Type,
    identity_type: Option<Type>,
}

impl Session {
    /// Starts the provider, reads its schema and configures it.
    async fn start(tofu: Tofu, endpoint: &str) -> Session {
        let cert = client_cert();
        let p = Plugin::start_with_env(
            &cert.pem,
            &[
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        );
        let ch = grpc_channel(&p.addr(), tls_client(p.server_cert(), Some(&cert)))
            .await
            .unwrap();
        let mut client = ProviderClient::new(ch).max_decoding_message_size(64 << 20);
        let schema = client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap()
            .into_inner();
        no_errors("GetProviderSchema", &schema.diagnostics);
        let identity_schemas = if tofu.identity {
            let r = client
                .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
                .await
                .unwrap()
                .into_inner();
            no_errors("GetResourceIdentitySchemas", &r.diagnostics);
            Some(r)
        } else {
            None
        };
        let nodegroup_type = block_type(
            schema.resource_schemas["nested_nodegroup"]
                .block
                .as_ref()
                .unwrap(),
        );
        let identity_type = identity_schemas.as_ref().map(|s| {
            let id = &s.identity_schemas["nested_nodegroup"];
            Type::Object {
                attributes: id
                    .identity_attributes
                    .iter()
                    .map(|a| (a.name.clone(), Type::from_json_bytes(&a.r#type).unwrap()))
                    .collect(),
                optional: Default::default(),
            }
        });
        let mut session = Session {
            _plugin: p,
            tofu,
            client,
            schema,
            identity_schemas,
            nodegroup_type,
            identity_type,
        };
        session.configure(endpoint).await;
        session
    }

    fn nodegroup(&self) -> &pb::schema::Block {
        self.schema.resource_schemas["nested_nodegroup"]
            .block
            .as_ref()
            .unwrap()
    }

    async fn configure(&mut self, endpoint: &str) {
        let block = self
            .schema
            .provider
            .as_ref()
            .unwrap()
            .block
            .as_ref()
            .unwrap();
        let ty = block_type(block);
        let config = from_json(
            &json!({
                "region": "us-east-1",
                "endpoints": {"eks": endpoint, "ec2": endpoint, "ssm": endpoint, "sts": endpoint},
            }),
            &ty,
            &AttributePath::root(),
        )
        .unwrap();
        let r = self
            .client
            .validate_provider_config(pb::validate_provider_config::Request {
                config: dv(&config, &ty),
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ValidateProviderConfig", &r.diagnostics);
        let r = self
            .client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: self.tofu.version.into(),
                config: dv(&config, &ty),
                client_capabilities: capabilities(),
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ConfigureProvider", &r.diagnostics);
    }

    /// ValidateDataResourceConfig + ReadDataSource; the state read.
    async fn read_data_source(&mut self, name: &str, config: serde_json::Value) -> Value {
        let ty = block_type(
            self.schema.data_source_schemas[name]
                .block
                .as_ref()
                .unwrap(),
        );
        let config = from_json(&config, &ty, &AttributePath::root()).unwrap();
        let r = self
            .client
            .validate_data_resource_config(pb::validate_data_resource_config::Request {
                type_name: name.into(),
                config: dv(&config, &ty),
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ValidateDataResourceConfig", &r.diagnostics);
        let r = self
            .client
            .read_data_source(pb::read_data_source::Request {
                type_name: name.into(),
                config: dv(&config, &ty),
                provider_meta: None,
                client_capabilities: capabilities(),
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ReadDataSource", &r.diagnostics);
        assert!(r.deferred.is_none(), "deferred without deferral_allowed");
        value(r.state.as_ref(), &ty)
    }

    async fn validate(&mut self, config: &Value) {
        let ty = self.nodegroup_type.clone();
        let r = self
            .client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "nested_nodegroup".into(),
                config: dv(config, &ty),
                client_capabilities: capabilities(),
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ValidateResourceConfig", &r.diagnostics);
    }

    /// PlanResourceChange with OpenTofu's proposed new state.
    async fn plan(&mut self, prior: &State, config: &Value) -> Planned {
        let ty = self.nodegroup_type.clone();
        let proposed = if matches!(config, Value::Null) {
            Value::Null
        } else {
            proposed_new(&self.nodegroup().attributes, &prior.value, config)
        };
        let prior_identity = self.identity_dv(prior);
        let r = self
            .client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: "nested_nodegroup".into(),
                prior_state: dv(&prior.value, &ty),
                proposed_new_state: dv(&proposed, &ty),
                config: dv(config, &ty),
                prior_private: prior.private.clone(),
                provider_meta: None,
                client_capabilities: capabilities(),
                prior_identity,
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("PlanResourceChange", &r.diagnostics);
        assert!(r.deferred.is_none(), "deferred without deferral_allowed");
        Planned {
            value: value(r.planned_state.as_ref(), &ty),
            private: r.planned_private,
            replace: r
                .requires_replace
                .iter()
                .map(|p| format!("{p:?}"))
                .collect(),
            identity: if self.tofu.identity {
                r.planned_identity
            } else {
                None
            },
        }
    }

    async fn apply(&mut self, prior: &State, planned: Planned, config: &Value) -> State {
        let ty = self.nodegroup_type.clone();
        let r = self
            .client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: "nested_nodegroup".into(),
                prior_state: dv(&prior.value, &ty),
                planned_state: dv(&planned.value, &ty),
                config: dv(config, &ty),
                planned_private: planned.private,
                provider_meta: None,
                planned_identity: planned.identity,
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ApplyResourceChange", &r.diagnostics);
        State {
            value: value(r.new_state.as_ref(), &ty),
            private: r.private,
            identity: self.identity_value(r.new_identity.as_ref()),
        }
    }

    async fn read(&mut self, prior: &State) -> State {
        let ty = self.nodegroup_type.clone();
        let current_identity = self.identity_dv(prior);
        let r = self
            .client
            .read_resource(pb::read_resource::Request {
                type_name: "nested_nodegroup".into(),
                current_state: dv(&prior.value, &ty),
                private: prior.private.clone(),
                provider_meta: None,
                client_capabilities: capabilities(),
                current_identity,
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ReadResource", &r.diagnostics);
        assert!(r.deferred.is_none(), "deferred without deferral_allowed");
        State {
            value: value(r.new_state.as_ref(), &ty),
            private: r.private,
            identity: self
                .identity_value(r.new_identity.as_ref())
                .or_else(|| prior.identity.clone()),
        }
    }

    /// ImportResourceState by ID, or (1.12) by identity.
    async fn import(&mut self, id: &str, identity: Option<Value>) -> State {
        let ty = self.nodegroup_type.clone();
        let identity = identity.map(|v| pb::ResourceIdentityData {
            identity_data: dv(&v, self.identity_type.as_ref().unwrap()),
        });
        let r = self
            .client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: "nested_nodegroup".into(),
                id: id.into(),
                client_capabilities: capabilities(),
                identity,
            })
            .await
            .unwrap()
            .into_inner();
        no_errors("ImportResourceState", &r.diagnostics);
        assert_eq!(r.imported_resources.len(), 1);
        let imported = &r.imported_resources[0];
        assert_eq!(imported.type_name, "nested_nodegroup");
        State {
            value: value(imported.state.as_ref(), &ty),
            private: imported.private.clone(),
            identity: self.identity_value(imported.identity.as_ref()),
        }
    }

    /// OpenTofu 1.11 sends no identity; 1.12 sends the one it stored.
    fn identity_dv(&self, state: &State) -> Option<pb::ResourceIdentityData> {
        let ty = self.identity_type.as_ref()?;
        let v = state.identity.as_ref()?;
        Some(pb::ResourceIdentityData {
            identity_data: dv(v, ty),
        })
    }

    /// 1.11 ignores an identity in a response (its client has no schema for it).
    fn identity_value(&self, d: Option<&pb::ResourceIdentityData>) -> Option<Value> {
        let ty = self.identity_type.as_ref()?;
        let data = d?.identity_data.as_ref()?;
        Some(value(Some(data), ty))
    }
}

struct Planned {
    value: Value,
    private: Vec<u8>,
    replace: Vec<String>,
    identity: Option<pb::ResourceIdentityData>,
}

#[derive(Clone, Debug)]
struct State {
    value: Value,
    private: Vec<u8>,
    identity: Option<Value>,
}

impl State {
    fn none() -> State {
        State {
            value: Value::Null,
            private: vec![],
            identity: None,
        }
    }
}

fn nodegroup_config(s: &Session, name: &str) -> Value {
    let ty = &s.nodegroup_type;
    from_json(
        &json!({
            "cluster_name": "prod",
            "name": name,
            "node_role_arn": "arn:aws:iam::123456789012:role/nodes",
            "subnet_ids": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
            "sandbox": "nsjail",
            "ami_family": "bottlerocket",
            "instance_types": ["m6i.large"],
            "scaling": {"min_size": 1, "max_size": 3, "desired_size": 2},
            "labels": {"workload": "agents"},
        }),
        ty,
        &AttributePath::root(),
    )
    .unwrap()
}

fn attr<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.attr(name).unwrap_or_else(|| panic!("no {name} in {v:?}"))
}

/// A plan that changes nothing: the planned state is the prior state.
async fn plan_is_clean(s: &mut Session, state: &State, config: &Value) {
    let planned = s.plan(state, config).await;
    assert!(planned.replace.is_empty(), "{:?}", planned.replace);
    let planned = planned.value;
    if planned != state.value {
        let (Value::Object(a), Value::Object(b)) = (&planned, &state.value) else {
            panic!("planned {planned:?}");
        };
        let changed: Vec<_> = a.keys().filter(|k| a.get(*k) != b.get(*k)).collect();
        panic!("a second plan changes {changed:?}");
    }
}

async fn lifecycle(tofu: Tofu, moto: &acceptance::Moto) {
    let endpoint = moto.endpoint();
    let mut s = Session::start(tofu, &endpoint).await;
    assert!(s.schema.resource_schemas.contains_key("nested_nodegroup"));
    if tofu.identity {
        let ids = s.identity_schemas.as_ref().unwrap();
        assert!(ids.identity_schemas.contains_key("nested_nodegroup"));
    }

    // A data source and a function, as any configuration uses them.
    let cap = s
        .read_data_source(
            "nested_capability",
            json!({"sandbox": "landjail", "platform": "eks", "ami_family": "al2023", "kubernetes_version": "1.33"}),
        )
        .await;
    assert_eq!(attr(&cap, "kernel_floor"), &Value::String("6.7".into()));
    let f = s
        .client
        .call_function(pb::call_function::Request {
            name: "kernel_floor".into(),
            arguments: vec![pb::DynamicValue {
                msgpack: encode_msgpack(&Value::String("landjail".into()), &Type::String).unwrap(),
                json: vec![],
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(f.error.is_none(), "{:?}", f.error);
    assert_eq!(
        value(f.result.as_ref(), &Type::String),
        Value::String("6.7".into())
    );

    // `tofu apply`: the plan walk, then the apply walk.
    let name = format!("agents-{}", tofu.version.replace('.', "-"));
    let config = nodegroup_config(&s, &name);
    s.validate(&config).await;
    let planned = s.plan(&State::none(), &config).await;
    // The ID is `cluster_name:name`, known at plan.
    assert_eq!(
        attr(&planned.value, "id"),
        &Value::String(format!("prod:{name}"))
    );
    let mut s = Session::start(tofu, &endpoint).await;
    let created = s.apply(&State::none(), planned, &config).await;
    assert_eq!(
        attr(&created.value, "id"),
        &Value::String(format!("prod:{name}"))
    );
    assert_eq!(created.identity.is_some(), tofu.identity);

    // `tofu plan`: refresh, then a plan that changes nothing.
    let mut s = Session::start(tofu, &endpoint).await;
    let read = s.read(&created).await;
    assert_eq!(read.value, created.value);
    plan_is_clean(&mut s, &read, &config).await;

    // `tofu import` into a new state (as after `tofu state rm`), by ID and
    // on 1.12 by identity; the next apply takes the node group over, and
    // the plan after it is clean.
    let mut imports = vec![(format!("prod:{name}"), None)];
    if tofu.identity {
        let identity = from_json(
            &json!({"cluster_name": "prod", "name": name}),
            s.identity_type.as_ref().unwrap(),
            &AttributePath::root(),
        )
        .unwrap();
        imports.push((String::new(), Some(identity)));
    }
    let mut owned = read;
    for (id, identity) in imports {
        let mut s = Session::start(tofu, &endpoint).await;
        let imported = s.import(&id, identity).await;
        assert_eq!(attr(&imported.value, "id"), attr(&owned.value, "id"));
        let imported = s.read(&imported).await;

        let mut s = Session::start(tofu, &endpoint).await;
        let refreshed = s.read(&imported).await;
        let planned = s.plan(&refreshed, &config).await;
        assert!(
            planned.replace.is_empty(),
            "an import must not replace: {:?}",
            planned.replace
        );
        let mut s = Session::start(tofu, &endpoint).await;
        owned = s.apply(&refreshed, planned, &config).await;

        let mut s = Session::start(tofu, &endpoint).await;
        let owned_read = s.read(&owned).await;
        plan_is_clean(&mut s, &owned_read, &config).await;
        owned = owned_read;
    }

    // `tofu destroy`.
    let mut s = Session::start(tofu, &endpoint).await;
    let refreshed = s.read(&owned).await;
    let planned = s.plan(&refreshed, &Value::Null).await;
    assert_eq!(planned.value, Value::Null);
    let mut s = Session::start(tofu, &endpoint).await;
    let gone = s.apply(&refreshed, planned, &Value::Null).await;
    assert_eq!(gone.value, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentofu_1_11_and_1_12_create_refresh_import_and_destroy() {
    let moto = acceptance::Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    for tofu in [TOFU_1_11, TOFU_1_12] {
        lifecycle(tofu, &moto).await;
    }
    assert_eq!(
        moto.resource_counts("prod").unwrap(),
        (0, 0),
        "node groups or launch templates left behind"
    );
}
