//! Name resolution that drops refused addresses, so the address the
//! connection is made to is one the policy checked — a name that resolves
//! to a public address during a check and to 127.0.0.1 a moment later
//! (DNS rebinding) has no second lookup to exploit.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::policy::{AddressPolicy, Refused};

/// A `reqwest` resolver: the system resolver, filtered by an [`AddressPolicy`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: AddressPolicy,
}

/// Every address a host name resolved to is refused.
///
/// The message names the host and the reason, not the addresses: a tenant
/// should not learn what the gateway's internal names resolve to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} resolves only to addresses that are not allowed ({})", first.reason())]
pub struct HostRefused {
    pub host: String,
    /// The first refused address, for logs.
    pub first: Refused,
}

impl GuardedResolver {
    pub fn new(policy: AddressPolicy) -> Self {
        GuardedResolver { policy }
    }

    /// The error is boxed as its own type (an `io::Error` or a
    /// [`HostRefused`]) so callers can downcast it out of `reqwest`'s error.
    async fn resolve_checked(&self, host: &str) -> Result<Vec<SocketAddr>, BoxError> {
        // Port 0: reqwest puts the URL's port in afterwards.
        let resolved = tokio::net::lookup_host((host, 0)).await?;
        let mut first_refused = None;
        let allowed: Vec<SocketAddr> = resolved
            .filter(|addr| match self.policy.check_ip(addr.ip()) {
                Ok(()) => true,
                Err(refused) => {
                    tracing::debug!(host, %refused, "dropping a refused address");
                    first_refused.get_or_insert(refused);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), first_refused) {
            (true, Some(first)) => Err(Box::new(HostRefused {
                host: host.to_owned(),
                first,
            })),
            _ => Ok(allowed),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let allowed = resolver.resolve_checked(name.as_str()).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
