//! Small helpers for reading and building binary nodes.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

pub const SERVER: &str = "s.whatsapp.net";

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh stanza id.
pub fn new_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

pub fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs.get(key).map(|v| v.as_str().into_owned())
}

pub fn children(node: &Node) -> &[Node] {
    node.children().unwrap_or(&[])
}

pub fn child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    node.get_optional_child(tag)
}

pub fn bytes(node: &Node) -> Option<&[u8]> {
    match node.content.as_ref()? {
        NodeContent::Bytes(b) => Some(b),
        NodeContent::String(s) => Some(s.as_bytes()),
        NodeContent::Nodes(_) => None,
    }
}

/// Big-endian unsigned integer content (prekey ids are 3 bytes).
pub fn uint(node: &Node) -> Option<u32> {
    let b = bytes(node)?;
    (b.len() <= 4).then(|| b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
}

pub fn iq_set(id: &str, xmlns: &str, child: Node) -> Node {
    NodeBuilder::new("iq")
        .attr("from", SERVER)
        .attr("type", "set")
        .attr("id", id.to_string())
        .attr("xmlns", xmlns.to_string())
        .children([child])
        .build()
}

/// The answer to a client IQ, echoing its id.
pub fn iq_result(request: &Node, children: Vec<Node>) -> Node {
    let mut b = NodeBuilder::new("iq")
        .attr(
            "from",
            attr(request, "to").unwrap_or_else(|| SERVER.to_string()),
        )
        .attr("type", "result")
        .attr("id", attr(request, "id").unwrap_or_default());
    if !children.is_empty() {
        b = b.children(children);
    }
    b.build()
}

pub fn iq_error(request: &Node, code: u16, text: &str) -> Node {
    NodeBuilder::new("iq")
        .attr(
            "from",
            attr(request, "to").unwrap_or_else(|| SERVER.to_string()),
        )
        .attr("type", "error")
        .attr("id", attr(request, "id").unwrap_or_default())
        .children([NodeBuilder::new("error")
            .attr("code", code.to_string())
            .attr("text", text.to_string())
            .build()])
        .build()
}

/// Splits `user[:device]@server` into its parts.
pub fn split_jid(jid: &str) -> Option<(String, u16, String)> {
    let (left, server) = jid.split_once('@')?;
    let (user, device) = match left.split_once(':') {
        Some((u, d)) => (u, d.parse().ok()?),
        None => (left, 0),
    };
    // `user.agent` forms (old style) carry the device after a dot.
    let user = user.split('.').next().unwrap_or(user);
    Some((user.to_string(), device, server.to_string()))
}
