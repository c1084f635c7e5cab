//! The codec against Terraform's wire formats: round trips, refinements,
//! malformed payloads and property tests.

use super::*;
use proptest::prelude::*;

fn obj_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("size", Type::Number),
        ("tags", Type::map(Type::String)),
        ("ids", Type::set(Type::String)),
        ("flag", Type::Bool),
    ])
}

#[test]
fn unknown_is_extension_zero_and_refined_unknown_round_trips() {
    let bytes = encode_msgpack(&Value::unknown(), &Type::String).unwrap();
    assert_eq!(bytes, vec![0xd4, 0x00, 0x00]);
    // A refined unknown string known not to be null, prefix "ab".
    let payload = vec![0x82, 0x01, 0xc3, 0x02, 0xa2, b'a', b'b'];
    let mut wire = vec![0xc7, payload.len() as u8, 12];
    wire.extend_from_slice(&payload);
    let v = decode_msgpack(&wire, &Type::String).unwrap();
    assert!(v.is_unknown());
    assert_eq!(encode_msgpack(&v, &Type::String).unwrap(), wire);
}

#[test]
fn numbers_arrive_as_int_float_or_string_without_loss() {
    let mut buf = Vec::new();
    rmp::encode::write_uint(&mut buf, u64::MAX).unwrap();
    assert_eq!(
        decode_msgpack(&buf, &Type::Number).unwrap(),
        Value::Number(Number::UInt(u64::MAX))
    );
    let mut buf = Vec::new();
    rmp::encode::write_f64(&mut buf, 0.1).unwrap();
    assert_eq!(
        decode_msgpack(&buf, &Type::Number).unwrap(),
        Value::Number(Number::Float(0.1))
    );
    let big = "1234567890123456789012345678901234567890.5";
    let mut buf = Vec::new();
    rmp::encode::write_str(&mut buf, big).unwrap();
    let v = decode_msgpack(&buf, &Type::Number).unwrap();
    assert_eq!(v, Value::Number(Number::Decimal(big.into())));
    assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), buf);
}

#[test]
fn objects_missing_attributes_decode_as_null_and_unknown_attributes_are_errors() {
    let mut buf = Vec::new();
    rmp::encode::write_map_len(&mut buf, 1).unwrap();
    rmp::encode::write_str(&mut buf, "name").unwrap();
    rmp::encode::write_str(&mut buf, "pool").unwrap();
    let v = decode_msgpack(&buf, &obj_type()).unwrap();
    assert_eq!(v.attr("name"), Some(&Value::string("pool")));
    assert_eq!(v.attr("size"), Some(&Value::Null));

    let mut buf = Vec::new();
    rmp::encode::write_map_len(&mut buf, 1).unwrap();
    rmp::encode::write_str(&mut buf, "nope").unwrap();
    rmp::encode::write_nil(&mut buf).unwrap();
    let e = decode_msgpack(&buf, &obj_type()).unwrap_err();
    assert_eq!(e.path.to_string(), "nope");
}

#[test]
fn type_mismatch_names_the_path() {
    let v = Value::object([(
        "tags",
        Value::Map([("a".to_string(), Value::int(1))].into()),
    )]);
    let e = encode_msgpack(&v, &obj_type()).unwrap_err();
    assert_eq!(e.path.to_string(), "tags[\"a\"]");
}

#[test]
fn dynamic_values_carry_their_type() {
    let v = Value::Dynamic {
        ty: Type::list(Type::String),
        value: Box::new(Value::List(vec![])),
    };
    let bytes = encode_msgpack(&v, &Type::Dynamic).unwrap();
    assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
    // Values without a recorded type get an inferred one.
    let bytes = encode_msgpack(&Value::string("x"), &Type::Dynamic).unwrap();
    let back = decode_msgpack(&bytes, &Type::Dynamic).unwrap();
    assert_eq!(back.as_str(), Some("x"));
}

