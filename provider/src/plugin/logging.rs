//! Logs as hclog JSON lines on stderr.
//!
//! go-plugin reads a provider's stderr line by line; a JSON line with
//! `@level`, `@message` and `@timestamp` (Go layout
//! `2006-01-02T15:04:05.000000Z07:00`) becomes a structured log entry that
//! Terraform filters with `TF_LOG_PROVIDER`. Any other line is logged raw.
//! The fields of the spans an event is logged in (the RPC span's `tf_rpc`,
//! `tf_req_id`, …) are on its line too, as hclog's `With` fields are.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::framework::server::panic_message;

/// Name logged in `@module`.
pub const MODULE: &str = "provider.terraform-provider-nested";

/// The level the provider logs at, from the variables Terraform documents:
/// `TF_LOG` wins, then `TF_LOG_PROVIDER`, then `TF_LOG_PROVIDER_NESTED`.
/// Nothing set means nothing logged (as Terraform's own SDKs do).
pub fn level_from_env(get: impl Fn(&str) -> Option<String>) -> LevelFilter {
    ["TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_NESTED"]
        .iter()
        .find_map(|k| get(k).filter(|v| !v.trim().is_empty()))
        .map_or(LevelFilter::OFF, |v| parse_level(&v))
}

fn parse_level(v: &str) -> LevelFilter {
    match v.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        // Terraform treats any other non-empty value as TRACE.
        _ => LevelFilter::TRACE,
    }
}

/// Writes each event as one hclog JSON line.
pub struct HclogLayer {
    out: Arc<Mutex<dyn Write + Send>>,
}

impl HclogLayer {
    pub fn new(out: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self { out }
    }
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Go's `2006-01-02T15:04:05.000000Z07:00` for a UTC time.
pub fn hclog_timestamp(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// Recorded fields of an event, or of a span (kept in its extensions).
struct JsonFields(Map<String, Json>);

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), Json::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), Json::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), Json::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), Json::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), Json::from(value));
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = JsonFields(Map::new());
        attrs.record(&mut fields);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<JsonFields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Outer spans' fields first; inner spans and the event override.
        let mut fields = JsonFields(Map::new());
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<JsonFields>() {
                    for (k, v) in &span_fields.0 {
                        fields.0.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or(Json::from(""));
        let mut line = Map::new();
        line.insert(
            "@level".into(),
            hclog_level(event.metadata().level()).into(),
        );
        line.insert("@message".into(), message);
        line.insert("@module".into(), MODULE.into());
        line.insert(
            "@timestamp".into(),
            hclog_timestamp(OffsetDateTime::now_utc()).into(),
        );
        for (k, v) in fields.0 {
            line.insert(k, v);
        }
        let mut text = Json::Object(line).to_string();
        text.push('\n');
        if let Ok(mut out) = self.out.lock() {
            // A closed stderr must not take the provider down.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
}

/// The provider's own events at `level`; its libraries' (h2, hyper, rustls)
/// only from WARN up, so TRACE shows what the provider does, not every frame.
pub fn targets(level: LevelFilter) -> Targets {
    Targets::new()
        .with_target("nested_provider", level)
        .with_target("terraform_provider_nested", level)
        .with_default(level.min(LevelFilter::WARN))
}

/// Install the global subscriber writing to stderr, and a panic hook that
/// logs panics as errors instead of printing Go-confusing text.
pub fn init_from_env() {
    let level = level_from_env(|k| std::env::var(k).ok());
    let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(std::io::stderr()));
    let subscriber =
        tracing_subscriber::registry().with(HclogLayer::new(out).with_filter(targets(level)));
    let _ = tracing::subscriber::set_global_default(subscriber);
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(location = %location, "provider panicked: {}", panic_message(info.payload()));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_hclog_json_with_go_timestamp_layout() {
        let buf = Buf::default();
        let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(buf.clone()));
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(out).with_filter(LevelFilter::DEBUG));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(rpc = "GetProviderSchema", count = 3, "served");
            tracing::trace!("filtered out");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let v: Json = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "served");
        assert_eq!(v["rpc"], "GetProviderSchema");
        assert_eq!(v["count"], 3);
        let ts = v["@timestamp"].as_str().unwrap();
        // 2006-01-02T15:04:05.000000Z07:00 with a UTC zone
        assert_eq!(ts.len(), "2006-01-02T15:04:05.000000Z".len(), "{ts}");
        assert_eq!(&ts[10..11], "T");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
    }

    #[test]
    fn span_fields_are_on_every_line_inside_the_span() {
        let buf = Buf::default();
        let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(buf.clone()));
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(out).with_filter(LevelFilter::DEBUG));
        tracing::subscriber::with_default(sub, || {
            let outer = tracing::error_span!("rpc", tf_rpc = "ReadResource", tf_req_id = "r-1");
            let _outer = outer.enter();
            tracing::debug!("in the rpc");
            let inner = tracing::error_span!("step", tf_req_id = tracing::field::Empty, step = 2);
            inner.record("tf_req_id", "r-2");
            inner.in_scope(|| tracing::warn!(step = 3, "in the step"));
            drop(_outer);
            tracing::info!("outside");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["tf_rpc"], "ReadResource");
        assert_eq!(lines[0]["tf_req_id"], "r-1");
        // Inner spans and the event itself win over outer fields.
        assert_eq!(lines[1]["tf_rpc"], "ReadResource");
        assert_eq!(lines[1]["tf_req_id"], "r-2");
        assert_eq!(lines[1]["step"], 3);
        assert_eq!(lines[1]["@message"], "in the step");
        assert!(lines[2].get("tf_rpc").is_none(), "{}", lines[2]);
    }

    #[test]
    fn level_precedence_follows_terraform() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        assert_eq!(level_from_env(env(&[])), LevelFilter::OFF);
        assert_eq!(
            level_from_env(env(&[("TF_LOG_PROVIDER", "debug")])),
            LevelFilter::DEBUG
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "WARN"), ("TF_LOG_PROVIDER", "trace")])),
            LevelFilter::WARN
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "JSON")])),
            LevelFilter::TRACE
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG_PROVIDER_NESTED", "error")])),
            LevelFilter::ERROR
        );
    }
}
