//! Prometheus metrics in the text exposition format, kept by hand: a few
//! counters and histograms do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::inference::observe::Observer;

/// Bucket bounds in seconds, from a fast token (1 ms) to a slow first token.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Bucket bounds in seconds for background jobs, from an instant ingest to
/// an SRS that takes half an hour.
const JOB_BUCKETS: &[f64] = &[0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new(LATENCY_BUCKETS)
    }
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, v: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in self.bounds.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    tokens_in: AtomicU64,
    tokens_out: AtomicU64,
    tokens_cached: AtomicU64,
    queue_depth: AtomicI64,
    cancelled: AtomicU64,
    documents: AtomicU64,
    chunks: AtomicU64,
    ttft: Mutex<BTreeMap<String, Histogram>>,
    token_latency: Mutex<BTreeMap<String, Histogram>>,
    connections_open: AtomicI64,
    /// Connections refused at accept, by reason (`per_address`, `total`).
    connections_refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Connections closed for keeping the server waiting, by phase
    /// (`header`: a request head too slow; `idle`: no request at all).
    connections_timed_out: Mutex<BTreeMap<&'static str, u64>>,
    password_verifications: AtomicU64,
    /// Time to the response head, by route template.
    request_latency: Mutex<BTreeMap<String, Histogram>>,
    /// Prompt and completion tokens by model.
    model_tokens: Mutex<BTreeMap<String, (u64, u64)>>,
    /// Finished jobs by kind and outcome, and their durations by kind.
    jobs: Mutex<BTreeMap<(String, String), u64>>,
    job_duration: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn record_request(&self, route: &str, status: u16, seconds: f64) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((route.to_string(), status)).or_default() += 1;
        drop(m);
        let mut l = self
            .request_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        l.entry(route.to_string()).or_default().observe(seconds);
    }

    /// A job of `kind` ended with `status` after `seconds`.
    pub fn job_finished(&self, kind: &str, status: &str, seconds: f64) {
        let mut m = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((kind.to_string(), status.to_string())).or_default() += 1;
        drop(m);
        let mut d = self.job_duration.lock().unwrap_or_else(|e| e.into_inner());
        d.entry(kind.to_string())
            .or_insert_with(|| Histogram::new(JOB_BUCKETS))
            .observe(seconds);
    }

    pub fn document_uploaded(&self) {
        self.documents.fetch_add(1, Ordering::Relaxed);
    }

    pub fn chunks_ingested(&self, n: usize) {
        self.chunks.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn connection_refused(&self, reason: &'static str) {
        let mut m = self
            .connections_refused
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *m.entry(reason).or_default() += 1;
    }

    pub fn connection_timed_out(&self, phase: &'static str) {
        let mut m = self
            .connections_timed_out
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *m.entry(phase).or_default() += 1;
    }

    /// Counts one Argon2 password check (each takes 19 MiB and tens of ms).
    pub fn password_verified(&self) {
        self.password_verifications.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP bacopilot_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE bacopilot_http_requests_total counter\n");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "bacopilot_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        for (name, help, v) in [
            (
                "bacopilot_prompt_tokens_total",
                "Prompt tokens processed.",
                self.tokens_in.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_prompt_tokens_cached_total",
                "Prompt tokens whose keys and values came from the prefix cache.",
                self.tokens_cached.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_completion_tokens_total",
                "Tokens generated.",
                self.tokens_out.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_documents_uploaded_total",
                "Documents accepted for ingest.",
                self.documents.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_chunks_ingested_total",
                "Document chunks embedded and indexed.",
                self.chunks.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_generations_cancelled_total",
                "Generations stopped because the client went away.",
                self.cancelled.load(Ordering::Relaxed),
            ),
            (
                "bacopilot_password_verifications_total",
                "Passwords checked against their Argon2 hash at sign-in.",
                self.password_verifications.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let depth = self.queue_depth.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP bacopilot_queue_depth Generation requests admitted and not finished.\n# TYPE bacopilot_queue_depth gauge\nbacopilot_queue_depth {depth}"
        );
        let open = self.connections_open.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP bacopilot_connections_open Client connections open now.\n# TYPE bacopilot_connections_open gauge\nbacopilot_connections_open {open}"
        );
        for (name, help, label, counts) in [
            (
                "bacopilot_connections_refused_total",
                "Connections closed at accept for being over the cap.",
                "reason",
                &self.connections_refused,
            ),
            (
                "bacopilot_connections_timed_out_total",
                "Connections closed for sending no request, or its head too slowly.",
                "phase",
                &self.connections_timed_out,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (value, n) in counts.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP bacopilot_jobs_total Background jobs finished, by kind and outcome.\n# TYPE bacopilot_jobs_total counter"
        );
        for ((kind, status), n) in self.jobs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "bacopilot_jobs_total{{kind=\"{kind}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP bacopilot_model_tokens_total Tokens by model and direction (prompt, completion).\n# TYPE bacopilot_model_tokens_total counter"
        );
        for (model, (prompt, completion)) in self
            .model_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "bacopilot_model_tokens_total{{model=\"{model}\",direction=\"prompt\"}} {prompt}\nbacopilot_model_tokens_total{{model=\"{model}\",direction=\"completion\"}} {completion}"
            );
        }
        for (name, help, label, hists) in [
            (
                "bacopilot_http_request_duration_seconds",
                "Time from a request's arrival to its response head (a stream's first byte), by route.",
                "route",
                &self.request_latency,
            ),
            (
                "bacopilot_job_duration_seconds",
                "Time a background job ran, by kind.",
                "kind",
                &self.job_duration,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for (value, h) in hists.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                h.render(&mut out, name, &format!("{label}=\"{value}\""));
            }
        }
        for (name, help, hists) in [
            (
                "bacopilot_time_to_first_token_seconds",
                "Time from admission to the first generated token.",
                &self.ttft,
            ),
            (
                "bacopilot_token_latency_seconds",
                "Time between generated tokens.",
                &self.token_latency,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for (model, h) in hists.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                h.render(&mut out, name, &format!("model=\"{model}\""));
            }
        }
        out
    }
}

