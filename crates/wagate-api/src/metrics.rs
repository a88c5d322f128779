//! `/metrics` in the Prometheus text format, written by hand: session
//! gauges from the store, the counters shared with the engine, and request
//! latencies recorded here. No global registry, so each app counts alone.

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let slot = BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(BUCKETS.len());
        self.buckets[slot] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

/// Labels of one latency series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Request latency histograms by method, route template and status.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: Mutex<BTreeMap<RequestLabels, Histogram>>,
}

impl HttpMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method.to_string(),
            route: route.to_string(),
            status,
        };
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.entry(labels).or_default().observe(seconds);
    }

    fn snapshot(&self) -> Vec<(RequestLabels, Histogram)> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.iter().map(|(l, h)| (l.clone(), h.clone())).collect()
    }
}

/// Middleware on matched routes: labels by route template (`{id}`, not
/// the id) so the number of series stays bounded.
pub async fn record_latency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.http.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Prometheus metrics of this process.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let sessions = state.store.session_counts().await?;
    let mut out = Exposition::default();

    out.header("wagate_sessions", "gauge", "Sessions by status.");
    for (status, n) in sessions {
        out.sample("wagate_sessions", &[("status", status.as_str())], n as f64);
    }
    let counters = state.metrics.snapshot();
    for (name, help, value) in [
        (
            "wagate_messages_sent_total",
            "Messages WhatsApp accepted.",
            counters.messages_sent,
        ),
        (
            "wagate_messages_failed_total",
            "Messages that could not be sent.",
            counters.messages_failed,
        ),
        (
            "wagate_reconnects_total",
            "Session reconnect attempts.",
            counters.reconnects,
        ),
    ] {
        out.header(name, "counter", help);
        out.sample(name, &[], value as f64);
    }
    out.header(
        "wagate_start_time_seconds",
        "gauge",
        "Start time of the process, Unix seconds.",
    );
    out.sample(
        "wagate_start_time_seconds",
        &[],
        state.started_at.timestamp() as f64,
    );

    let name = "wagate_http_request_duration_seconds";
    out.header(
        name,
        "histogram",
        "HTTP request latency by route and status.",
    );
    for (labels, histogram) in state.http.snapshot() {
        out.histogram(name, &labels, &histogram);
    }
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out.text,
    )
        .into_response())
}

/// A Prometheus text-format document being written.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    fn histogram(&mut self, name: &str, labels: &RequestLabels, h: &Histogram) {
        let status = labels.status.to_string();
        let base = [
            ("method", labels.method.as_str()),
            ("route", labels.route.as_str()),
            ("status", status.as_str()),
        ];
        let mut cumulative = 0;
        let bounds = BUCKETS
            .iter()
            .map(|b| b.to_string())
            .chain(["+Inf".to_string()]);
        for (le, n) in bounds.zip(h.buckets) {
            cumulative += n;
            let mut with_le = base.to_vec();
            with_le.push(("le", &le));
            self.sample(&format!("{name}_bucket"), &with_le, cumulative as f64);
        }
        self.sample(&format!("{name}_sum"), &base, h.sum);
        self.sample(&format!("{name}_count"), &base, h.count as f64);
    }
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let http = HttpMetrics::default();
        http.observe("GET", "/health", 200, 0.001);
        http.observe("GET", "/health", 200, 0.2);
        http.observe("GET", "/health", 200, 60.0);
        let mut out = Exposition::default();
        for (labels, h) in http.snapshot() {
            out.histogram("lat", &labels, &h);
        }
        let text = out.text;
        assert!(
            text.contains(r#"lat_bucket{method="GET",route="/health",status="200",le="0.005"} 1"#)
        );
        assert!(
            text.contains(r#"lat_bucket{method="GET",route="/health",status="200",le="0.25"} 2"#)
        );
        assert!(
            text.contains(r#"lat_bucket{method="GET",route="/health",status="200",le="+Inf"} 3"#)
        );
        assert!(text.contains(r#"lat_count{method="GET",route="/health",status="200"} 3"#));
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
