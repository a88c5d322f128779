//! A contact reads messages it received: read (and played) receipts go
//! back to the devices that sent them.

use crate::admin::{AdminError, phone};
use crate::world::World;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use wacore_binary::builder::NodeBuilder;

#[derive(Deserialize)]
pub struct ReadBody {
    ids: Vec<String>,
    /// `read` (default) or `played`: a voice note or video was played.
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// The contact reads messages it received: read receipts go to the devices
/// that sent them. Playing a voice note reads it too, so `played` sends a
/// read receipt and then a played one, as a phone does.
pub async fn read(
    State(world): State<Arc<World>>,
    Path(contact): Path<String>,
    body: Result<Json<ReadBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let contact = phone(&contact, "contactPhone")?;
    let kinds: &[&str] = match body.kind.as_deref().unwrap_or("read") {
        "read" => &["read"],
        "played" => &["read", "played"],
        other => {
            return Err(AdminError::BadRequest(format!(
                "type: '{other}' is not read or played"
            )));
        }
    };
    let senders: Vec<(String, String, u16)> = {
        let st = world.lock();
        let account = st
            .accounts
            .get(&contact)
            .ok_or_else(|| AdminError::NotFound(format!("no contact {contact}")))?;
        account
            .inbox
            .iter()
            .filter_map(|e| {
                let id = e["id"].as_str()?;
                let from = e["from"].as_str()?.to_string();
                let device = e["fromDevice"].as_u64()? as u16;
                body.ids
                    .iter()
                    .any(|w| w == id)
                    .then(|| (id.to_string(), from, device))
            })
            .collect()
    };
    if senders.is_empty() {
        return Err(AdminError::NotFound(
            "none of those message ids is in this contact's inbox".into(),
        ));
    }
    for (id, from, device) in &senders {
        for kind in kinds {
            let receipt = NodeBuilder::new("receipt")
                .attr("from", format!("{contact}@s.whatsapp.net"))
                .attr("id", id.clone())
                .attr("type", *kind)
                .attr("t", crate::nodes::now().to_string())
                .build();
            world.deliver(&(from.clone(), *device), receipt);
        }
    }
    let mut answer = json!({"read": senders.len()});
    if kinds.contains(&"played") {
        answer["played"] = json!(senders.len());
    }
    Ok(Json(answer))
}
