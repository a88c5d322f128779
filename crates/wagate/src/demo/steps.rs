//! What the demo tells the person running it, and the commands it hands
//! them. Every command is a `curl` line that can be pasted as is; the demo
//! runs its own requests through the same [`Curl`] values, so what is
//! printed is what works.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// One HTTP request, shown as a `curl` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curl {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<String>,
}

impl Curl {
    pub fn get(url: impl Into<String>) -> Curl {
        Curl {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post(url: impl Into<String>, body: Option<Value>) -> Curl {
        let mut curl = Curl {
            method: "POST",
            url: url.into(),
            headers: Vec::new(),
            body: None,
        };
        if let Some(body) = body {
            curl.headers
                .push(("Content-Type".into(), "application/json".into()));
            curl.body = Some(body.to_string());
        }
        curl
    }

    pub fn bearer(mut self, key: &str) -> Curl {
        self.headers
            .insert(0, ("Authorization".into(), format!("Bearer {key}")));
        self
    }

    /// Sends the request; returns the status and the JSON body (`Null`
    /// when there is none).
    pub async fn send(&self, http: &reqwest::Client) -> anyhow::Result<(u16, Value)> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())?;
        let mut request = http.request(method, &self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

impl fmt::Display for Curl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "curl -s")?;
        if self.method != "GET" {
            write!(f, " -X {}", self.method)?;
        }
        write!(f, " {}", self.url)?;
        for (name, value) in &self.headers {
            write!(f, " -H {}", quote(&format!("{name}: {value}")))?;
        }
        if let Some(body) = &self.body {
            write!(f, " -d {}", quote(body))?;
        }
        Ok(())
    }
}

/// Single-quotes `text` for POSIX shells.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A stage of the demo, in the order they happen.
#[derive(Debug, Clone)]
pub enum Step {
    /// Both servers are up.
    Started {
        admin_key: String,
        api_url: String,
        sim_url: String,
        database: PathBuf,
        keep: bool,
        /// The request the demo made to create its session.
        create: Curl,
        /// Shows the session's status.
        status: Curl,
    },
    /// The session shows a QR code (again, after `renewed` expiry).
    Qr {
        qr: String,
        phone: String,
        scan: Curl,
        renewed: bool,
    },
    /// The session is linked; what to try next.
    Connected {
        phone: String,
        contact: String,
        send: Curl,
        inbox: Curl,
        reply: Curl,
    },
    /// Everything has stopped.
    Stopped { kept: Option<PathBuf> },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Started {
                admin_key,
                api_url,
                sim_url,
                database,
                keep,
                create,
                status,
            } => {
                let fate = if *keep {
                    "kept on exit (--keep)"
                } else {
                    "removed on exit; --keep keeps it"
                };
                writeln!(
                    f,
                    "\nwagate demo: the gateway and a simulated WhatsApp server (wasim) in one\n\
                     process. Nothing here talks to WhatsApp or the internet.\n"
                )?;
                writeln!(f, "  Admin API key   {admin_key}")?;
                writeln!(f, "  wagate API      {api_url}")?;
                writeln!(f, "  OpenAPI         {api_url}/api/v1/openapi.json")?;
                writeln!(f, "  wasim admin     {sim_url}")?;
                writeln!(f, "  Database        {} ({fate})\n", database.display())?;
                writeln!(
                    f,
                    "Created the session \"demo\" through the API, like this:\n"
                )?;
                writeln!(f, "  {create}\n")?;
                writeln!(f, "Its status at any time:\n\n  {status}")
            }
            Step::Qr {
                qr,
                phone,
                scan,
                renewed,
            } => {
                if *renewed {
                    writeln!(
                        f,
                        "\nNobody scanned in time, so the QR codes expired. A new one:"
                    )?;
                } else {
                    writeln!(
                        f,
                        "\nThe session is waiting to be linked to a phone. Its QR code:"
                    )?;
                }
                writeln!(f, "\n{}", render_qr(qr))?;
                writeln!(f, "QR text: {qr}\n")?;
                writeln!(
                    f,
                    "Scan it with the simulated phone {phone}: run this in another terminal\n"
                )?;
                writeln!(f, "  {scan}\n")?;
                writeln!(f, "Waiting for the scan...")
            }
            Step::Connected {
                phone,
                contact,
                send,
                inbox,
                reply,
            } => {
                writeln!(
                    f,
                    "\nConnected: the session \"demo\" is linked to the phone {phone}.\n"
                )?;
                writeln!(
                    f,
                    "(a) Send a WhatsApp message from the session to the contact {contact}:\n\n  {send}\n"
                )?;
                writeln!(
                    f,
                    "(b) See that the contact received it (decrypted by the simulator):\n\n  {inbox}\n"
                )?;
                writeln!(
                    f,
                    "(c) Have the contact reply; wagate logs it here as an inbound message:\n\n  {reply}\n"
                )?;
                writeln!(f, "Press Ctrl-C to stop.")
            }
            Step::Stopped { kept: Some(dir) } => {
                writeln!(f, "\nStopped. The database is kept in {}", dir.display())
            }
            Step::Stopped { kept: None } => {
                writeln!(f, "\nStopped. The temporary database is removed.")
            }
        }
    }
}

/// `text` as a QR code drawn with half blocks, light on dark, the way
/// terminal QR tools draw it; with its quiet zone so phones can scan it.
pub fn render_qr(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build(),
        Err(err) => format!("(this QR text cannot be drawn: {err})"),
    }
}
