//! What the benchmarks measure besides wall time: CPU used by the gateway
//! and by the benchmark process, and latency percentiles.
//!
//! Shared by the outbound and webhook benchmarks (`#[path]`).

#![allow(dead_code)] // each user takes what it needs

use crate::gateway::Gateway;
use std::time::Duration;

/// CPU seconds (user + system) process `pid` has used, from /proc; 0
/// where there is none. Says whether a phase was CPU-bound or waiting.
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which may hold spaces: utime and
    // stime are the 14th and 15th fields, in ticks of 1/100 s on Linux.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// CPU used so far by the gateway and by this process (the HTTP clients
/// and wasim); two readings tell how many cores a phase kept busy.
pub struct CpuUse {
    gateway: f64,
    bench: f64,
}

impl CpuUse {
    pub fn now(gw: &Gateway) -> CpuUse {
        CpuUse {
            gateway: cpu_seconds(&gw.pid().to_string()),
            bench: cpu_seconds("self"),
        }
    }

    pub fn since(&self, gw: &Gateway, wall: Duration) -> String {
        let now = CpuUse::now(gw);
        let wall = wall.as_secs_f64();
        let (gateway, bench) = (now.gateway - self.gateway, now.bench - self.bench);
        format!(
            "CPU: gateway {gateway:.1} s ({:.2} cores), client + wasim {bench:.1} s ({:.2} cores)",
            gateway / wall,
            bench / wall
        )
    }
}

/// The `p` quantile of `sorted`, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// A count from the environment (`var`), else `default`.
pub fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The load on the machine, for the report's first line.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!("{cores} cores (load average {})", load.trim())
}
