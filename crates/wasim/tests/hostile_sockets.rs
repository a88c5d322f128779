//! Raw WebSockets that do not speak the protocol: wasim must hang up on
//! each of them and go on serving real clients.

mod common;

use buffa::Message as _;
use common::*;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::XxHandshakeState;
use waproto::whatsapp as wa;
use wasim::wire::frame;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Well under the server's 20 s handshake timeout: a close within this
/// window is the server reacting to the bytes, not giving up on silence.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

async fn open(sim: &wasim::Sim) -> Socket {
    tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .expect("websocket upgrade")
        .0
}

async fn send(ws: &mut Socket, bytes: Vec<u8>) {
    ws.send(Message::binary(bytes)).await.expect("send");
}

/// The next binary message, skipping control frames.
async fn recv(ws: &mut Socket) -> Vec<u8> {
    loop {
        match tokio::time::timeout(CLOSE_WITHIN, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => return b.to_vec(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
}

/// Waits for the server to end the connection (close frame, reset or EOF).
async fn assert_closed(ws: &mut Socket, case: &str) {
    let ended = tokio::time::timeout(CLOSE_WITHIN, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "{case}: server kept the socket open");
}

fn random(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

fn header_and(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = WA_CONN_HEADER.to_vec();
    for f in frames {
        out.extend(frame(f).unwrap());
    }
    out
}

/// A registration payload, as a new device sends in its XX finish.
fn registration() -> Vec<u8> {
    let key = || {
        Some(
            KeyPair::generate(&mut rand::rng())
                .public_key
                .public_key_bytes()
                .to_vec(),
        )
    };
    wa::ClientPayload {
        device_pairing_data: buffa::MessageField::some(
            wa::client_payload::DevicePairingRegistrationData {
                e_regid: Some(vec![0, 0, 0, 7]),
                e_keytype: Some(vec![5]),
                e_ident: key(),
                e_skey_id: Some(vec![0, 0, 1]),
                e_skey_val: key(),
                e_skey_sig: Some(vec![0; 64]),
                ..Default::default()
            },
        ),
        ..Default::default()
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_hung_up_on_and_real_clients_still_connect() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "no header",
            b"GET / HTTP/1.1\r\nHost: wasim\r\n\r\n".to_vec(),
        ),
        ("bad header", {
            let mut b = b"XY\x06\x03".to_vec();
            b.extend(frame(&random(40)).unwrap());
            b
        }),
        (
            "oversized edge pre-intro",
            b"ED\x00\x01\xff\xff\xff".to_vec(),
        ),
        (
            "header then random frames",
            header_and(&[random(200), random(33)]),
        ),
        ("header then an empty frame", header_and(&[Vec::new()])),
    ];
    for (case, bytes) in cases {
        let mut ws = open(&sim).await;
        send(&mut ws, bytes).await;
        assert_closed(&mut ws, case).await;
    }

    // A valid XX client hello, then garbage where the finish should be.
    let xx = XxHandshakeState::new(
        KeyPair::generate(&mut rand::rng()),
        registration(),
        &WA_CONN_HEADER,
    )
    .unwrap();
    let mut ws = open(&sim).await;
    send(&mut ws, header_and(&[xx.build_client_hello().unwrap()])).await;
    assert!(!recv(&mut ws).await.is_empty(), "server hello");
    send(&mut ws, frame(&random(120)).unwrap()).await;
    assert_closed(&mut ws, "garbage client finish").await;

    // A complete handshake as a new device, then an unencrypted frame.
    let mut xx = XxHandshakeState::new(
        KeyPair::generate(&mut rand::rng()),
        registration(),
        &WA_CONN_HEADER,
    )
    .unwrap();
    let mut ws = open(&sim).await;
    send(&mut ws, header_and(&[xx.build_client_hello().unwrap()])).await;
    let server_hello = recv(&mut ws).await;
    let finish = xx
        .read_server_hello_and_build_client_finish(&server_hello[3..])
        .expect("server hello accepted");
    send(&mut ws, frame(&finish).unwrap()).await;
    // The server offers QR refs: proof it took us for a pairing device.
    assert!(!recv(&mut ws).await.is_empty(), "pair-device iq");
    send(&mut ws, frame(&random(64)).unwrap()).await;
    assert_closed(&mut ws, "garbage after the handshake").await;

    let client = paired_client(&sim, "15550009999").await;
    assert_eq!(client.client.pn().expect("paired").user, "15550009999");
    // Only the real client's socket is left: the hostile ones were forgotten.
    admin_until(&sim, "/admin/stats", "one connection", |s| {
        s["connections"] == 1 && s["connectedDevices"] == 1
    })
    .await;
}
