//! Pairing by code: the client asks for an 8-character code, the phone's
//! user types it in, and the two sides finish the link.

use crate::conn::Conn;
use crate::world::World;
use std::sync::Arc;
use wacore_binary::Node;

pub fn on_companion_iq(_world: &Arc<World>, _conn: &Conn, _iq: &Node) -> Option<Node> {
    None
}

pub async fn admin_enter_code() -> crate::admin::AdminError {
    crate::admin::AdminError::NotFound("no client is waiting for that code".into())
}
