//! Fault injection and unlinking: dropped sockets, stream errors, logouts.

use crate::world::World;
use wacore_binary::builder::NodeBuilder;

/// Every live connection of `phone`'s companions.
fn connections(world: &World, phone: &str) -> Vec<crate::world::ConnHandle> {
    let st = world.lock();
    st.online
        .iter()
        .filter(|((p, _), _)| p == phone)
        .filter_map(|(_, c)| st.conns.get(c).cloned())
        .collect()
}

/// Closes the sockets without a word, as a network failure would.
pub fn drop_connections(world: &World, phone: &str) -> usize {
    let conns = connections(world, phone);
    for c in &conns {
        c.close();
    }
    conns.len()
}

/// Closes every logged-in device's socket, after `<stream:error code>` when
/// a code is given. Returns how many were closed.
pub fn drop_all(world: &World, code: Option<&str>) -> usize {
    let conns: Vec<_> = {
        let st = world.lock();
        st.online
            .values()
            .filter_map(|c| st.conns.get(c).cloned())
            .collect()
    };
    for c in &conns {
        if let Some(code) = code {
            c.send(
                NodeBuilder::new("stream:error")
                    .attr("code", code.to_string())
                    .build(),
            );
        }
        c.close();
    }
    conns.len()
}

/// Sends `<stream:error code=…>` and closes: 515 asks for a restart,
/// 401 and 516 mean the device was logged out.
pub fn stream_error(world: &World, phone: &str, code: &str) -> usize {
    let conns = connections(world, phone);
    for c in &conns {
        c.send(
            NodeBuilder::new("stream:error")
                .attr("code", code.to_string())
                .build(),
        );
        c.close();
    }
    conns.len()
}

/// Another login took over: `<stream:error><conflict type="replaced"/>`.
pub fn conflict(world: &World, phone: &str) -> usize {
    let conns = connections(world, phone);
    for c in &conns {
        c.send(crate::conn::stream_error_conflict());
        c.close();
    }
    conns.len()
}

/// The phone logs out all its companions: they are told (516) and removed.
pub fn logout(world: &World, phone: &str) -> usize {
    let n = stream_error(world, phone, "516");
    if let Some(a) = world.lock().accounts.get_mut(phone) {
        a.companions.clear();
    }
    n
}

/// A companion unlinks itself.
pub fn unlink(world: &World, phone: &str, device: u16) {
    if let Some(a) = world.lock().accounts.get_mut(phone) {
        a.companions.remove(&device);
    }
}

/// How the server acknowledges the messages clients send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AckMode {
    /// Relay, then `<ack class="message">`.
    #[default]
    Normal,
    /// Relay, but the ack is lost: the sender never hears back.
    Withhold,
    /// Refuse: `<ack class="message" error=code>` and nothing is relayed.
    Nack(String),
}

/// Why a number cannot be marked as not on WhatsApp.
pub struct HasDevices(pub String);

/// Marks numbers as not on WhatsApp. A simulated contact's account goes
/// with its number (its keys no longer exist); an account with linked
/// devices is on WhatsApp by definition and is refused, none marked.
pub fn unregister(world: &World, phones: &[String]) -> Result<(), HasDevices> {
    let mut st = world.lock();
    if let Some(p) = phones.iter().find(|p| {
        st.accounts
            .get(*p)
            .is_some_and(|a| !a.companions.is_empty())
    }) {
        return Err(HasDevices(p.clone()));
    }
    for phone in phones {
        if let Some(account) = st.accounts.remove(phone) {
            st.lid_to_phone.remove(&account.lid);
        }
        st.offline.retain(|(p, _), _| p != phone);
        st.unregistered.insert(phone.clone());
    }
    Ok(())
}

/// The numbers that join WhatsApp again (all of them when `phones` is
/// `None`); their accounts are made afresh on first use.
pub fn reregister(world: &World, phones: Option<&[String]>) {
    let mut st = world.lock();
    match phones {
        Some(phones) => phones.iter().for_each(|p| {
            st.unregistered.remove(p);
        }),
        None => st.unregistered.clear(),
    }
}