impl Observer for Metrics {
    fn queue_changed(&self, delta: i64) {
        self.queue_depth.fetch_add(delta, Ordering::Relaxed);
    }

    fn generation_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    fn add_tokens(&self, model: &str, prompt: usize, cached: usize, completion: usize) {
        let mut m = self.model_tokens.lock().unwrap_or_else(|e| e.into_inner());
        let t = m.entry(model.to_string()).or_default();
        t.0 += prompt as u64;
        t.1 += completion as u64;
        drop(m);
        self.tokens_in.fetch_add(prompt as u64, Ordering::Relaxed);
        self.tokens_cached
            .fetch_add(cached as u64, Ordering::Relaxed);
        self.tokens_out
            .fetch_add(completion as u64, Ordering::Relaxed);
    }

    fn observe_ttft(&self, model: &str, seconds: f64) {
        let mut m = self.ttft.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(model.to_string()).or_default().observe(seconds);
    }

    fn observe_token_latency(&self, model: &str, seconds: f64) {
        let mut m = self.token_latency.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(model.to_string()).or_default().observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counted() {
        let m = Metrics::default();
        m.observe_ttft("m", 0.003);
        m.observe_ttft("m", 0.2);
        let text = m.render();
        assert!(text
            .contains("bacopilot_time_to_first_token_seconds_bucket{model=\"m\",le=\"0.005\"} 1"));
        assert!(text
            .contains("bacopilot_time_to_first_token_seconds_bucket{model=\"m\",le=\"0.25\"} 2"));
        assert!(text.contains("bacopilot_time_to_first_token_seconds_count{model=\"m\"} 2"));
    }

    #[test]
    fn connections_are_gauged_and_refusals_counted_by_reason() {
        let m = Metrics::default();
        m.connection_opened();
        m.connection_opened();
        m.connection_closed();
        m.connection_refused("per_address");
        m.connection_timed_out("header");
        let text = m.render();
        assert!(text.contains("bacopilot_connections_open 1\n"), "{text}");
        assert!(text.contains("bacopilot_connections_refused_total{reason=\"per_address\"} 1"));
        assert!(text.contains("bacopilot_connections_timed_out_total{phase=\"header\"} 1"));
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = Metrics::default();
        m.record_request("/v1/models", 200, 0.004);
        m.record_request("/v1/models", 200, 0.3);
        let text = m.render();
        assert!(
            text.contains("bacopilot_http_requests_total{route=\"/v1/models\",status=\"200\"} 2")
        );
        assert!(text.contains(
            "bacopilot_http_request_duration_seconds_bucket{route=\"/v1/models\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains("bacopilot_http_request_duration_seconds_count{route=\"/v1/models\"} 2")
        );
    }

    #[test]
    fn jobs_and_tokens_are_counted_by_kind_and_by_model() {
        let m = Metrics::default();
        m.job_finished("ingest", "succeeded", 12.0);
        m.job_finished("ingest", "failed", 0.2);
        m.add_tokens("smol", 10, 0, 5);
        m.add_tokens("smol", 3, 0, 2);
        let text = m.render();
        assert!(text.contains("bacopilot_jobs_total{kind=\"ingest\",status=\"failed\"} 1"));
        assert!(
            text.contains("bacopilot_job_duration_seconds_bucket{kind=\"ingest\",le=\"15\"} 2"),
            "{text}"
        );
        assert!(text.contains("bacopilot_job_duration_seconds_bucket{kind=\"ingest\",le=\"5\"} 1"));
        assert!(text
            .contains("bacopilot_model_tokens_total{model=\"smol\",direction=\"completion\"} 7"));
        assert!(text.contains("bacopilot_prompt_tokens_total 13"));
    }
}