#[test]
fn json_state_decodes_including_big_numbers() {
    let ty = obj_type();
    let v = decode_json(
        br#"{"name":"n","size":123456789012345678901234567890,"tags":{"a":"b"},"ids":["x"],"flag":true}"#,
        &ty,
    )
    .unwrap();
    assert_eq!(
        v.attr("size"),
        Some(&Value::Number(Number::Decimal(
            "123456789012345678901234567890".into()
        )))
    );
    assert_eq!(v.attr("flag"), Some(&Value::Bool(true)));
}

#[test]
fn nan_on_the_wire_is_an_error() {
    let mut buf = Vec::new();
    rmp::encode::write_f64(&mut buf, f64::NAN).unwrap();
    assert!(decode_msgpack(&buf, &Type::Number).is_err());
    let mut buf = Vec::new();
    rmp::encode::write_f64(&mut buf, f64::INFINITY).unwrap();
    assert_eq!(
        decode_msgpack(&buf, &Type::Number).unwrap(),
        Value::Number(Number::Float(f64::INFINITY))
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bytes in [
        &[0x92u8, 0x01][..],
        &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
        &[0xa5, b'a'][..],
        &[][..],
    ] {
        assert!(decode_msgpack(bytes, &Type::list(Type::Number)).is_err());
    }
}

// ---- property tests: any value of any type survives encode → decode ----

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(|attrs| {
                Type::Object {
                    attributes: attrs,
                    optional: Default::default(),
                }
            }),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Number::UInt),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::from_f64),
        "[1-9][0-9]{25,40}(\\.[0-9]{1,20})?".prop_map(Number::Decimal),
    ]
}

fn arb_value(ty: Type) -> BoxedStrategy<Value> {
    let special = prop_oneof![
        Just(Value::Null),
        Just(Value::unknown()),
        prop::collection::vec(any::<u8>(), 1..6).prop_map(|p| Value::Unknown {
            refinements: Some(p)
        }),
    ];
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(*e), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(*e), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(".{0,5}", arb_value(*e), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object { attributes, .. } => {
            let parts: Vec<_> = attributes
                .into_iter()
                .map(|(k, t)| arb_value(t).prop_map(move |v| (k.clone(), v)))
                .collect();
            parts
                .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(elems) => {
            let parts: Vec<_> = elems.into_iter().map(arb_value).collect();
            parts.prop_map(Value::Tuple).boxed()
        }
        Type::Dynamic => Just(Value::Null).boxed(),
    };
    prop_oneof![1 => special, 4 => known].boxed()
}

fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|t| arb_value(t.clone()).prop_map(move |v| (t.clone(), v)))
}

proptest! {
    #[test]
    fn msgpack_round_trip((ty, value) in arb_typed_value()) {
        let bytes = encode_msgpack(&value, &ty).unwrap();
        let back = decode_msgpack(&bytes, &ty).unwrap();
        prop_assert_eq!(&back, &value);
        // Re-encoding is byte-identical: output is deterministic.
        prop_assert_eq!(encode_msgpack(&back, &ty).unwrap(), bytes);
    }

    #[test]
    fn msgpack_round_trip_inside_dynamic((ty, value) in arb_typed_value()) {
        prop_assume!(!value.is_null() && !value.is_unknown());
        let wrapped = Value::Dynamic { ty: ty.clone(), value: Box::new(value) };
        let bytes = encode_msgpack(&wrapped, &Type::Dynamic).unwrap();
        prop_assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), wrapped);
    }

    #[test]
    fn json_round_trip_of_known_values((ty, value) in arb_typed_value()) {
        prop_assume!(value.is_wholly_known());
        let json = to_json(&value).to_string();
        let back = decode_json(json.as_bytes(), &ty).unwrap();
        prop_assert_eq!(back, value);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), (ty, _v) in arb_typed_value()) {
        let _ = decode_msgpack(&bytes, &ty);
    }
}
