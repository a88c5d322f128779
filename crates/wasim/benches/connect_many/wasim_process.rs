//! The simulator under test as a child process: the benchmark reads its
//! memory and CPU time from /proc without counting the clients.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A wasim in its own process, found through the lines it prints.
pub struct Server {
    child: Child,
    pub ws: String,
    pub admin: String,
}

impl Server {
    pub fn spawn() -> Result<Server> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasim"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the wasim binary")?;
        let mut lines = BufReader::new(child.stdout.take().context("wasim stdout")?).lines();
        let mut field = |name: &str| -> Result<String> {
            let line = lines.next().context("wasim exited early")??;
            line.strip_prefix(name)
                .map(|v| v.trim().to_string())
                .with_context(|| format!("expected '{name} …', got {line:?}"))
        };
        let (ws, admin) = (field("ws")?, field("admin")?);
        // Read the last line too: wasim fails if it cannot write it.
        field("media-ca")?;
        Ok(Server { child, ws, admin })
    }

    /// Resident set size from /proc, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .context("no VmRSS")?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("VmRSS value")?
            .parse()?)
    }

    /// CPU time wasim has used so far, in seconds.
    pub fn cpu_secs(&self) -> Result<f64> {
        cpu_secs(&self.child.id().to_string())
    }
}

/// CPU time (user + system) process `pid` (or `self`) has used, in
/// seconds: unlike wall time, it does not depend on what else the machine
/// is running.
pub fn cpu_secs(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').context("/proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    Ok(ticks as f64 / per_sec as f64)
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM lets it stop like an operator would stop it.
        // SAFETY: kill only signals our own child, by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
